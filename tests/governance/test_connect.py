"""Connecting channels from the Accounts page: each platform's sign-in, app passwords, mail settings and the
generated webhook secret, ending in the test; state bound to the session and single-use; nothing stored on a
denied, expired, replayed or failed sign-in; reconnecting in one click. Platforms are mocked at the transport
edge (respx for httpx, responses for the requests-based SDKs) with payloads shaped like their documented ones.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from onevoice.audit.models import AuditRecord
from onevoice.channels.models import Channel
from onevoice.channels.secrets import decrypt
from onevoice.connect.models import ChannelConnect
from onevoice.db import unit_of_work, utcnow
from tests.connectors.transport import Transport
from tests.governance.conftest import PASSWORD
from tests.web.helpers import sign_in

CALLBACK = "http://testserver/governance/accounts/connect/callback"
MASTO = "https://mastodon.example"
APP = {"id": "563419", "name": "OneVoice", "website": None, "redirect_uri": CALLBACK, "redirect_uris": [CALLBACK],
       "scopes": ["read", "write"], "client_id": "TWhM-tNSuncnqN7DBJmoyeLnk6K3iJJ71KKXxgL1hPM",
       "client_secret": "ZEaFUFmF0umgBX1qKJDjaU99Q31lDkOU8NutzTOoliw", "client_secret_expires_at": 0,
       "vapid_key": "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M="}
MASTO_TOKEN = {"access_token": "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0", "token_type": "Bearer",
               "scope": "read write", "created_at": 1573979017}
ACCOUNT = {"id": "14715", "username": "acme", "acct": "acme", "display_name": "Acme Home", "locked": False,
           "bot": False, "created_at": "2016-11-24T10:02:12.085Z", "note": "", "url": f"{MASTO}/@acme",
           "followers_count": 5120, "following_count": 12, "statuses_count": 830}


def browser(app, email="ada@acme.test") -> TestClient:
    client = TestClient(app)
    assert sign_in(client, email, PASSWORD).status_code == 303
    client.csrf = re.search(r'data-csrf="([^"]+)"', client.get("/inbox").text).group(1)
    return client


def post(client, path, data=None):
    return client.post(path, data={**(data or {}), "csrf_token": client.csrf}, follow_redirects=False)


def platform_url(r) -> str:
    """Where the page sends the browser to sign in at the platform (a page that moves on by itself)."""
    assert r.status_code == 200, r.text
    found = re.search(r'<meta http-equiv="refresh" content="0;url=([^"]+)">', r.text).group(1)
    assert f'href="{found}" data-platform-url' in r.text
    return html.unescape(found)


def audit_actions(runtime) -> list[str]:
    with runtime.session_factory() as s:
        return list(s.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)))


def channel(runtime, key) -> Channel | None:
    with runtime.session_factory() as s:
        return s.scalar(select(Channel).where(Channel.key == key))


def start_mastodon(client, key="masto-main"):
    with Transport("httpx") as t:
        t.add("POST", MASTO + r"/api/v1/apps", json=APP)
        r = post(client, "/governance/accounts/connect/mastodon", {"key": key, "name": "Acme on Mastodon",
                                                                    "owner_team": "support",
                                                                    "instance": "Mastodon.example"})
    location = platform_url(r)
    registered = parse_qs(t.calls[0].body.decode())
    assert registered["redirect_uris"] == [CALLBACK] and registered["client_name"] == ["OneVoice"]
    url = urlsplit(location)
    assert f"{url.scheme}://{url.netloc}{url.path}" == MASTO + "/oauth/authorize"
    query = parse_qs(url.query)
    assert query["client_id"] == [APP["client_id"]] and query["redirect_uri"] == [CALLBACK]
    assert APP["client_secret"] not in r.text
    return query["state"][0]


def finish_mastodon(client, state, code="qDFUEaYrRK5c-HNmTCJbAzazwLRInJ7VHFat0wcMgCU"):
    with Transport("httpx") as t, Transport("requests") as sdk:
        t.add("POST", MASTO + r"/oauth/token", json=MASTO_TOKEN)
        t.add("GET", MASTO + r"/api/v1/accounts/verify_credentials", json=ACCOUNT)
        sdk.add("GET", MASTO + r"/api/v1/accounts/verify_credentials", json=ACCOUNT)  # the test (Mastodon.py)
        r = client.get(f"/governance/accounts/connect/callback?code={code}&state={state}")
    return r, t.calls


def test_mastodon_from_the_accounts_page_to_a_tested_channel(gov_app, runtime):
    ada = browser(gov_app)
    accounts = ada.get("/governance/accounts").text
    assert 'href="/governance/accounts/connect"' in accounts
    assert "Mastodon" in ada.get("/governance/accounts/connect").text
    form = ada.get("/governance/accounts/connect/mastodon").text
    assert CALLBACK in form
    state = start_mastodon(ada)
    assert channel(runtime, "masto-main") is None  # nothing stored before the platform says yes
    r, calls = finish_mastodon(ada, state)
    assert r.status_code == 200, r.text
    assert "Connected: masto-main" in r.text and "@acme@mastodon.example" in r.text
    assert 'data-test-result="connected"' in r.text and "connected as @acme" in r.text
    assert "No webhook to set up" in r.text
    exchange = parse_qs(calls[0].body.decode())
    assert exchange["grant_type"] == ["authorization_code"] and exchange["redirect_uri"] == [CALLBACK]
    assert exchange["client_secret"] == [APP["client_secret"]]
    ch = channel(runtime, "masto-main")
    assert ch.kind == "mastodon" and ch.health == "connected" and ch.name == "Acme on Mastodon"
    assert ch.config == {"api_base_url": MASTO}
    assert MASTO_TOKEN["access_token"] not in (ch.secrets or "")  # encrypted at rest
    assert decrypt(ch.secrets, runtime.settings.secret_key.get_secret_value()) == {
        "access_token": MASTO_TOKEN["access_token"]}
    with runtime.session_factory() as s:
        attempt = s.scalar(select(ChannelConnect))
        assert attempt.used_at is not None and attempt.stage == "done"
        left = decrypt(attempt.data, runtime.settings.secret_key.get_secret_value())
        assert "platform" not in left  # the app secret is not kept once the channel has its token
    actions = audit_actions(runtime)
    for step in ("channel.connect.start", "channel.add", "channel.test", "channel.connect.done"):
        assert step in actions, actions
    logged = json.dumps([a for a in actions])
    assert MASTO_TOKEN["access_token"] not in logged


def test_a_state_is_used_once_and_only_by_the_session_that_started_it(gov_app, runtime):
    ada, ada_elsewhere = browser(gov_app), browser(gov_app)
    state = start_mastodon(ada)
    r = ada_elsewhere.get(f"/governance/accounts/connect/callback?code=abc&state={state}")
    assert r.status_code == 400 and "another browser session" in r.text and "Nothing was stored" in r.text
    assert channel(runtime, "masto-main") is None
    r, _ = finish_mastodon(ada, state)  # the other session did not use it up
    assert r.status_code == 200
    again, calls = finish_mastodon(ada, state)
    assert again.status_code == 400 and "already used" in again.text and calls == []
    r = ada.get("/governance/accounts/connect/callback?code=abc&state=made-up")
    assert r.status_code == 400 and "unknown" in r.text
    assert ada.get("/governance/accounts/connect/callback").status_code == 400


def test_denied_expired_and_platform_errors_store_nothing(gov_app, runtime):
    ada = browser(gov_app)
    state = start_mastodon(ada, "denied")
    r = ada.get(f"/governance/accounts/connect/callback?error=access_denied&error_description=The+resource+owner+"
                f"or+authorization+server+denied+the+request.&state={state}")
    assert r.status_code == 400 and "you declined access" in r.text and "Nothing was stored" in r.text
    assert channel(runtime, "denied") is None

    state = start_mastodon(ada, "expired")
    with unit_of_work(runtime.session_factory) as s:
        s.scalar(select(ChannelConnect).where(ChannelConnect.channel_key == "expired")).expires_at = utcnow()
    r, calls = finish_mastodon(ada, state)
    assert r.status_code == 400 and "expired" in r.text and calls == [] and channel(runtime, "expired") is None

    state = start_mastodon(ada, "refused")
    with Transport("httpx") as t:
        t.add("POST", MASTO + r"/oauth/token", status=400, json={
            "error": "invalid_grant", "error_description": "The provided authorization grant is invalid, expired, "
                                                           "revoked, does not match the redirection URI used in "
                                                           "the authorization request, or was issued to another "
                                                           "client."})
        r = ada.get(f"/governance/accounts/connect/callback?code=old&state={state}")
    assert r.status_code == 400 and "HTTP 400" in r.text and "invalid_grant" in r.text
    assert channel(runtime, "refused") is None
    assert audit_actions(runtime).count("channel.connect.failed") == 3


@pytest.mark.parametrize("instance", ["https://127.0.0.1", "10.0.0.7", "http://mastodon.example",
                                      "https://mastodon.example/some/path", "javascript:alert(1)"])
def test_a_server_the_egress_guard_refuses_is_never_called(gov_app, runtime, instance):
    ada = browser(gov_app)
    with Transport("httpx") as t:
        r = post(ada, "/governance/accounts/connect/mastodon", {"key": "m", "instance": instance})
    assert r.status_code == 422 and "Not connected" in r.text and t.calls == []
    assert 'value="m"' in r.text  # what was typed comes back


def test_x_sign_in_keeps_the_pkce_verifier_on_the_server(gov_app, runtime):
    ada = browser(gov_app)
    r = post(ada, "/governance/accounts/connect/x", {"key": "x-main", "client_id": "rG9n6402A3dbUJKzXTNX4oWHJ",
                                                     "client_secret": "cfzQ8s6J9d0-X-secret"})
    url = urlsplit(platform_url(r))
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://x.com/i/oauth2/authorize"
    assert query["code_challenge_method"] == ["S256"] and "offline.access" in query["scope"][0]
    assert "code_verifier" not in url.query and "cfzQ8s6J9d0" not in url.query
    token = {"token_type": "bearer", "expires_in": 7200, "access_token": "VGNibzFWSWREZm01bjN1N3dicWlNUG1oa2xRRVNN",
             "scope": "tweet.write users.read tweet.read offline.access dm.read dm.write",
             "refresh_token": "bWRWa3gzdnk3WHRGU1o0bmRRcTJ5VUxWX1lZTDdJSUtmaWcxbTVxdEFXcW5tOjE2MjIxNDc3NDM5MTQ6MTox"}
    me = {"data": {"id": "1460112890912342016", "name": "Acme Home", "username": "AcmeHome"}}
    with Transport("httpx") as t, Transport("requests") as sdk:
        t.add("POST", r"https://api\.x\.com/2/oauth2/token", json=token)
        t.add("GET", r"https://api\.x\.com/2/users/me", json=me)
        sdk.add("GET", r"https://api\.(twitter|x)\.com/2/users/me", json=me)  # the test, through tweepy
        r = ada.get(f"/governance/accounts/connect/callback?code=VGNibzFWSWREZm01&state={query['state'][0]}")
    assert r.status_code == 200 and 'data-test-result="connected"' in r.text, r.text
    sent = parse_qs(t.calls[0].body.decode())
    verifier = sent["code_verifier"][0]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == [challenge]
    assert t.calls[0].headers["authorization"].startswith("Basic ")  # a confidential client
    assert sdk.calls[0].headers["Authorization"] == f"Bearer {token['access_token']}"
    ch = channel(runtime, "x-main")
    config = {**ch.config, **decrypt(ch.secrets, runtime.settings.secret_key.get_secret_value())}
    assert config["user_id"] == "1460112890912342016" and config["oauth2_refresh_token"] == token["refresh_token"]
    assert config["direct_messages"] is True and token["access_token"] not in ch.secrets


def test_reddit_sign_in_stores_a_permanent_token(gov_app, runtime):
    ada = browser(gov_app)
    r = post(ada, "/governance/accounts/connect/reddit", {"key": "reddit", "client_id": "p-jcoLKBynTLew",
                                                          "client_secret": "gko_LXELoV07ZBNUXrvWZfzE3aI",
                                                          "subreddit": "r/AcmeHome"})
    query = parse_qs(urlsplit(platform_url(r)).query)
    assert query["duration"] == ["permanent"] and query["response_type"] == ["code"]
    token = {"access_token": "eyJhbGciOiJSUzI1NiIsImtpZCI6IlNIQTI1NjpzS3dsMnlsV0V", "token_type": "bearer",
             "expires_in": 86400, "refresh_token": "71735364-yFHm6xJBy3R2KkzqZ4B8iYMhrM1Xfg",
             "scope": "edit history identity privatemessages read submit"}
    me = {"name": "AcmeHomeSupport", "id": "1x2y3z", "total_karma": 5120, "created_utc": 1600000000.0}
    with Transport("httpx") as t, Transport("requests") as sdk:
        t.add("POST", r"https://www\.reddit\.com/api/v1/access_token", json=token)
        t.add("GET", r"https://oauth\.reddit\.com/api/v1/me", json=me)
        sdk.add("POST", r"https://www\.reddit\.com/api/v1/access_token", json={**token, "refresh_token": None})
        sdk.add("GET", r"https://oauth\.reddit\.com/api/v1/me", json=me)
        r = ada.get(f"/governance/accounts/connect/callback?code=Yw9Ab&state={query['state'][0]}")
    assert r.status_code == 200 and "connected as u/AcmeHomeSupport" in r.text, r.text
    assert t.calls[0].headers["authorization"] == "Basic " + base64.b64encode(
        b"p-jcoLKBynTLew:gko_LXELoV07ZBNUXrvWZfzE3aI").decode()
    assert "grant_type=refresh_token" in sdk.calls[0].body.decode()  # praw renews from the stored token
    ch = channel(runtime, "reddit")
    assert ch.config["username"] == "AcmeHomeSupport" and ch.config["subreddit"] == "AcmeHome"


def meta_login(ada, key="fb-main"):
    r = post(ada, "/governance/accounts/connect/meta", {"key": key, "app_id": "1234567890123456",
                                                        "app_secret": "7f3c9a1b2d4e6f8091a2b3c4d5e6f708"})
    query = parse_qs(urlsplit(platform_url(r)).query)
    assert "pages_messaging" in query["scope"][0]
    pages = {"data": [
        {"id": "104857392011223", "name": "Acme Home", "access_token": "EAAGm0PX4ZCpsBAPageTokenAcme",
         "category": "Home Improvement", "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"],
         "instagram_business_account": {"id": "17841405822304914", "username": "acmehome"}},
        {"id": "204857392011224", "name": "Acme Careers", "access_token": "EAAGm0PX4ZCpsBAPageTokenJobs",
         "category": "Company", "tasks": ["ANALYZE", "CREATE_CONTENT"]}],
        "paging": {"cursors": {"before": "MTA0ODU3MzkyMDExMjIz", "after": "MjA0ODU3MzkyMDExMjI0"}}}
    with Transport("httpx") as t:
        t.add("GET", r"https://graph\.facebook\.com/v21\.0/oauth/access_token\?.*fb_exchange_token=", json={
            "access_token": "EAAGm0PX4ZCpsBALongLived", "token_type": "bearer", "expires_in": 5183944})
        t.add("GET", r"https://graph\.facebook\.com/v21\.0/oauth/access_token", json={
            "access_token": "EAAGm0PX4ZCpsBAShort", "token_type": "bearer", "expires_in": 5183})
        t.add("GET", r"https://graph\.facebook\.com/v21\.0/me/accounts", json=pages)
        r = ada.get(f"/governance/accounts/connect/callback?code=AQBx&state={query['state'][0]}")
    assert "EAAGm0PX4ZCpsBAShort" in t.calls[1].url and "EAAGm0PX4ZCpsBALongLived" in t.calls[2].url
    return r


def test_meta_login_then_the_admin_picks_the_page(gov_app, runtime):
    ada = browser(gov_app)
    r = meta_login(ada)
    assert r.status_code == 200 and "Choose the Facebook Page" in r.text
    assert "Acme Careers" in r.text and "@acmehome" in r.text and "PageToken" not in r.text
    assert channel(runtime, "fb-main") is None
    connect_id = re.search(r'name="connect_id" value="(\d+)"', r.text).group(1)
    debug = {"data": {"app_id": "1234567890123456", "type": "PAGE", "application": "OneVoice", "expires_at": 0,
                      "is_valid": True, "scopes": ["pages_messaging", "pages_manage_metadata"],
                      "profile_id": "104857392011223"}}
    with Transport("httpx") as t:
        t.add("GET", r"https://graph\.facebook\.com/v21\.0/debug_token", json=debug)
        r = post(ada, "/governance/accounts/connect/pick", {"connect_id": connect_id, "page_id": "104857392011223"})
    assert r.status_code == 200 and 'data-test-result="connected"' in r.text, r.text
    assert "http://testserver/webhooks/fb-main" in r.text
    token = re.search(r"data-verify-token>([^<]+)<", r.text).group(1)
    ch = channel(runtime, "fb-main")
    config = {**ch.config, **decrypt(ch.secrets, runtime.settings.secret_key.get_secret_value())}
    assert config["page_id"] == "104857392011223" and config["instagram_account_id"] == "17841405822304914"
    assert config["page_access_token"] == "EAAGm0PX4ZCpsBAPageTokenAcme" and config["verify_token"] == token
    # the webhook handshake Meta makes with that token now answers
    r = ada.get(f"/webhooks/fb-main?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444")
    assert r.status_code == 200 and r.text == "1158201444"
    again = post(ada, "/governance/accounts/connect/pick", {"connect_id": connect_id, "page_id": "204857392011224"})
    assert again.status_code == 400 and channel(runtime, "fb-main").config["page_id"] == "104857392011223"


def _jwt(scope: str, seconds: int) -> str:
    def b64(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    now = int(time.time())
    return f"{b64({'typ': 'at+jwt', 'alg': 'ES256K'})}.{b64({'scope': scope, 'sub': 'did:plc:acme', 'iat': now, 'exp': now + seconds})}.c2ln"  # noqa: E501


def test_bluesky_app_password(gov_app, runtime):
    ada = browser(gov_app)
    session = {"did": "did:plc:acme4k2hq7xw3vz6nqf5lb3r", "handle": "acmehome.bsky.social", "active": True,
               "accessJwt": _jwt("com.atproto.appPass", 7200), "refreshJwt": _jwt("com.atproto.refresh", 86400)}
    with Transport("httpx") as t:
        t.add("POST", r"https://bsky\.social/xrpc/com\.atproto\.server\.createSession", json=session)
        t.add("GET", r"https://bsky\.social/xrpc/com\.atproto\.server\.getSession", json=session)
        r = post(ada, "/governance/accounts/connect/bluesky", {"key": "bsky", "handle": "@acmehome.bsky.social",
                                                               "app_password": "abcd-efgh-ijkl-mnop"})
    assert r.status_code == 200 and "connected as @acmehome.bsky.social" in r.text, r.text
    assert json.loads(t.calls[0].body) == {"identifier": "acmehome.bsky.social", "password": "abcd-efgh-ijkl-mnop"}
    ch = channel(runtime, "bsky")
    assert ch.config["handle"] == "acmehome.bsky.social" and "abcd-efgh" not in ch.secrets


def test_email_settings_are_tested_and_a_failure_says_why(gov_app, runtime):
    ada = browser(gov_app)
    r = post(ada, "/governance/accounts/connect/email", {
        "key": "mail", "address": "support@acme.example", "username": "support@acme.example", "password": "pw-1",
        "imap_host": "127.0.0.1", "imap_port": "1", "smtp_host": "127.0.0.1", "smtp_port": "1"})
    assert r.status_code == 200 and 'data-test-result="failing"' in r.text and "try again" in r.text
    ch = channel(runtime, "mail")
    assert ch.config["imap_port"] == 1 and ch.health == "failing" and "pw-1" not in ch.secrets
    r = post(ada, "/governance/accounts/connect/email", {"key": "mail2", "address": "not an address",
                                                         "username": "u", "password": "secret-pw", "imap_host": "h",
                                                         "smtp_host": "h"})
    assert r.status_code == 422 and "address" in r.text and "secret-pw" not in r.text
    assert channel(runtime, "mail2") is None


def test_webhook_gets_a_generated_secret_and_its_address(gov_app, runtime):
    from onevoice.connectors.webhook.connector import sign

    ada = browser(gov_app)
    r = post(ada, "/governance/accounts/connect/webhook", {"key": "shop", "name": "Shop reviews"})
    assert r.status_code == 200 and "http://testserver/webhooks/shop" in r.text
    secret = re.search(r"data-webhook-secret>([^<]+)<", r.text).group(1)
    assert len(secret) >= 32
    body = json.dumps({"external_id": "rev-1", "kind": "review", "text": "Great kettle", "created_at":
                       "2026-11-20T10:00:00Z", "author": {"external_id": "c-1", "name": "Ana"}}).encode()
    ts = str(int(time.time()))
    r = ada.post("/webhooks/shop", content=body, headers={"X-OneVoice-Timestamp": ts, "Content-Type":
                                                          "application/json",
                                                          "X-OneVoice-Signature": sign(secret, ts, body)})
    assert r.status_code in (200, 202), r.text
    assert ada.get("/governance/accounts/connect/webhook").text.count(secret) == 0  # shown only once


def test_reconnect_is_one_click_from_the_warning(gov_app, runtime):
    ada, lee = browser(gov_app), browser(gov_app, "lee@acme.test")
    finish_mastodon(ada, start_mastodon(ada))
    with unit_of_work(runtime.session_factory) as s:
        ch = s.scalar(select(Channel).where(Channel.key == "masto-main"))
        ch.health, ch.health_detail = "revoked", "Mastodon refused the token [401]"
    page = ada.get("/governance/accounts").text
    assert 'action="/governance/accounts/masto-main/reconnect"' in page
    assert "/reconnect" not in lee.get("/governance/accounts").text  # coordinators test, admins connect
    assert post(lee, "/governance/accounts/masto-main/reconnect").status_code == 403
    with Transport("httpx") as t:
        t.add("POST", MASTO + r"/api/v1/apps", json=APP)
        r = post(ada, "/governance/accounts/masto-main/reconnect")
    location = platform_url(r)
    assert location.startswith(MASTO + "/oauth/authorize?")
    state = parse_qs(urlsplit(location).query)["state"][0]
    fresh = {**MASTO_TOKEN, "access_token": "Fresh-token-after-reconnect-0123456789abc"}
    with Transport("httpx") as t, Transport("requests") as sdk:
        t.add("POST", MASTO + r"/oauth/token", json=fresh)
        t.add("GET", MASTO + r"/api/v1/accounts/verify_credentials", json=ACCOUNT)
        sdk.add("GET", MASTO + r"/api/v1/accounts/verify_credentials", json=ACCOUNT)
        r = ada.get(f"/governance/accounts/connect/callback?code=new&state={state}")
    assert r.status_code == 200 and "Reconnected: masto-main" in r.text, r.text
    ch = channel(runtime, "masto-main")
    assert ch.health == "connected"
    assert decrypt(ch.secrets, runtime.settings.secret_key.get_secret_value())["access_token"] == fresh["access_token"]
    with runtime.session_factory() as s:
        assert s.scalar(select(Channel.id).where(Channel.key.like("masto%")).offset(1)) is None  # no second channel
    # a form kind opens its form again, the secret left for the admin to type
    post(ada, "/governance/accounts/connect/webhook", {"key": "hook"})
    r = post(ada, "/governance/accounts/hook/reconnect")
    assert r.status_code == 303 and r.headers["location"] == "/governance/accounts/connect/webhook?reconnect=hook"


def test_reconnecting_as_another_account_is_refused(gov_app, runtime):
    ada = browser(gov_app)
    meta_login(ada, "fb")
    with runtime.session_factory() as s:
        connect_id = s.scalar(select(ChannelConnect.id).where(ChannelConnect.stage == "pick"))
    with Transport("httpx") as t:
        t.add("GET", r"https://graph\.facebook\.com/v21\.0/debug_token", json={"data": {"is_valid": True}})
        post(ada, "/governance/accounts/connect/pick", {"connect_id": connect_id, "page_id": "104857392011223"})
    r = post(ada, "/governance/accounts/fb/reconnect")
    location = platform_url(r)
    assert "client_id=1234567890123456" in location  # the app the channel already has: nothing to type
    state = parse_qs(urlsplit(location).query)["state"][0]
    with Transport("httpx") as t:
        t.add("GET", r"https://graph\.facebook\.com/v21\.0/oauth/access_token", json={"access_token": "EAAs"})
        t.add("GET", r"https://graph\.facebook\.com/v21\.0/me/accounts", json={"data": [
            {"id": "204857392011224", "name": "Acme Careers", "access_token": "EAAGm0PX4ZCpsBAPageTokenJobs"}]})
        r = ada.get(f"/governance/accounts/connect/callback?code=x&state={state}")
    connect_id = re.search(r'name="connect_id" value="(\d+)"', r.text).group(1)
    r = post(ada, "/governance/accounts/connect/pick", {"connect_id": connect_id, "page_id": "204857392011224"})
    assert r.status_code == 400 and "not the account of channel fb" in r.text
    ch = channel(runtime, "fb")
    assert decrypt(ch.secrets, runtime.settings.secret_key.get_secret_value())["page_access_token"].endswith("Acme")


@pytest.mark.parametrize("email", ["lee@acme.test", "mia@acme.test", "sam@acme.test", "vic@acme.test"])
def test_only_admins_connect(gov_app, runtime, email):
    person = browser(gov_app, email)
    assert person.get("/governance/accounts/connect").status_code == 403
    assert person.get("/governance/accounts/connect/bluesky").status_code == 403
    assert post(person, "/governance/accounts/connect/webhook", {"key": "sneaky"}).status_code == 403
    typed = {"key": "m", "instance": "x.example"}
    assert post(person, "/governance/accounts/connect/mastodon", typed).status_code == 403
    assert person.get("/governance/accounts/connect/callback?state=a&code=b").status_code == 403
    assert channel(runtime, "sneaky") is None
    assert 'href="/governance/accounts/connect"' not in person.get("/governance/accounts").text


def test_hostile_input_gets_a_clear_error_and_stores_nothing(gov_app, runtime):
    ada = browser(gov_app)
    r = post(ada, "/governance/accounts/connect/webhook", {"key": "<script>alert(1)</script>", "name": "x"})
    assert r.status_code == 422 and "must be lowercase letters" in r.text
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;" in r.text
    r = post(ada, "/governance/accounts/connect/webhook", {"key": "ok-key", "name": "N" * 100_000,
                                                           "outbound_url": "ftp://example.com/\u202ehidden"})
    assert r.status_code == 422 and "outbound_url" in r.text and channel(runtime, "ok-key") is None
    r = post(ada, "/governance/accounts/connect/bluesky", {"key": "dup-check", "handle": "a\u200b.bsky.social",
                                                           "app_password": ""})
    assert r.status_code == 422 and channel(runtime, "dup-check") is None
    r = ada.get("/governance/accounts/connect/callback?state=" + "s" * 20_000 + "&code=" + "c" * 20_000)
    assert r.status_code == 400 and "Nothing was stored" in r.text
    assert ada.get("/governance/accounts/connect/telegram").status_code == 404
    assert post(ada, "/governance/accounts/connect/pick", {"connect_id": "abc"}).status_code == 422
    assert post(ada, "/governance/accounts/connect/webhook", {"key": "webhook-1"}).status_code == 200
    again = post(ada, "/governance/accounts/connect/webhook", {"key": "webhook-1"})
    assert again.status_code == 422 and "already exists" in again.text


def test_spent_attempts_do_not_linger(gov_app, runtime):
    from datetime import timedelta

    ada = browser(gov_app)
    start_mastodon(ada, "old-attempt")
    with unit_of_work(runtime.session_factory) as s:
        s.scalar(select(ChannelConnect)).expires_at = utcnow() - timedelta(days=2)
    start_mastodon(ada, "new-attempt")
    with runtime.session_factory() as s:
        assert list(s.scalars(select(ChannelConnect.channel_key))) == ["new-attempt"]
