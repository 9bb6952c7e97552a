"""A real OneVoice server (uvicorn in a thread, embedded worker, outbox sender) and Debian's chromium.

Chromium is the distribution's package (`apt-get install chromium`), driven by Playwright without its own
browser downloads. Under CI=true a missing chromium fails the run instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import httpx
import pytest

from onevoice.app import create_app
from onevoice.outbox.sender import deliver_due
from onevoice.pipeline.processor import Processor
from onevoice.pipeline.stages import build_router
from onevoice.runtime import build_runtime
from onevoice.scheduler.service import Scheduler
from tests.factories import seed_org
from tests.scripted_triage import ScriptedTriager
from tests.server import ServerThread
from tests.web.helpers import PASSWORD, seed_people

CHROMIUM = os.environ.get("ONEVOICE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
# A test run must not dirty the checkout: screenshots go to a temporary folder unless asked for elsewhere
# (ONEVOICE_SCREENSHOTS=docs/screenshots refreshes the ones the docs show).
SCREENSHOTS = Path(os.environ.get("ONEVOICE_SCREENSHOTS") or Path(tempfile.gettempdir()) / "onevoice-screenshots")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def chromium():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        message = f"chromium not found at {CHROMIUM}: apt-get install -y chromium"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


class Server:
    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    def post(self, *items) -> list[int]:
        r = self.api.post("/api/v1/messages", json={"messages": list(items)})
        assert r.status_code == 202 and not r.json()["rejected"], r.text
        return [a["id"] for a in r.json()["accepted"]]

    def case_of(self, message_id: int, timeout: float = 10) -> int:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.api.get(f"/api/v1/messages/{message_id}").json()
            if m.get("case_id"):
                return m["case_id"]
            time.sleep(0.05)
        raise AssertionError(f"message {message_id} was not processed")


@pytest.fixture
def server(settings):
    runtime = build_runtime(settings)
    runtime._processor = Processor(runtime.session_factory, ScriptedTriager(),
                                   build_router(settings, runtime.session_factory))
    token = seed_org(runtime.session_factory)
    seed_people(runtime.session_factory)
    scheduler = Scheduler()
    # A reply or post is sent within a fifth of a second, as the tests wait for "Sent" (every second before: up
    # to a second of waiting each time; a tick with nothing due is one small query).
    scheduler.add("outbox", 0.2, lambda: runtime.broker.publish(deliver_due(runtime.session_factory)))
    app = create_app(settings, runtime=runtime, start_worker=True, scheduler=scheduler)
    with ServerThread(app) as thread:
        server = Server(thread.url, token)
        server.app = app
        yield server
        server.api.close()
    runtime.dispose()


@pytest.fixture
def world(server, settings) -> dict:
    """Something on every page: tests/browser/world.py."""
    from tests.browser.world import build_world

    return build_world(server, settings)


@pytest.fixture
def sign_in(chromium, server):
    """A new browser session signed in as `email` (each call is a separate person)."""
    contexts = []

    def run(email: str, viewport=(1440, 900)):
        context = chromium.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                       device_scale_factor=1)
        contexts.append(context)
        page = context.new_page()
        # A bound on waiting, not a speed check: with the suite in two processes, a page can wait for the CPU.
        page.set_default_timeout(15000)
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.js_errors = errors
        page.goto(server.url + "/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/inbox**")
        return page

    yield run
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
