"""Identity under attack: wrong passwords rate-limited, admin password reset, deactivation and revocation
taking effect at once (pages and API tokens), token scopes enforced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from onevoice.audit.models import AuditRecord
from onevoice.auth.models import ApiToken, User, UserSession
from onevoice.auth.tokens import create_token
from onevoice.cli.main import app as cli
from onevoice.db import unit_of_work, utcnow
from onevoice.governance import signin
from tests.governance.conftest import PASSWORD
from tests.web.helpers import sign_in

pytestmark = pytest.mark.both_databases
NEW = "a-brand-new-password"


def anonymous(gov_app):
    from fastapi.testclient import TestClient

    return TestClient(gov_app)


def test_wrong_passwords_are_limited_per_account_and_address_and_per_address(gov_app, runtime, monkeypatch):
    monkeypatch.setattr(signin, "PER_ADDRESS", 6)
    client = anonymous(gov_app)
    for _ in range(signin.PER_PAIR):
        assert sign_in(client, "sam@acme.test", "wrong-password").status_code == 401
    r = sign_in(client, "sam@acme.test", PASSWORD)  # even the right password waits now, from this address
    assert r.status_code == 429 and "Too many failed sign-ins" in r.text and int(r.headers["Retry-After"]) > 800
    assert sign_in(client, "lee@acme.test", PASSWORD).status_code == 303  # other accounts are not locked out
    with runtime.session_factory() as s:
        failed = list(s.scalars(select(AuditRecord).where(AuditRecord.action == signin.FAILED)))
        assert len(failed) == signin.PER_PAIR and failed[0].actor == "sam@acme.test" and failed[0].ip
        signin.check_allowed(s, "sam@acme.test", "198.51.100.7")  # the owner, elsewhere, is not held up
        signin.check_allowed(s, "sam@acme.test", failed[0].ip, now=utcnow() + timedelta(minutes=16))  # window over
    other = anonymous(gov_app)
    assert sign_in(other, "nobody@acme.test", "x" * 9).status_code == 401  # 6th failure from this address
    r = sign_in(other, "mia@acme.test", PASSWORD)
    assert r.status_code == 429  # the address is limited too, whichever account it tries


def test_guessing_from_many_addresses_slows_the_account_down_without_locking_its_owner_out(runtime, org):
    with unit_of_work(runtime.session_factory) as s:
        for i in range(40):  # one guess from each of 40 addresses
            signin.record_failure(s, "sam@acme.test", f"203.0.113.{i}")
    with runtime.session_factory() as s:
        last = s.scalar(select(AuditRecord.at).where(AuditRecord.action == signin.FAILED)
                        .order_by(AuditRecord.seq.desc()).limit(1))
        assert signin.account_delay(9) == timedelta(0) and signin.account_delay(11) == timedelta(seconds=2)
        with pytest.raises(signin.TooManyAttempts) as held:
            signin.check_allowed(s, "sam@acme.test", "198.51.100.7", now=last + timedelta(seconds=20))
        assert held.value.retry_after == 10 and "10 seconds" in str(held.value)
        # At most ACCOUNT_MAX_DELAY after the last failure, from any address: a slowdown, not a lockout.
        signin.check_allowed(s, "sam@acme.test", "198.51.100.7", now=last + signin.ACCOUNT_MAX_DELAY)
        signin.check_allowed(s, "lee@acme.test", "203.0.113.1", now=last)  # other accounts are untouched


def _serve(runtime, gov_app, **settings):
    """The app behind the uvicorn configuration `onevoice serve` uses, on a free port of this machine."""
    from onevoice.cli.serving import uvicorn_config
    from tests.server import ServerThread, free_port

    configured = runtime.settings.model_copy(update=settings)
    return ServerThread(gov_app, config=uvicorn_config(gov_app, configured, "127.0.0.1", free_port()))


def _sign_in_from(server, email: str, password: str, **headers: str):
    import httpx

    with httpx.Client(base_url=server.url, headers=headers) as browser:
        return sign_in(browser, email, password)


def _sign_in_over_https_from(server, address: str):
    """As a browser behind a TLS-terminating proxy on this machine: the proxy says https and the address."""
    import re

    import httpx

    headers = {"X-Forwarded-For": address, "X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=server.url, headers=headers) as browser:
        form = browser.get("/login")
        assert "secure" in form.headers["set-cookie"].lower()  # so httpx, on http here, would not send it back
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        return browser.post("/login", data={"email": "sam@acme.test", "password": PASSWORD, "csrf_token": token},
                            headers={"Cookie": f"onevoice_login_csrf={form.cookies['onevoice_login_csrf']}"},
                            follow_redirects=False)


def test_spoofed_forwarded_for_is_ignored_without_a_trusted_proxy(runtime, gov_app):
    """The attack: five wrong passwords, each claiming another address, to lock the owner out and to
    write made-up addresses into the audit log."""
    with _serve(runtime, gov_app) as server:
        for i in range(signin.PER_PAIR):
            r = _sign_in_from(server, "sam@acme.test", "wrong-password", **{"X-Forwarded-For": f"203.0.113.{i}"})
            assert r.status_code == 401
        import httpx

        said_https = httpx.get(f"{server.url}/login", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in said_https.headers  # nor is a made-up https believed
    with runtime.session_factory() as s:
        ips = set(s.scalars(select(AuditRecord.ip).where(AuditRecord.action == signin.FAILED)))
    assert ips == {"127.0.0.1"}  # where the requests really came from


def test_behind_a_trusted_proxy_the_owner_signs_in_while_an_attacker_is_held(runtime, gov_app):
    with _serve(runtime, gov_app, trusted_proxies="127.0.0.1") as server:
        for _ in range(signin.PER_PAIR):
            assert _sign_in_from(server, "sam@acme.test", "wrong", **{"X-Forwarded-For": "203.0.113.9"}
                                 ).status_code == 401
        held = _sign_in_from(server, "sam@acme.test", PASSWORD, **{"X-Forwarded-For": "203.0.113.9"})
        assert held.status_code == 429
        owner = _sign_in_over_https_from(server, "198.51.100.7")
        assert owner.status_code == 303
        # The proxy said https: the session cookie is Secure and browsers are told to stay on https.
        assert "secure" in owner.headers["set-cookie"].lower()
        assert owner.headers["strict-transport-security"] == "max-age=31536000"
    with runtime.session_factory() as s:
        assert set(s.scalars(select(AuditRecord.ip).where(AuditRecord.action == signin.FAILED))) == {"203.0.113.9"}
        assert s.scalar(select(UserSession.ip)) == "198.51.100.7"


def test_admin_resets_a_password_and_the_old_sessions_end(browser_for, runtime, db_url):
    sam, ada, lee = browser_for("sam"), browser_for("ada"), browser_for("lee")
    assert "Reset password" in ada.get("/governance/users").text
    assert lee.get("/governance/users").status_code == 403
    r = lee.post("/governance/users/password", data={"email": "sam@acme.test", "password": NEW,
                                                    "csrf_token": lee.csrf})
    assert r.status_code == 403
    r = ada.post("/governance/users/password", data={"email": "sam@acme.test", "password": NEW,
                                                    "csrf_token": ada.csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert sam.get("/inbox", follow_redirects=False).headers["location"].startswith("/login")
    assert sign_in(anonymous(sam.app), "sam@acme.test", PASSWORD).status_code == 401
    assert sign_in(anonymous(sam.app), "sam@acme.test", NEW).status_code == 303
    result = CliRunner().invoke(cli, ["user", "reset-password", "sam@acme.test", "--password", PASSWORD,
                                      "--database-url", db_url])
    assert result.exit_code == 0, result.output
    with runtime.session_factory() as s:
        rows = s.scalars(select(AuditRecord).where(AuditRecord.target == "user:sam@acme.test"))
        actions = [(r.actor, r.action) for r in rows]
    assert ("ada@acme.test", "user.update") in actions and ("ada@acme.test", "auth.sessions_revoke") in actions


def test_a_deactivated_user_loses_pages_and_tokens_at_once(browser_for, api_for, runtime):
    sam, ada, sam_api = browser_for("sam"), browser_for("ada"), api_for("sam")
    assert sam.get("/inbox").status_code == 200 and sam_api.get("/api/v1/cases?team=support").status_code == 200
    ada.post("/governance/users/active", data={"email": "sam@acme.test", "active": "0", "csrf_token": ada.csrf})
    assert sam.get("/inbox", follow_redirects=False).status_code == 303
    assert sam_api.get("/api/v1/cases?team=support").status_code == 401
    assert sam_api.get("/api/v1/guard/rules").status_code == 401
    assert sign_in(anonymous(sam.app), "sam@acme.test", PASSWORD).status_code == 401
    with runtime.session_factory() as s:
        sam_id = s.scalar(select(User.id).where(User.email == "sam@acme.test"))
        assert all(us.revoked_at for us in s.scalars(select(UserSession).where(UserSession.user_id == sam_id)))
    ada.post("/governance/users/active", data={"email": "sam@acme.test", "active": "1", "csrf_token": ada.csrf})
    assert sam_api.get("/api/v1/cases?team=support").status_code == 200  # the token is back; the browser signs in again
    assert sam.get("/inbox", follow_redirects=False).status_code == 303


def test_admin_signs_someone_out_everywhere(browser_for):
    sam, ada = browser_for("sam"), browser_for("ada")
    ada.post("/governance/users/sign-out", data={"email": "sam@acme.test", "csrf_token": ada.csrf})
    assert sam.get("/inbox", follow_redirects=False).status_code == 303


def test_tokens_are_revoked_over_http_and_stop_at_once(api_for, runtime):
    admin, sam = api_for(None), api_for("sam")
    items = admin.get("/api/v1/tokens").json()["items"]
    sam_token = next(t for t in items if t["user"] == "sam@acme.test")
    assert "token_hash" not in sam_token and sam_token["state"] == "active"
    assert {t["user"] for t in sam.get("/api/v1/tokens").json()["items"]} == {"sam@acme.test"}  # only his own
    assert sam.get("/api/v1/cases?team=support").status_code == 200
    assert admin.delete(f"/api/v1/tokens/{sam_token['id']}").status_code == 200
    assert sam.get("/api/v1/cases?team=support").status_code == 401
    with runtime.session_factory() as s:
        assert s.scalar(select(AuditRecord.action).where(AuditRecord.action == "token.revoke")) == "token.revoke"


@pytest.mark.parametrize("scopes, allowed, refused", [
    (["cases:read"], ["GET /api/v1/cases"], ["POST /api/v1/messages", "GET /api/v1/guard/rules",
                                             "GET /api/v1/messages"]),
    (["messages:*"], ["GET /api/v1/messages"], ["GET /api/v1/cases", "GET /api/v1/stream"]),
    (["governance:read"], ["GET /api/v1/guard/rules", "POST /api/v1/guard/check"],
     ["POST /api/v1/guard/rules", "GET /api/v1/audit"]),
    (["*"], ["GET /api/v1/cases", "GET /api/v1/messages", "GET /api/v1/audit"], []),
])
def test_token_scopes_are_enforced(gov_app, runtime, scopes, allowed, refused):
    from fastapi.testclient import TestClient

    with unit_of_work(runtime.session_factory) as s:
        _t, plaintext = create_token(s, "scoped", scopes=scopes)
    client = TestClient(gov_app, headers={"Authorization": f"Bearer {plaintext}"})
    body = {"text": "hello"}
    for call in allowed:
        method, path = call.split()
        assert client.request(method, path, json=body if method == "POST" else None).status_code == 200, call
    for call in refused:
        method, path = call.split()
        r = client.request(method, path, json=body if method == "POST" else None)
        assert r.status_code == 403 and "scope" in r.text, call


def test_cli_token_with_scopes_and_user(db_url, session_factory, org):
    result = CliRunner().invoke(cli, ["token", "create", "reader", "--scope", "cases:read", "--user",
                                      "vic@acme.test", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    with session_factory() as s:
        token = s.scalar(select(ApiToken).where(ApiToken.name == "reader"))
        assert token.scopes == ["cases:read"] and token.user_id is not None
