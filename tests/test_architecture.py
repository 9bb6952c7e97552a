"""The architecture's contracts (.importlinter) hold: layers point down, no package circles, connectors stay
apart, services never import the web framework. Runs in `make test` and CI, so a new import that crosses a
layer fails here with import-linter's explanation (the chain of imports) in the assertion message."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")


def test_import_contracts_are_kept():
    result = subprocess.run([str(LINT), "--no-cache", "--no-logo"], cwd=ROOT, capture_output=True, text=True,
                            timeout=240)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_every_package_is_in_a_layer():
    """`exhaustive = True` makes import-linter refuse a package missing from the layers; this says which."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    layered = {part.strip() for line in config["importlinter:contract:layers"]["layers"].split("\n")
               for part in line.split(":") if part.strip()}
    src = ROOT / "src" / "onevoice"
    parts = {p.stem if p.is_file() else p.name for p in src.iterdir()
             if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.stem != "__init__")}
    assert parts - layered - {"migrations"} == set()


def test_no_private_name_is_imported_from_another_package():
    """A name starting with `_` is its package's own business: another package imports only public names."""
    import ast

    src = ROOT / "src" / "onevoice"
    found = []
    for path in src.rglob("*.py"):
        own = path.relative_to(src).parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("onevoice.") and not node.level:
                other = node.module.split(".")[1]
                private = [a.name for a in node.names if a.name.startswith("_")]
                if other != own and private:
                    found.append(f"{path.relative_to(src)}:{node.lineno} {node.module} {private}")
    assert found == []


def test_every_import_of_onevoice_names_a_module_that_exists():
    """import-linter ignores an import of a module that does not exist; one inside a function would only fail
    when that function runs (a moved module, an import not updated)."""
    import ast
    import importlib.util

    src = ROOT / "src" / "onevoice"
    missing = []
    for path in src.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("onevoice"):
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("onevoice")]
            else:
                continue
            missing += [f"{path.relative_to(src)}:{node.lineno} {n}" for n in names if importlib.util.find_spec(n) is None]
    assert missing == []
