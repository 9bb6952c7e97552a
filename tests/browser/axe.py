"""axe-core in the browser tests: the accessibility rules every page is checked against.

axe-core is vendored beside this file (vendor/axe-4.14.1.min.js, MPL-2.0, from the npm package `axe-core`
4.14.1, sha256 29348999...5c; license files next to it) so that the suite needs no network and no npm at test
time. It is injected as an init script of the test's browser context (Chrome DevTools, which the pages'
Content-Security-Policy does not govern): the pages themselves never load it.
"""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
# Serious and critical findings fail a page; so do the landmark and heading rules the pages promised to keep
# (axe rates those moderate or minor, but a page without <main> or a heading is hard to use with a reader).
FAILING_IMPACTS = ("serious", "critical")
ALSO_FAILING = ("landmark-one-main", "page-has-heading-one", "empty-table-header", "skip-link", "region",
                "heading-order", "landmark-unique", "landmark-no-duplicate-main")

_RUN = """async () => {
  const r = await axe.run(document, {resultTypes: ["violations"]});
  return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), html: n.html.slice(0, 160),
                                summary: (n.failureSummary || "").slice(0, 300)}))}));
}"""


def with_axe(context) -> None:
    """Make axe available on every page this browser context opens."""
    context.add_init_script(path=str(AXE))


def violations(page) -> list[dict]:
    """Every axe violation on the page as it is now (all rules axe runs by default)."""
    return page.evaluate(_RUN)


def start(page) -> None:
    """Begin the same run as `violations` without waiting for it, so that several pages (each its own renderer
    process) are checked at once; `finish` waits for its answer."""
    page.evaluate(f"() => {{ window.__onevoiceAxe = ({_RUN})(); }}")


def finish(page) -> list[dict]:
    """What the run `start` began found."""
    return page.evaluate("() => window.__onevoiceAxe")


def failing(found: list[dict]) -> list[dict]:
    return [v for v in found if v["impact"] in FAILING_IMPACTS or v["id"] in ALSO_FAILING]


def describe(where: str, found: list[dict]) -> list[str]:
    lines = []
    for v in found:
        nodes = "; ".join(f"{n['target']} ({n['summary'].splitlines()[-1].strip() if n['summary'] else ''})"
                          for n in v["nodes"][:4])
        lines.append(f"{where}: {v['id']} [{v['impact']}] x{len(v['nodes'])}: {v['help']} -> {nodes}")
    return lines
