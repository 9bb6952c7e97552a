"""Every file the package reads at run time ships in the wheel: a `pip install onevoice` user gets the icons,
the manifest, the API docs' assets and the training data, not only a checkout does."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "onevoice"
PATTERNS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
    "package-data"]["onevoice"]
# Files in the tree that are not part of the package: bytecode and editors' leftovers.
NOT_SHIPPED = ("*.py", "*.pyc", "*~", ".*")


def test_every_non_python_file_in_the_package_is_matched_by_package_data():
    missing = []
    for path in PACKAGE.rglob("*"):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        name = path.name
        if any(fnmatch.fnmatch(name, skip) for skip in NOT_SHIPPED):
            continue
        # setuptools' "**/*.ext" matches at any depth, including the package root.
        if not any(fnmatch.fnmatch(name, pattern.rsplit("/", 1)[-1]) for pattern in PATTERNS):
            missing.append(str(path.relative_to(PACKAGE)))
    assert not missing, f"add a package-data pattern in pyproject.toml for: {sorted(missing)}"
