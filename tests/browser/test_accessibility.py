"""Every page, in every role's view, at a desktop and a phone size: axe-core finds nothing serious, and nothing
scrolls sideways on a 390 x 844 phone.

The pages are listed from the app's routes: a new GET route must be classified below (a page to check, or
not a page), so a new page cannot skip the check.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from tests.browser.axe import describe, failing, finish, start, with_axe
from tests.browser.world import ROLES, build_world
from tests.governance.test_route_walk import all_routes
from tests.web.helpers import PASSWORD

pytestmark = pytest.mark.browser

DESKTOP, PHONE = (1440, 900), (390, 844)
FINDINGS = Path(tempfile.gettempdir()) / "onevoice-axe-findings.json"
# GET routes that are pages people read, with the address visited ({...} from the world).
PAGES = {
    "/inbox": "/inbox", "/cases/{case_id}": "/cases/{legal_case}", "/notifications": "/notifications",
    "/library": "/library", "/approvals": "/approvals", "/posts": "/posts", "/incidents": "/incidents",
    "/routing/playbook": "/routing/playbook", "/triage/models": "/triage/models",
    "/governance/policy": "/governance/policy",
    "/governance/policy/team": "/governance/policy/team", "/governance/guard": "/governance/guard",
    "/governance/approvals": "/governance/approvals", "/governance/audit": "/governance/audit",
    "/governance/accounts": "/governance/accounts", "/governance/users": "/governance/users",
    "/governance/tokens": "/governance/tokens", "/governance/sessions": "/governance/sessions",
    "/governance/privacy": "/governance/privacy?q=a", "/governance/retention": "/governance/retention",
    "/governance/privacy/contacts/{contact_id}": "/governance/privacy/contacts/{contact}",
    "/advocates": "/advocates", "/advocates/{contact_id}": "/advocates/{advocate}", "/advocacy": "/advocacy",
    "/advocacy/participation": "/advocacy/participation", "/advocacy/voice": "/advocacy/voice",
    "/advocacy/voice/review": "/advocacy/voice/review",
    "/reports": "/reports", "/reports/cases": "/reports/cases?figure=cases",
    "/me/notifications": "/me/notifications",
    # connecting channels (admins; others see the 403 page); the callback without a sign-in is its error page.
    # The pick and result pages come only out of a flow: checked in test_connect_flow.py
    "/governance/accounts/connect": "/governance/accounts/connect",
    "/governance/accounts/connect/{kind}": "/governance/accounts/connect/email",
    "/governance/accounts/connect/callback": "/governance/accounts/connect/callback?state=unknown&code=x",
}
# Pages that show who else is on them (the case page's presence): checked one role at a time.
SEEN_TOGETHER = {"/cases/{case_id}"}
# Checked on their own: the sign-in page (signed out) and the error page (a case that does not exist).
SIGNED_OUT = {"/login": "/login"}
ERROR_PAGE = "/cases/987654321"
NOT_PAGES = {
    # fragments the pages fetch, streams, files, redirects, exports and machine endpoints
    "/inbox/rows", "/inbox/row/{case_id}", "/inbox/rail", "/cases/{case_id}/parts", "/cases/{case_id}/answers",
    "/live", "/", "/governance", "/login/sso", "/login/sso/callback", "/governance/audit/export",
    "/governance/static/governance.css", "/posts/static/{name}", "/openapi.json", "/docs/oauth2-redirect",
    "/reports/cases.csv", "/reports/export/{table}.csv", "/reports/static/reports.css",
    "/healthz", "/readyz", "/metrics", "/webhooks/{key}", "/favicon.ico", "/manifest.webmanifest",
    "/advocates/export.csv", "/advocacy/static/advocacy.css", "/s/{code}", "/advocacy/items/{item_id}/share/{network}",
    # FastAPI's API reference (Swagger UI, ReDoc): third-party pages, not OneVoice's
    "/docs", "/redoc",
}


def page_routes(server) -> set[str]:
    app = server.app
    return {path for method, path in all_routes(app) if method == "GET" and not path.startswith("/api/")}


def check(pages: dict, found: dict, problems: list) -> None:
    """Both sizes for every page in `pages` (where -> page, each loaded): axe runs on all of them at once (each
    page is its own renderer process, so a two-core machine checks two at a time)."""
    for page in pages.values():
        page.wait_for_load_state("load")
    for size, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        for page in pages.values():
            page.set_viewport_size({"width": size[0], "height": size[1]})
        next(iter(pages.values())).wait_for_timeout(50)
        for page in pages.values():
            start(page)
        for where, page in pages.items():
            all_found = finish(page)
            found[f"{where} @{name}"] = {v["id"]: [v["impact"], len(v["nodes"])] for v in all_found}
            problems.extend(describe(f"{where} @{name}", failing(all_found)))
            if name == "phone":
                wide = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
                if wide[0] > wide[1]:
                    problems.append(f"{where} @phone: scrolls sideways ({wide[0]} px wide in {wide[1]})")


# Seven roles x every page x two sizes: longer than the suite's 300 s default on a busy two-core machine.
@pytest.mark.timeout(1200)
def test_every_page_for_every_role_has_no_serious_axe_finding_and_fits_a_phone(server, settings, chromium):
    """Each role signs in in a browser context of its own; page by page, every role's view is loaded and axe runs
    on all of them at once, at each size. The same checks as one role after the other (every role, page and size
    gets its full axe run and the phone's width check, on the page as that role sees it), in about half the time
    on two cores. The case page, where people see who else is on it, is checked one role at a time."""
    unclassified = page_routes(server) - set(PAGES) - set(SIGNED_OUT) - NOT_PAGES
    assert not unclassified, f"classify these GET routes in PAGES or NOT_PAGES: {sorted(unclassified)}"
    world = build_world(server, settings)
    found: dict[str, dict] = {}
    problems: list[str] = []

    context = chromium.new_context(viewport={"width": DESKTOP[0], "height": DESKTOP[1]})
    with_axe(context)
    page = context.new_page()
    for path in SIGNED_OUT.values():
        page.goto(server.url + path)
        check({f"signed out {path}": page}, found, problems)
    context.close()

    contexts, pages = [], {}
    for role, email in ROLES.items():
        context = chromium.new_context(viewport={"width": DESKTOP[0], "height": DESKTOP[1]})
        contexts.append(context)
        with_axe(context)
        page = pages[role] = context.new_page()
        page.goto(server.url + "/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/inbox**")
    for route, address in [*PAGES.items(), ("error page", ERROR_PAGE)]:
        # People on the same case see each other ("Lee is viewing"): the case page is checked as one person sees
        # it alone, as it always was, one role after the other.
        batches = [[role] for role in pages] if route in SEEN_TOGETHER else [list(pages)]
        for batch in batches:
            for role in batch:
                pages[role].set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
                pages[role].goto(server.url + address.format(**world))
            check({f"{role} {route}": pages[role] for role in batch}, found, problems)
            if route in SEEN_TOGETHER:
                pages[batch[0]].goto("about:blank")  # gone from the case before the next role opens it
    for context in contexts:
        context.close()

    # Every finding of every impact, page by page, for whoever wants to read more than the failures.
    FINDINGS.write_text(json.dumps(found, indent=1, sort_keys=True))
    assert not problems, "\n".join(problems)
