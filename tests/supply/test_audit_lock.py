"""`make audit` (scripts/audit_lock.py): pip-audit run for real on a lock, against a stand-in PyPI on loopback.

It must fail on a pinned release with a published advisory, pass a clean lock, and never call a lock clean
when the advisory service could not be asked (pip-audit alone does: see test_mirror_without_the_api...).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.supply.fake_pypi import FakePyPI

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "audit_lock.py"
LOCK_TEXT = """\
requests==2.31.0 \\
    --hash=sha256:58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f
idna==3.15 \\
    --hash=sha256:0e1f8a7ad8bd4e37b9e4b3c5a1c8b7fb0a3b6c7e8d9a0b1c2d3e4f5a6b7c8d9e
"""
NETRC_LEAK = {"id": "GHSA-9hjg-9r4m-mvj7", "aliases": ["CVE-2024-47081"], "fixed_in": ["2.32.4"],
              "summary": "Requests vulnerable to .netrc credentials leak via malicious URLs",
              "details": "...", "link": "https://osv.dev/vulnerability/GHSA-9hjg-9r4m-mvj7", "source": "osv",
              "withdrawn": None, "published": "2025-06-09T19:06:08Z"}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def lock(tmp_path) -> Path:
    path = tmp_path / "lock.txt"
    path.write_text(LOCK_TEXT)
    return path


def _audit(lock: Path, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    # Its own cache, so that no answer is remembered between tests (or in the user's pip cache).
    return _run([str(SCRIPT), str(lock), "--cache-dir", str(tmp_path / "cache")], env)


def test_a_pinned_release_with_an_advisory_fails_and_names_the_fix(lock, tmp_path):
    with FakePyPI(tmp_path, {"requests==2.31.0": [NETRC_LEAK]}) as pypi:
        done = _audit(lock, pypi.env(dict(os.environ)), tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "VULNERABLE: requests 2.31.0: CVE-2024-47081 (GHSA-9hjg-9r4m-mvj7); fixed in 2.32.4" in done.stderr
    assert sorted(pypi.asked) == ["/pypi/idna/3.15/json", "/pypi/requests/2.31.0/json"]


def test_a_clean_lock_passes(lock, tmp_path):
    with FakePyPI(tmp_path) as pypi:
        done = _audit(lock, pypi.env(dict(os.environ)), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok: 2 locked packages checked, no known vulnerabilities" in done.stdout


def test_mirror_without_the_api_is_not_audited_although_pip_audit_says_clean(lock, tmp_path):
    """What happens behind a PyPI mirror that has no per-release JSON (this build machine's): every package is
    skipped. pip-audit exits 0 saying "No known vulnerabilities found"; `make audit` says nothing was proven."""
    with FakePyPI(tmp_path, missing=True) as pypi:
        env = pypi.env(dict(os.environ))
        plain = _run(["-m", "pip_audit", "-r", str(lock), "--disable-pip", "--require-hashes",
                      "--progress-spinner", "off", "--cache-dir", str(tmp_path / "plain-cache")], env)
        done = _audit(lock, env, tmp_path)
    assert plain.returncode == 0 and "No known vulnerabilities found" in plain.stdout + plain.stderr
    assert done.returncode == 2, done.stdout + done.stderr
    assert "NOT AUDITED: 2 of 2 locked packages could not be looked up" in done.stderr


def test_an_unreachable_service_is_not_audited(lock, tmp_path):
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {**os.environ, "HTTPS_PROXY": f"http://127.0.0.1:{port}", "https_proxy": f"http://127.0.0.1:{port}",
           "NO_PROXY": "", "no_proxy": ""}
    done = _audit(lock, env, tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "NOT AUDITED: pip-audit could not check the lock" in done.stderr
    assert "ok:" not in done.stdout


def test_every_pin_of_the_real_lock_is_audited(tmp_path):
    """Every pin in requirements-lock.txt reaches the advisory service, those for other Pythons and platforms
    too (numpy for 3.12+, colorama on Windows), which pip-audit alone skips by their markers."""
    real = ROOT / "requirements-lock.txt"
    pins = {(re.sub(r"[-_.]+", "-", name).lower(), version)
            for name, version in re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", real.read_text(), re.M)}
    assert ("colorama", "0.4.6") in pins and len({name for name, _ in pins}) < len(pins)  # what this is about
    with FakePyPI(tmp_path) as pypi:
        done = _audit(real, pypi.env(dict(os.environ)), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert {tuple(path.split("/")[2:4]) for path in pypi.asked} == pins
    assert f"ok: {len(pins)} locked packages checked" in done.stdout
