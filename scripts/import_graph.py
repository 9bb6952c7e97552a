"""Draw OneVoice's package graph from the code's own imports: cycles, function-level imports.

`python scripts/import_graph.py` prints every pair of packages that import each other and the count of
imports made inside functions (each should be an optional heavy dependency, with a comment saying so).
`--edges` also prints every package -> package arrow with the files that make it.
"""
from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src" / "onevoice"


def _part(module: str) -> str | None:
    """The top part of onevoice a module belongs to: `onevoice.cases.service` -> `cases`."""
    bits = module.split(".")
    if bits[0] != "onevoice" or len(bits) < 2:
        return None
    return bits[1]


def _module_of(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, module: str, is_pkg: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_pkg:
        base = base[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _type_only(node: ast.AST) -> bool:
    parent = getattr(node, "_parent", None)
    while parent is not None:
        if isinstance(parent, ast.If) and "TYPE_CHECKING" in ast.unparse(parent.test):
            return True
        parent = getattr(parent, "_parent", None)
    return False


def scan() -> tuple[dict[tuple[str, str], set[str]], list[str]]:
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    inner: list[str] = []
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        module = _module_of(path)
        src = _part(module) or "onevoice"
        tree = ast.parse(path.read_text(), str(path))
        top_level = set()
        for stmt in ast.walk(tree):
            for child in ast.iter_child_nodes(stmt):
                child._parent = stmt  # type: ignore[attr-defined]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(node, module, path.name == "__init__.py")
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            else:
                continue
            parent = getattr(node, "_parent", None)
            if _type_only(node):
                continue  # an annotation, not a dependency at run time (import-linter skips it too)
            in_func = False
            while parent is not None:
                if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    in_func = True
                    break
                parent = getattr(parent, "_parent", None)
            if in_func and any(t.startswith("onevoice") for t in targets):
                inner.append(f"{path.relative_to(ROOT.parent)}:{node.lineno} {targets[0]}")
            if in_func and not any(t.startswith("onevoice") for t in targets):
                inner.append(f"{path.relative_to(ROOT.parent)}:{node.lineno} {targets[0]} (third party)")
            dst = _part(targets[0]) if targets[0].startswith("onevoice") else None
            if dst and dst != src and (src != "onevoice"):
                edges[(src, dst)].add(f"{path.relative_to(ROOT.parent)}:{node.lineno}")
    return edges, inner


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--edges", action="store_true")
    ap.add_argument("--inner", action="store_true", help="list the function-level imports")
    args = ap.parse_args()
    edges, inner = scan()
    pairs = sorted({tuple(sorted(k)) for k in edges if (k[1], k[0]) in edges})
    for a, b in pairs:
        print(f"cycle  {a} <-> {b}   {a}->{b}: {sorted(edges[(a, b)])[:3]}  {b}->{a}: {sorted(edges[(b, a)])[:3]}")
    if args.edges:
        for (a, b), where in sorted(edges.items()):
            print(f"edge  {a} -> {b}  {len(where)}: {sorted(where)[:4]}")
    if args.inner:
        for line in inner:
            print("inner ", line)
    print(f"{len(pairs)} package pairs import each other; {len(edges)} package arrows; "
          f"{len(inner)} imports inside functions "
          f"({sum(1 for i in inner if 'third party' not in i)} of onevoice modules)")
    return 1 if pairs else 0


if __name__ == "__main__":
    sys.exit(main())
