"""/docs works with the network cut (issue 10, item 2): Swagger UI comes from OneVoice itself, not a CDN."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot

pytestmark = pytest.mark.browser


def test_api_docs_list_the_operations_offline(chromium, server):
    context = chromium.new_context(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(15000)
    elsewhere, refused, errors = [], [], []

    def only_localhost(route):
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:  # as on an air-gapped machine: nothing beyond this host answers
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", only_localhost)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # The CSP's refusals show as console errors: the docs page must need nothing it forbids.
    page.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
    try:
        r = page.goto(server.url + "/docs")
        assert r.status == 200
        # The whole API's document is built on the first request and Swagger UI renders every operation:
        # seconds on a busy machine, so more than expect's 5 s default.
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("OneVoice", timeout=30000)
        operations = page.locator(".opblock-summary-path")
        expect(operations.first).to_be_visible()
        paths = set(operations.all_inner_texts())
        assert {"/api/v1/messages", "/api/v1/cases", "/api/v1/cases/{case_id}", "/healthz"} <= {
            p.replace("\u200b", "") for p in paths}
        # An operation opens with its parameters and responses.
        page.locator("#operations-messages-post_messages_api_v1_messages_post .opblock-summary").click()
        expect(page.locator("#operations-messages-post_messages_api_v1_messages_post .responses-wrapper"))\
            .to_be_visible()
        shot(page, "api-docs-offline")
        assert "script-src 'self'" in r.headers.get("content-security-policy", "")
        assert not elsewhere, f"the docs asked for outside resources: {elsewhere}"
        assert not refused, refused
        assert not errors, errors
    finally:
        context.close()


def test_redoc_and_the_cdn_pages_are_gone(server):
    """FastAPI's default pages (CDN-loaded) are not served: /redoc is off, /docs is ours."""
    assert server.api.get("/redoc").status_code == 404
    docs = server.api.get("/docs").text
    assert "cdn." not in docs and "https://" not in docs
