"""A form sent with a stale CSRF token (the page was open before signing in again) changes nothing, and the
person gets a page that says so, with what they typed to copy back, instead of a bare line of text."""

from __future__ import annotations

import pytest

from tests.web.helpers import page_csrf

pytestmark = pytest.mark.both_databases


def test_a_stale_form_is_refused_with_a_page_that_keeps_the_typed_text(browser_for):
    lee = browser_for("lee@acme.test")
    typed = 'Our careful post <script>alert(1)</script> שלום 🎉'
    r = lee.post("/posts", data={"csrf_token": "stale", "text": typed, "channels": "news", "media_alt": "",
                                 "action": "publish"}, headers={"Referer": "http://testserver/posts"})
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "Nothing was changed" in r.text and 'class="topbar"' in r.text  # a page, with the top bar
    assert "Our careful post &lt;script&gt;alert(1)&lt;/script&gt; שלום 🎉</textarea>" in r.text
    assert "<script>alert(1)" not in r.text and 'href="/posts"' in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "No posts here yet." in lee.get("/posts").text  # nothing was stored


def test_a_stale_sign_in_never_echoes_the_password(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        client.get("/login")
        r = client.post("/login", data={"email": "sam@acme.test", "password": "correct-horse-battery",
                                        "csrf_token": "forged"}, headers={"Referer": "https://evil.example/x"})
        assert r.status_code == 403 and "correct-horse-battery" not in r.text
        assert "evil.example" not in r.text


def test_htmx_gets_a_short_message_for_its_toast(browser_for):
    sam = browser_for("sam@acme.test")
    page_csrf(sam)
    r = sam.post("/notifications/read", headers={"HX-Request": "true", "X-CSRF-Token": "stale"})
    assert r.status_code == 403 and "<html" not in r.text and "Reload the page" in r.text
