"""requirements-lock.txt agrees with pyproject.toml: `make install` installs only from the lock, so a bound
raised in pyproject.toml (a security floor) and not re-locked would otherwise never reach anyone."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCK = (ROOT / "requirements-lock.txt").read_text(encoding="utf-8")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)(?: ;[^\\\n]*)?((?:\s*\\\n\s+--hash=\S+)*)", re.M)


def _pins() -> dict[str, list[tuple[Version, int]]]:
    """name -> [(version, number of hashes)] (a name is pinned twice when Pythons or platforms differ)."""
    pins: dict[str, list[tuple[Version, int]]] = {}
    for name, version, hashes in PIN.findall(LOCK):
        pins.setdefault(canonicalize_name(name), []).append((Version(version), hashes.count("--hash=sha256:")))
    return pins


def _declared() -> list[tuple[str, Requirement]]:
    project = PROJECT["project"]
    sources = {"dependencies": project["dependencies"], "[build-system] requires": PROJECT["build-system"]["requires"]}
    sources |= {f"extra {name}": project["optional-dependencies"][name] for name in ("test", "train")}
    sources |= {f"group {name}": reqs for name, reqs in PROJECT["dependency-groups"].items()}
    return [(where, Requirement(text)) for where, reqs in sources.items() for text in reqs]


PINS = _pins()


@pytest.mark.parametrize(("where", "requirement"), _declared(), ids=lambda v: str(v))
def test_every_declared_requirement_is_locked_within_its_bounds(where, requirement):
    pinned = PINS.get(canonicalize_name(requirement.name))
    assert pinned, f"{requirement} ({where}) is not in requirements-lock.txt: run `make lock`"
    for version, _ in pinned:
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{requirement.name} is locked at {version}, outside {requirement} ({where}): run `make lock`")


def test_every_pin_carries_its_hashes():
    assert len(PINS) > 50  # the pattern read the lock
    unhashed = [f"{name}=={version}" for name, versions in PINS.items() for version, hashes in versions if not hashes]
    assert unhashed == []


def test_the_build_model_extra_is_not_locked():
    """torch and the encoder build stay in their own virtualenv (scripts/build_encoder.py), never the lock."""
    build_model = PROJECT["project"]["optional-dependencies"]["build-model"]
    only_there = {canonicalize_name(Requirement(r).name) for r in build_model}
    shared = {canonicalize_name(r.name) for _, r in _declared()}
    assert "torch" in only_there and not (only_there - shared) & PINS.keys()


def test_the_build_group_is_what_the_build_system_requires():
    """`make install` builds OneVoice without isolation, with the build group's locked packages."""
    build = {str(Requirement(r)) for r in PROJECT["build-system"]["requires"]}
    group = {str(Requirement(r)) for r in PROJECT["dependency-groups"]["build"]}
    assert build <= group and {Requirement(r).name for r in group - build} == {"pip"}
