"""Connecting each platform from the Accounts page in a real browser, at desktop and phone sizes.

The platform's sign-in page is a small fake provider served to the browser (Playwright answers the platform's
authorize address with a consent page whose Authorize and Deny links go back to OneVoice's callback, as the
real ones do); OneVoice's server-side calls (app registration, token exchange, the account, the test) are
mocked at the transport edge with respx and responses, shaped like the platforms' documented answers. Each run
ends on the result page with the test and the webhook address, checked with axe and kept as a screenshot.
"""

from __future__ import annotations

import base64
import html
import json
import re
import time
from contextlib import ExitStack
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from onevoice.channels.models import Channel
from onevoice.connectors import registry
from onevoice.db import unit_of_work
from tests.browser.axe import describe, failing, violations, with_axe
from tests.browser.conftest import shot
from tests.connectors.mailserver import IMAPServer, Mailbox, SMTPServer
from tests.connectors.transport import Transport
from tests.governance.test_connect import ACCOUNT, APP, MASTO_TOKEN
from tests.web.helpers import create_person

pytestmark = pytest.mark.browser

DESKTOP, PHONE = (1440, 900), (390, 844)
SIZES = {"desktop": DESKTOP, "phone": PHONE}


def _jwt(scope: str) -> str:
    def b64(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"scope": scope, "sub": "did:plc:a", "exp": now + 7200}
    return f"{b64({'typ': 'at+jwt', 'alg': 'ES256K'})}.{b64(claims)}.c2ln"


BSKY = {"did": "did:plc:acme4k2hq7xw3vz6nqf5lb3r", "handle": "acmehome.bsky.social", "active": True,
        "accessJwt": _jwt("com.atproto.appPass"), "refreshJwt": _jwt("com.atproto.refresh")}
X_ME = {"data": {"id": "1460112890912342016", "name": "Acme Home", "username": "AcmeHome"}}
REDDIT_TOKEN = {"access_token": "eyJhbGciOiJSUzI1NiIsImtpZCI6IlNIQTI1NjpzS3dsMnl", "token_type": "bearer",
                "expires_in": 86400, "refresh_token": "71735364-yFHm6xJBy3R2KkzqZ4B8iYMhrM1Xfg",
                "scope": "edit history identity privatemessages read submit"}
REDDIT_ME = {"name": "AcmeHomeSupport", "id": "1x2y3z", "total_karma": 5120}
PAGES = {"data": [{"id": "104857392011223", "name": "Acme Home", "access_token": "EAAGm0PX4ZCpsBAPageTokenAcme",
                   "category": "Home Improvement", "tasks": ["MANAGE", "CREATE_CONTENT", "MODERATE"],
                   "instagram_business_account": {"id": "17841405822304914", "username": "acmehome"}},
                  {"id": "204857392011224", "name": "Acme Careers", "access_token": "EAAGm0PX4ZCpsBAPageTokenJobs",
                   "category": "Company", "tasks": ["CREATE_CONTENT"]}],
         "paging": {"cursors": {"before": "MTA0", "after": "MjA0"}}}


def mastodon_mocks(web, sdk):
    web.add("POST", r"https://mastodon\.example/api/v1/apps", json=APP)
    web.add("POST", r"https://mastodon\.example/oauth/token", json=MASTO_TOKEN)
    web.add("GET", r"https://mastodon\.example/api/v1/accounts/verify_credentials", json=ACCOUNT)
    sdk.add("GET", r"https://mastodon\.example/api/v1/accounts/verify_credentials", json=ACCOUNT)


def x_mocks(web, sdk):
    web.add("POST", r"https://api\.x\.com/2/oauth2/token", json={
        "token_type": "bearer", "expires_in": 7200, "access_token": "VGNibzFWSWREZm01bjN1N3dicWlNUG1oa2xRRVNN",
        "scope": "tweet.write users.read tweet.read offline.access", "refresh_token": "bWRWa3gzdnk3WHRGU1o0bmRR"})
    web.add("GET", r"https://api\.x\.com/2/users/me", json=X_ME)
    sdk.add("GET", r"https://api\.(twitter|x)\.com/2/users/me", json=X_ME)


def reddit_mocks(web, sdk):
    web.add("POST", r"https://www\.reddit\.com/api/v1/access_token", json=REDDIT_TOKEN)
    web.add("GET", r"https://oauth\.reddit\.com/api/v1/me", json=REDDIT_ME)
    sdk.add("POST", r"https://www\.reddit\.com/api/v1/access_token", json={**REDDIT_TOKEN, "refresh_token": None})
    sdk.add("GET", r"https://oauth\.reddit\.com/api/v1/me", json=REDDIT_ME)


def meta_mocks(web, sdk):
    web.add("GET", r"https://graph\.facebook\.com/v21\.0/oauth/access_token", json={
        "access_token": "EAAGm0PX4ZCpsBALongLived", "token_type": "bearer", "expires_in": 5183944})
    web.add("GET", r"https://graph\.facebook\.com/v21\.0/me/accounts", json=PAGES)
    web.add("GET", r"https://graph\.facebook\.com/v21\.0/debug_token", json={"data": {
        "app_id": "1234567890123456", "type": "PAGE", "application": "OneVoice", "expires_at": 0, "is_valid": True,
        "scopes": ["pages_messaging"], "profile_id": "104857392011223"}})


def bluesky_mocks(web, sdk):
    web.add("POST", r"https://bsky\.social/xrpc/com\.atproto\.server\.createSession", json=BSKY)
    web.add("GET", r"https://bsky\.social/xrpc/com\.atproto\.server\.getSession", json=BSKY)


FLOWS = {  # kind: (what the admin types, the platform's authorize address or None, mocks, what the test says)
    "mastodon": ({"instance": "mastodon.example"}, "https://mastodon.example/oauth/authorize", mastodon_mocks,
                 "connected as @acme"),
    "x": ({"client_id": "rG9n6402A3dbUJKzXTNX4oWHJ"}, "https://x.com/i/oauth2/authorize", x_mocks,
          "connected as @AcmeHome"),
    "reddit": ({"client_id": "p-jcoLKBynTLew", "client_secret": "gko_LXELoV07ZBNUXrvWZfzE3aI"},
               "https://www.reddit.com/api/v1/authorize", reddit_mocks, "connected as u/AcmeHomeSupport"),
    "meta": ({"app_id": "1234567890123456", "app_secret": "7f3c9a1b2d4e6f8091a2b3c4d5e6f708"},
             "https://www.facebook.com/v21.0/dialog/oauth", meta_mocks, "Page token valid"),
    "bluesky": ({"handle": "acmehome.bsky.social", "app_password": "abcd-efgh-ijkl-mnop"}, None, bluesky_mocks,
                "connected as @acmehome.bsky.social"),
    # the mail servers are real ones on localhost (tests/connectors/mailserver.py): ports filled in below
    "email": ({"address": "support@acme.example", "username": "support@acme.example", "password": "mail-pw-1",
               "imap_host": "127.0.0.1", "smtp_host": "127.0.0.1"}, None, lambda web, sdk: None,
              "IMAP and SMTP logins work for support@acme.example"),
    "webhook": ({}, None, lambda web, sdk: None, "signed with a shared secret"),
}


def consent_page(url: str, deny: bool = False) -> str:
    """The fake provider's sign-in page: Authorize and Deny, each back to the redirect_uri with the state."""
    query = parse_qs(urlsplit(url).query)
    back, state = query["redirect_uri"][0], query["state"][0]
    yes = back + "?" + urlencode({"code": "fake-provider-code", "state": state})
    no = back + "?" + urlencode({"error": "access_denied", "error_description": "The user denied the request",
                                 "state": state})
    return (f"<!doctype html><title>Sign in</title><h1>Allow OneVoice?</h1>"
            f"<a id='authorize' href='{html.escape(yes)}'>Authorize</a> <a id='deny' href='{html.escape(no)}'>Deny</a>")


@pytest.fixture
def admin(server):
    with unit_of_work(server.app.state.runtime.session_factory) as session:
        create_person(session, "ada@acme.test", "Ada Admin", "admin", [])


@pytest.fixture
def platforms():
    """Server-side platform calls mocked at the transport edge; the test's own calls to 127.0.0.1 pass."""
    with ExitStack() as stack:
        web = stack.enter_context(Transport("httpx"))
        web._respx.route(host="127.0.0.1").pass_through()
        sdk = stack.enter_context(Transport("requests"))
        yield web, sdk


def axe_clean(page, where: str) -> None:
    page.wait_for_load_state("load")
    problems = describe(where, failing(violations(page)))
    wide = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
    if wide[0] > wide[1]:
        problems.append(f"{where}: scrolls sideways ({wide[0]} px in {wide[1]})")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("kind", list(FLOWS))
def test_connect_each_platform_from_the_accounts_page(server, admin, sign_in, platforms, kind, size):
    typed, authorize, mocks, said = FLOWS[kind]
    web, sdk = platforms
    mocks(web, sdk)
    registry.get(kind)  # import the platform's SDK first (atproto takes seconds): the page waits 8 s at most
    with ExitStack() as servers:
        if kind == "email":
            imap = servers.enter_context(IMAPServer(Mailbox("support@acme.example", "mail-pw-1")))
            smtp = servers.enter_context(SMTPServer("support@acme.example", "mail-pw-1"))
            typed = {**typed, "imap_port": str(imap.port), "smtp_port": str(smtp.port)}
        connect_one(server, sign_in, kind, size, typed, authorize, said)


def connect_one(server, sign_in, kind, size, typed, authorize, said):
    page = sign_in("ada@acme.test", viewport=SIZES[size])
    with_axe(page.context)
    if authorize:
        page.context.route(re.compile(re.escape(authorize) + r"\?"), lambda route: route.fulfill(
            status=200, content_type="text/html", body=consent_page(route.request.url)))
    page.goto(server.url + "/governance/accounts")
    page.locator("#connect-channel").click()
    page.wait_for_url("**/governance/accounts/connect")
    axe_clean(page, f"choose @{size}")
    if kind == "mastodon" and size == "desktop":
        shot(page, "connect-choose")
    page.locator(f'.connect-choice[data-kind="{kind}"]').click()
    page.wait_for_url(f"**/governance/accounts/connect/{kind}")
    expect(page.locator("#connect-form")).to_be_visible()
    axe_clean(page, f"{kind} form @{size}")
    key = f"{kind}-{size}"
    page.fill("input[name=key]", key)
    page.fill("input[name=name]", f"Acme {kind}")
    page.select_option("select[name=owner_team]", "support")
    for name, value in typed.items():
        page.fill(f"input[name={name}]", value)
    if kind == "email":  # local test servers speak plain IMAP and SMTP
        page.get_by_label("IMAP over TLS").uncheck()
        page.select_option("select[name=smtp_security]", "none")
    if kind == "mastodon":
        shot(page, f"connect-mastodon-form-{size}")
    page.locator("#connect-form button[type=submit]").click()
    if authorize:
        page.locator("#authorize").click()  # at the (fake) platform
    if kind == "meta":
        expect(page.locator("h1")).to_have_text("Choose the Facebook Page")
        axe_clean(page, f"meta pick @{size}")
        shot(page, f"connect-meta-pick-{size}")
        page.get_by_label("Acme Home").check()
        page.locator("#pick-form button[type=submit]").click()
    expect(page.locator("h1")).to_have_text(f"Connected: {key}")
    result = page.locator("[data-test-result]")
    expect(result).to_contain_text(said)
    axe_clean(page, f"{kind} result @{size}")
    if kind in ("meta", "webhook"):
        expect(page.locator("[data-webhook-url]")).to_have_text(f"{server.url}/webhooks/{key}")
    shot(page, f"connect-{kind}-{size}")
    with server.app.state.runtime.session_factory() as session:
        from sqlalchemy import select

        ch = session.scalar(select(Channel).where(Channel.key == key))
        assert ch is not None and ch.kind == kind and ch.health == result.get_attribute("data-test-result")
    page.locator("a", has_text="Back to Accounts").click()
    expect(page.locator(f"#account-{key}")).to_be_visible()
    assert not page.js_errors, page.js_errors


@pytest.mark.parametrize("size", list(SIZES))
def test_a_denied_sign_in_says_so_and_stores_nothing(server, admin, sign_in, platforms, size):
    web, sdk = platforms
    mastodon_mocks(web, sdk)
    page = sign_in("ada@acme.test", viewport=SIZES[size])
    with_axe(page.context)
    page.context.route(re.compile(r"https://mastodon\.example/oauth/authorize\?"), lambda route: route.fulfill(
        status=200, content_type="text/html", body=consent_page(route.request.url)))
    page.goto(server.url + "/governance/accounts/connect/mastodon")
    page.fill("input[name=key]", "declined")
    page.fill("input[name=instance]", "mastodon.example")
    page.locator("#connect-form button[type=submit]").click()
    page.locator("#deny").click()
    expect(page.locator("[data-error]")).to_contain_text("you declined access")
    expect(page.locator("[data-error]")).to_contain_text("Nothing was stored")
    axe_clean(page, f"denied @{size}")
    shot(page, f"connect-denied-{size}")
    # the same answer replayed is refused: the state was used
    page.reload()
    expect(page.locator("[data-error]")).to_contain_text("already used")
    with server.app.state.runtime.session_factory() as session:
        from sqlalchemy import select

        assert session.scalar(select(Channel).where(Channel.key == "declined")) is None


@pytest.mark.parametrize("size", list(SIZES))
def test_reconnect_from_the_warning_in_one_click(server, admin, sign_in, platforms, size):
    web, sdk = platforms
    mastodon_mocks(web, sdk)
    runtime = server.app.state.runtime
    from onevoice.channels.service import add_channel

    with unit_of_work(runtime.session_factory) as session:
        ch = add_channel(session, "masto", "mastodon", "Acme on Mastodon",
                         {"api_base_url": "https://mastodon.example", "access_token": "old-revoked-token"},
                         secret_key=runtime.settings.secret_key.get_secret_value())
        ch.health, ch.health_detail = "revoked", "Mastodon refused the token: The access token was revoked [401]"
    page = sign_in("ada@acme.test", viewport=SIZES[size])
    with_axe(page.context)
    page.context.route(re.compile(r"https://mastodon\.example/oauth/authorize\?"), lambda route: route.fulfill(
        status=200, content_type="text/html", body=consent_page(route.request.url)))
    page.goto(server.url + "/governance/accounts")
    row = page.locator("#account-masto")
    expect(row.locator("[data-health]")).to_have_text("revoked")
    axe_clean(page, f"accounts with a warning @{size}")
    shot(page, f"accounts-reconnect-{size}")
    row.get_by_role("button", name="Reconnect Acme on Mastodon").click()  # the one click
    page.locator("#authorize").click()
    expect(page.locator("h1")).to_have_text("Reconnected: masto")
    expect(page.locator("[data-test-result]")).to_contain_text("connected as @acme")
    page.locator("a", has_text="Back to Accounts").click()
    expect(page.locator("#account-masto [data-health]")).to_have_text("connected")
    expect(page.locator("#account-masto form.reconnect")).to_have_count(0)
