"""OneVoice as an installed web app: the manifest and icons Chromium asks for, the favicon, and what the pages do
when the live stream drops (say so, reconnect, catch up)."""

from __future__ import annotations

import json

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARGS, CHROMIUM, shot
from tests.browser.proxy import CuttableProxy
from tests.browser.world import message
from tests.web.helpers import PASSWORD

pytestmark = pytest.mark.browser


def test_favicon_and_manifest_are_served_and_chromium_finds_the_app_installable(server, chromium, tmp_path):
    favicon = httpx.get(server.url + "/favicon.ico")
    assert favicon.status_code == 200 and favicon.headers["content-type"] == "image/vnd.microsoft.icon"
    assert favicon.content[:4] == b"\x00\x00\x01\x00"  # an ICO header
    manifest = httpx.get(server.url + "/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.headers["content-type"].startswith("application/manifest+json")
    app = json.loads(manifest.text)
    assert app["start_url"] == "/inbox" and app["display"] == "standalone"
    for icon in app["icons"]:
        r = httpx.get(server.url + icon["src"])
        assert r.status_code == 200 and r.headers["content-type"] == icon["type"], icon
        if icon["type"] == "image/png":  # the PNG's own width and height are what the manifest says
            width, height = int.from_bytes(r.content[16:20], "big"), int.from_bytes(r.content[20:24], "big")
            assert f"{width}x{height}" == icon["sizes"], icon

    # Chromium never offers to install from an incognito window, which every new_context() is: a profile on disk.
    context = chromium.browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=ARGS, headless=True,
        viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        failed = []
        page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
        page.goto(server.url + "/login")
        page.fill("input[name=email]", "lee@acme.test")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/inbox**")
        page.wait_for_load_state("networkidle")
        assert failed == [], failed  # no 404 for the favicon (or anything else) on the way in
        cdp = context.new_cdp_session(page)
        assert cdp.send("Page.getAppManifest")["errors"] == []
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == [], errors
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_a_dropped_live_stream_shows_reconnecting_and_catches_up_when_back(server, chromium, viewport):
    proxy = CuttableProxy(int(server.url.rsplit(":", 1)[1]))
    context = chromium.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    try:
        page = context.new_page()
        page.goto(proxy.url + "/login")
        page.fill("input[name=email]", "lee@acme.test")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/inbox**")
        page.goto(proxy.url + "/inbox?queue=open")
        state, banner = page.locator("#live-state"), page.locator("#live-banner")
        expect(state).to_have_text("Live")
        expect(banner).to_be_hidden()

        proxy.cut()  # the stream is cut and every reconnection is answered 502: the browser's own retry gives up
        expect(banner).to_be_visible(timeout=5000)
        expect(banner).to_contain_text("reconnecting")
        expect(state).to_have_text("Reconnecting…")
        expect(page.locator("#announcer")).to_have_text("Live updates interrupted: reconnecting.")
        # Meanwhile a customer writes: the page cannot hear of it yet.
        [mid] = server.post(message(text="Checkout keeps failing with error 500, terrible", author="nadia",
                                    channel="mast"))
        server.case_of(mid)
        page.wait_for_timeout(1500)
        shot(page, f"reconnecting-{'phone' if viewport[0] < 700 else 'desktop'}")
        expect(page.locator("#rows .row", has_text="Checkout keeps failing")).to_have_count(0)

        proxy.restore()
        expect(banner).to_be_hidden(timeout=20000)
        expect(state).to_have_text("Live")
        # What arrived while the stream was down comes in when it is back.
        expect(page.locator("#rows .row", has_text="Checkout keeps failing")).to_be_visible(timeout=5000)
    finally:
        context.close()
        proxy.close()
