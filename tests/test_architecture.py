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


def _private_uses(source: str, own: str) -> list[str]:
    """Private names (`_name`, not dunders) of another onevoice package that this module reaches: imported by name,
    from a private module, or read as an attribute of a module it imported (`service._defaults`)."""
    import ast

    def private(name: str) -> bool:
        return name.startswith("_") and not name.startswith("__")

    tree = ast.parse(source)
    found, modules = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("onevoice.") and not node.level:
            other = node.module.split(".")[1]
            if other == own:
                continue
            names = [a.name for a in node.names if private(a.name)]
            names += [node.module] if any(private(part) for part in node.module.split(".")) else []
            found += [f"{node.lineno} {node.module} {n}" for n in names]
            modules.update({a.asname or a.name: other for a in node.names})
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("onevoice.") and a.name.split(".")[1] != own:
                    if any(private(part) for part in a.name.split(".")):
                        found.append(f"{node.lineno} {a.name}")
                    if a.asname:
                        modules[a.asname] = a.name.split(".")[1]
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and private(node.attr) and isinstance(node.value, ast.Name)
                and node.value.id in modules):
            found.append(f"{node.lineno} {node.value.id}.{node.attr}")
    return found


def test_no_private_name_is_imported_from_another_package():
    """A name starting with `_` is its package's own business: another package uses only public names."""
    src = ROOT / "src" / "onevoice"
    found = [f"{path.relative_to(src)}:{where}" for path in src.rglob("*.py")
             for where in _private_uses(path.read_text(), path.relative_to(src).parts[0].removesuffix(".py"))]
    assert found == []


def test_the_private_name_rule_sees_each_way_in():
    sample = ("from onevoice.channels.service import _defaults, split_config\n"
              "from onevoice.cases import service as cases\n"
              "from onevoice.teams import service\n"
              "import onevoice.contacts._names as names\n"
              "from onevoice.inbox.queries import _own\n"
              "cases._attach_names(1)\nservice.__name__\nservice.KEY\n")
    assert _private_uses(sample, "inbox") == ["1 onevoice.channels.service _defaults", "4 onevoice.contacts._names",
                                              "6 cases._attach_names"]


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
            where = f"{path.relative_to(src)}:{node.lineno}"
            missing += [f"{where} {n}" for n in names if importlib.util.find_spec(n) is None]
    assert missing == []


EDGE_NAMES = ("api.py", "views.py", "page.py", "pages.py")
# What an edge may take from SQLAlchemy: the Session type for its dependencies and the errors it maps to HTTP.
EDGE_SQLALCHEMY = {"sqlalchemy.orm": {"Session"}, "sqlalchemy.exc": None}
QUERY_METHODS = {"execute", "scalar", "scalars", "query", "get"}


def _edge_modules() -> list[Path]:
    """The edges: every module that imports the web framework, and every api/views/page module by its name."""
    import ast

    src = ROOT / "src" / "onevoice"
    edges = []
    for path in sorted(src.rglob("*.py")):
        tree = ast.parse(path.read_text())
        web = any((isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] in ("fastapi", "starlette"))
                  or (isinstance(n, ast.Import) and any(a.name.split(".")[0] in ("fastapi", "starlette")
                                                         for a in n.names)) for n in ast.walk(tree))
        if web or path.name.endswith(EDGE_NAMES):
            edges.append(path)
    return edges


def _queries_in(source: str) -> list[str]:
    """Where a module imports a SQLAlchemy query construct or runs a statement on a session."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            allowed = EDGE_SQLALCHEMY.get(node.module, set())
            found += [f"{node.lineno} imports {node.module}.{a.name}" for a in node.names
                      if allowed is not None and a.name not in allowed]
        elif isinstance(node, ast.Import) and any(a.name.split(".")[0] == "sqlalchemy" for a in node.names):
            found.append(f"{node.lineno} imports sqlalchemy")
        elif isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id == "select":
                found.append(f"{node.lineno} calls select(")
            elif (isinstance(f, ast.Attribute) and f.attr in QUERY_METHODS and isinstance(f.value, ast.Name)
                  and "session" in f.value.id.lower()):
                found.append(f"{node.lineno} calls {f.value.id}.{f.attr}(")
    return found


def test_views_and_apis_hold_no_queries():
    """Routes and pages parse input, call a service and render (CONVENTIONS, rule 2): the queries live in the
    feature's service or repository under a name that says what they fetch. An edge module neither imports a
    SQLAlchemy query construct (select, func, text...) nor runs a statement on a session."""
    src = ROOT / "src" / "onevoice"
    found = [f"{path.relative_to(src)}:{where}" for path in _edge_modules() for where in _queries_in(path.read_text())]
    assert found == []


def test_the_edge_rule_sees_a_query():
    """The rule above reads what it should: the edges include the pages and APIs, and each kind of query is caught
    while a session's type and the database errors stay allowed."""
    names = {p.relative_to(ROOT / "src" / "onevoice").as_posix() for p in _edge_modules()}
    assert {"desk/page.py", "governance/views.py", "governance/sso.py", "ops/api.py", "web/deps.py"} <= names
    sample = (
        "from sqlalchemy.orm import Session\nfrom sqlalchemy.exc import OperationalError\n"
        "from sqlalchemy import select, func\nimport sqlalchemy\n"
        "def page(session: Session):\n"
        "    session.execute(select(1))\n    read_session.scalars(q)\n    session.get(User, 1)\n"
        "    request.query_params.get('x')\n    form.get('y')\n")
    assert sorted(_queries_in(sample)) == ["3 imports sqlalchemy.func", "3 imports sqlalchemy.select",
                                           "4 imports sqlalchemy", "6 calls select(", "6 calls session.execute(",
                                           "7 calls read_session.scalars(", "8 calls session.get("]


def test_routes_and_commands_are_registered_in_one_place_without_importlib():
    """Every router and page is added in app._register_routes (web/pages.add_pages does the adding), every group
    of commands in cli/main.py, all by plain imports: no module is loaded by name, so the import graph (and
    import-linter) sees every dependency."""
    import ast

    src = ROOT / "src" / "onevoice"
    by_name, registering = [], set()
    for path in src.rglob("*.py"):
        where = path.relative_to(src).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in ("import_module", "__import__"):
                    by_name.append(f"{where}:{node.lineno}")
                elif name in ("include_router", "add_pages", "add_typer"):
                    registering.add(where)
    assert by_name == []
    assert registering == {"app.py", "web/pages.py", "cli/main.py", "cli/triage.py"}


# Third-party packages a function may import for itself: optional at run time (Redis only in a scale-out
# deployment; scikit-learn and scipy only with the `train` extra; Playwright only in tests) or heavy to load
# and needed by one path (the SDK session of requests, the sentiment lexicon, the language model, uvicorn).
OPTIONAL_OR_HEAVY = {"redis", "sklearn", "scipy", "numpy", "onnxruntime", "torch", "playwright", "fasttext",
                     "vaderSentiment", "requests", "urllib3", "uvicorn"}
SAYS_WHY = ("optional", "heavy")


def _inner_imports(source: str) -> list[tuple[int, str, bool]]:
    """(line, module, commented) of every import made inside a function (annotations under `if TYPE_CHECKING`
    are not imports at run time). `commented`: a comment saying it is optional or heavy stands on its line or on
    the line just above, or on the line above a run of imports it begins."""
    import ast
    import io
    import tokenize

    comments = {tok.start[0]: tok.string.lower() for tok in tokenize.generate_tokens(io.StringIO(source).readline)
                if tok.type == tokenize.COMMENT}
    blank = {n for n, line in enumerate(source.split("\n"), 1) if not line.strip()}
    tree = ast.parse(source)
    inner = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if in_function and isinstance(child, ast.Import | ast.ImportFrom):
                module = child.module if isinstance(child, ast.ImportFrom) else child.names[0].name
                inner.append((child.lineno, child.end_lineno or child.lineno, module or "."))
            visit(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))

    visit(tree, False)
    found, said = [], {}
    for start, end, module in sorted(inner):
        says = any(word in comments.get(n, "") for n in range(start - 1, end + 1) for word in SAYS_WHY)
        before = start - 1
        while before in blank:  # a run of imports may be split in groups (standard library, others, ours)
            before -= 1
        says = says or said.get(before, False)  # the next import of a run the comment above began
        said[end] = says
        found.append((start, module, says))
    return found


def test_imports_inside_functions_are_optional_or_heavy_and_say_so():
    """An import belongs at the top of its module. One inside a function is kept only for a dependency that is
    optional at run time or heavy and needed by one path (a CLI command loads only what it runs), with a comment
    on its line or just above that says so; a third-party one must also be on the list above."""
    src = ROOT / "src" / "onevoice"
    bad = []
    for path in sorted(src.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for line, module, says in _inner_imports(path.read_text()):
            top = module.split(".")[0]
            listed = top in ("onevoice", ".") or top in OPTIONAL_OR_HEAVY
            if not says or not listed:
                bad.append(f"{path.relative_to(src)}:{line} {module}" + ("" if says else " (no comment says why)"))
    assert bad == [], f"{len(bad)} imports inside functions:\n" + "\n".join(bad)


def test_the_inner_import_rule_reads_comments():
    sample = ("import os\n"
              "def f():\n"
              "    # heavy: the whole web app\n"
              "    from onevoice.app import create_app\n"
              "\n"
              "    from onevoice.runtime import build_runtime\n"
              "    x = 1\n"
              "    import json\n"
              "    import redis  # optional: scale-out only\n"
              "    if TYPE_CHECKING:\n"
              "        from onevoice.process import Runtime\n")
    assert _inner_imports(sample) == [(4, "onevoice.app", True), (6, "onevoice.runtime", True), (8, "json", False),
                                      (9, "redis", True)]
