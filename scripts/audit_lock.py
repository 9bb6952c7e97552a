"""`make audit`: check every package pinned in the lock against the published vulnerability advisories.

Runs pip-audit on the lock as it is written (hashed pins, nothing resolved or installed) and reads its JSON
report, because pip-audit's own summary can mislead: when the advisory service cannot be asked about a
package (offline, behind a proxy, a mirror of PyPI without its per-release JSON API) pip-audit *skips* that
package and still prints "No known vulnerabilities found" with exit status 0. Here a skipped package counts
as not audited, never as clean.

The lock is universal: a few packages are pinned twice, for different Pythons or platforms (numpy for 3.11
and for 3.12+, colorama on Windows only). pip-audit would check only the pins whose markers match the Python
running it, so every pin is audited here, markers aside, in as many passes as a package has pins.

Exit status: 0 every package was checked and none has a known vulnerability; 1 at least one pinned
release has a published advisory (each is listed with the releases that fix it); 2 the audit could not be
done (the service was unreachable, or some packages could not be looked up), so nothing is proven.

    python scripts/audit_lock.py requirements-lock.txt [pip-audit options, e.g. -s osv or --ignore-vuln ID]
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CLEAN, VULNERABLE, NOT_AUDITED = 0, 1, 2


@dataclass
class Outcome:
    status: int
    checked: int = 0
    vulnerable: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    error: str | None = None

    def lines(self) -> list[str]:
        if self.error is not None:
            return [f"NOT AUDITED: pip-audit could not check the lock ({self.error}).",
                    "Nothing is proven either way; run `make audit` where PyPI (or OSV with -s osv) is reachable."]
        out = [f"VULNERABLE: {line}" for line in self.vulnerable]
        if self.skipped:
            out.append(f"NOT AUDITED: {len(self.skipped)} of {self.checked + len(self.skipped)} locked packages "
                       f"could not be looked up, for example {self.skipped[0]}")
            out.append("Nothing is proven for them; run `make audit` where the advisory service is reachable.")
        if self.status == CLEAN:
            out.append(f"ok: {self.checked} locked packages checked, no known vulnerabilities")
        return out


def judge(report: dict) -> Outcome:
    """Read pip-audit's JSON report (`--format json`): what was checked, what is vulnerable, what was skipped."""
    checked, vulnerable, skipped = 0, [], []
    for dep in report.get("dependencies", []):
        name = dep.get("name", "?")
        if dep.get("skip_reason"):
            skipped.append(f"{name}: {dep['skip_reason']}")
            continue
        checked += 1
        for vuln in dep.get("vulns", []):
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
            aliases = ", ".join(vuln.get("aliases") or [])
            vulnerable.append(f"{name} {dep.get('version', '?')}: {vuln.get('id', '?')}"
                              f"{f' ({aliases})' if aliases else ''}; fixed in {fixes}")
    status = VULNERABLE if vulnerable else NOT_AUDITED if skipped or not checked else CLEAN
    return Outcome(status, checked, vulnerable, skipped)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def passes(lock_text: str) -> list[str]:
    """The lock's pins without their environment markers, split into requirement files that each pin a
    package at most once (pip-audit refuses a file that names a package twice)."""
    layers: list[list[str]] = []
    seen: dict[str, int] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", lock_text):  # each pin starts at column 0; hashes follow
        pin = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==[^\s;]+", block)
        if not pin:
            continue  # the header comment
        name = re.sub(r"[-_.]+", "-", pin.group(1)).lower()
        nth = seen[name] = seen.get(name, -1) + 1
        while len(layers) <= nth:
            layers.append([])
        layers[nth].append(pin.group(0) + re.sub(r"^[^\\\n]*", " ", block, count=1))
    return ["\n".join(layer) + "\n" for layer in layers]


def audit(lock: Path, extra: list[str], python: str = sys.executable) -> Outcome:
    if not lock.is_file():
        return Outcome(NOT_AUDITED, error=f"{lock} does not exist")
    dependencies: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="onevoice-audit-") as tmp:
        for n, text in enumerate(passes(lock.read_text(encoding="utf-8"))):
            requirements, report_path = Path(tmp) / f"pass{n}.txt", Path(tmp) / f"report{n}.json"
            requirements.write_text(text, encoding="utf-8")
            # --disable-pip + --require-hashes: audit the pins as written, without resolving or installing.
            cmd = [python, "-m", "pip_audit", "--requirement", str(requirements), "--disable-pip",
                   "--require-hashes", "--progress-spinner", "off", "--format", "json", "--output",
                   str(report_path), *extra]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if not report_path.is_file() or not report_path.stat().st_size:
                return Outcome(NOT_AUDITED, error=_last_line(done.stderr or done.stdout))
            dependencies += json.loads(report_path.read_text(encoding="utf-8")).get("dependencies", [])
    return judge({"dependencies": dependencies})


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return NOT_AUDITED
    outcome = audit(Path(argv[0]), argv[1:])
    for line in outcome.lines():
        print(line, file=sys.stderr if outcome.status else sys.stdout)
    return outcome.status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
