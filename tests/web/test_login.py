"""Signing in and out, redirects, cookies and CSRF on the pages."""

from __future__ import annotations

from fastapi.testclient import TestClient

from onevoice.auth.sessions import COOKIE
from tests.web.helpers import page_csrf, sign_in


def test_pages_need_a_signed_in_user(app):
    with TestClient(app) as client:
        r = client.get("/inbox?queue=open", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
        r = client.get("/cases/1", headers={"HX-Request": "true"}, follow_redirects=False)
        assert r.status_code == 401 and r.headers["HX-Redirect"].startswith("/login")


def test_sign_in_sets_a_safe_cookie_and_sign_out_kills_the_session(app):
    with TestClient(app) as client:
        r = sign_in(client, "sam@acme.test", next_url="/inbox?queue=mine")
        assert r.status_code == 303 and r.headers["location"] == "/inbox?queue=mine"
        set_cookie = r.headers["set-cookie"].lower()
        assert "httponly" in set_cookie and "samesite=lax" in set_cookie
        cookie = client.cookies.get(COOKIE)
        assert client.get("/inbox").status_code == 200
        token = page_csrf(client)
        assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    with TestClient(app) as other:
        other.cookies.set(COOKIE, cookie)  # a copied cookie is dead once its session is ended
        assert other.get("/inbox", follow_redirects=False).status_code == 303


def test_wrong_password_unknown_user_and_open_redirects(app):
    with TestClient(app) as client:
        assert sign_in(client, "sam@acme.test", "not-the-password").status_code == 401
        assert sign_in(client, "who@acme.test").status_code == 401
        r = sign_in(client, "sam@acme.test", next_url="//evil.example/steal")
        assert r.headers["location"] == "/inbox"
    with TestClient(app) as client:
        r = sign_in(client, "sam@acme.test", next_url="/\t/evil.example/steal")  # a browser drops the tab
        assert r.headers["location"] == "/inbox"


def test_over_https_the_cookies_are_secure_and_browsers_are_told_to_stay(app):
    with TestClient(app, base_url="https://testserver") as client:
        form = client.get("/login")
        assert "secure" in form.headers["set-cookie"].lower()  # the sign-in form's CSRF cookie too
        r = sign_in(client, "sam@acme.test")
        assert r.status_code == 303 and "secure" in r.headers["set-cookie"].lower()
        assert r.headers["strict-transport-security"] == "max-age=31536000"
        assert client.get("/api/v1/cases").headers["strict-transport-security"] == "max-age=31536000"
    with TestClient(app) as client:  # plain http in development/test: a browser would refuse a Secure cookie
        r = sign_in(client, "sam@acme.test")
        assert "secure" not in r.headers["set-cookie"].lower() and "strict-transport-security" not in r.headers


def test_cookie_secure_setting_forces_the_flag(app, runtime):
    from starlette.requests import Request

    from onevoice.web.session import secure_cookies

    over_http = Request({"type": "http", "scheme": "http", "path": "/login", "headers": [], "server": ("x", 80)})
    assert secure_cookies(over_http, runtime) is False
    runtime.settings = runtime.settings.model_copy(update={"cookie_secure": True})
    assert secure_cookies(over_http, runtime) is True
    runtime.settings = runtime.settings.model_copy(update={"cookie_secure": None, "environment": "production"})
    assert secure_cookies(over_http, runtime) is True


def test_login_and_every_form_need_the_csrf_token(app, browser_for, post):
    with TestClient(app) as client:
        client.get("/login")
        r = client.post("/login", data={"email": "sam@acme.test", "password": "correct-horse-battery",
                                        "csrf_token": "forged"}, follow_redirects=False)
        assert r.status_code == 403
    sam = browser_for("sam@acme.test")
    from tests.factories import message

    [case_id] = post(message(text="broken again, terrible"))
    assert sam.post(f"/cases/{case_id}/status", data={"status": "resolved"}).status_code == 403
    assert sam.post(f"/cases/{case_id}/status", data={"status": "resolved", "csrf_token": "x"}).status_code == 403
    ok = sam.post(f"/cases/{case_id}/status", data={"status": "resolved"},
                  headers={"X-CSRF-Token": page_csrf(sam)})
    assert ok.status_code == 200


def test_pages_send_security_headers(browser_for):
    r = browser_for("sam@acme.test").get("/inbox")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
