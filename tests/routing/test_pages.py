"""The playbook and incident pages, signed in as a coordinator and as a responder."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from onevoice.auth.models import User
from onevoice.cases.models import Incident
from onevoice.db import unit_of_work, utcnow
from onevoice.routing.factory import DEFAULT_PLAYBOOK
from onevoice.routing.models import Playbook
from tests.web.helpers import password_hash, sign_in

DEFAULT = DEFAULT_PLAYBOOK.read_text(encoding="utf-8")


@pytest.fixture
def browser(app, runtime):
    with unit_of_work(runtime.session_factory) as s:  # the people of conftest.py sign in with a password
        hashed = password_hash()
        for user in s.scalars(select(User)):
            user.password_hash = hashed

    def make(email: str) -> TestClient:
        c = TestClient(app)
        assert sign_in(c, email).status_code == 303
        c.headers["X-CSRF-Token"] = re.search(r'data-csrf="([^"]+)"', c.get("/inbox").text).group(1)
        return c

    return make


def test_the_coordinator_checks_dry_runs_saves_and_rolls_back_on_the_page(browser, runtime):
    lee = browser("lee@acme.test")
    page = lee.get("/routing/playbook")
    assert page.status_code == 200 and "name: spam" in page.text
    assert "Active playbook: default (packaged default)" in page.text

    broken = DEFAULT.replace("when: {intent: press_inquiry}", "when: {intent: press_inquiry, colour: red}")
    line = broken.splitlines().index("  - name: press") + 1
    r = lee.post("/routing/playbook/check", data={"source": broken, "text": "hello"})
    assert r.status_code == 422 and f"<b>line {line}</b>: rule press: unknown condition" in r.text
    assert "colour: red" in r.text  # the draft is kept, not lost

    draft = DEFAULT.replace("when: {intent: question, unassigned: true}\n    then: {lead: support}",
                            "when: {intent: question, unassigned: true}\n    then: {lead: sales}")
    r = lee.post("/routing/playbook/check", data={"source": draft, "text": "do you deliver on sundays?",
                                                  "channel": "mast"})
    assert r.status_code == 200 and 'id="dry-run"' in r.text
    assert "<b>Lead:</b> sales" in r.text and "<code>question</code> support answers questions" in r.text
    assert "would decide: lead support" in r.text

    r = lee.post("/routing/playbook/save", data={"source": broken, "note": "x"})
    assert r.status_code == 422 and "colour: red" in r.text
    r = lee.post("/routing/playbook/save", data={"source": draft, "note": "questions to sales", "activate": "1"},
                 follow_redirects=False)
    assert r.status_code == 303
    page = lee.get(r.headers["location"])
    assert "Saved as version 2 and switched on" in page.text and "questions to sales" in page.text
    with runtime.session_factory() as s:
        v1 = s.scalar(select(Playbook.id).where(Playbook.version == 1))
    assert f'action="/routing/playbook/{v1}/activate"' in page.text and "Roll back" in page.text
    assert lee.post(f"/routing/playbook/{v1}/activate", follow_redirects=False).status_code == 303
    assert "Active playbook: default v1" in lee.get("/routing/playbook").text


def test_a_responder_may_not_open_the_playbook(browser):
    sam = browser("sam@acme.test")
    r = sam.get("/routing/playbook")
    assert r.status_code == 403 and "only admin, coordinator may read or change routing playbooks" in r.text
    assert sam.post("/routing/playbook/save", data={"source": DEFAULT}).status_code == 403


def test_incidents_page_shows_status_and_duration_and_lets_pr_close(browser, runtime):
    with unit_of_work(runtime.session_factory) as s:
        from datetime import timedelta

        s.add(Incident(topic="voltix-v3", status="open", summary="9 negative messages about voltix-v3",
                       opened_at=utcnow() - timedelta(hours=2, minutes=5)))
        s.add(Incident(topic="refund", status="closed", summary="old", opened_at=utcnow() - timedelta(days=2),
                       closed_at=utcnow() - timedelta(days=2) + timedelta(minutes=45), closed_by="system",
                       close_reason="quiet for 60 min"))
    sam = browser("sam@acme.test")
    page = sam.get("/incidents")
    assert page.status_code == 200 and "voltix-v3" in page.text and "2 h 05 min" in page.text
    assert "45 min" in page.text and "system: quiet for 60 min" in page.text
    assert "/close" not in page.text  # support responders see, PR and coordinators act

    lee = browser("lee@acme.test")
    with runtime.session_factory() as s:
        open_id = s.scalar(select(Incident.id).where(Incident.status == "open"))
    assert f'action="/incidents/{open_id}/close"' in lee.get("/incidents").text
    r = lee.post(f"/incidents/{open_id}/close", data={"reason": "recall announced"}, follow_redirects=False)
    assert r.status_code == 303
    assert "lee@acme.test: recall announced" in lee.get("/incidents?status=closed").text


def test_the_playbook_page_lists_what_the_vocabulary_routes(browser, runtime):
    from onevoice.auth.principal import SYSTEM
    from onevoice.triage.vocabulary import save_entry

    lee = browser("lee@acme.test")
    assert "No term carries a team yet" in lee.get("/routing/playbook").text
    with unit_of_work(runtime.session_factory) as s:
        save_entry(s, SYSTEM, "glimmerdeck", "Glimmerdeck", "term", intent="sales_lead", team="sales")
        save_entry(s, SYSTEM, "rivalco", "RivalCo", "competitor")  # no team: not a route
    page = lee.get("/routing/playbook").text
    section = page[page.index('id="vocabulary-routes"'):page.index('id="versions"')]
    assert "term <b>Glimmerdeck</b> (reads as sales_lead) → <b>sales</b>" in section and "RivalCo" not in section


def test_the_playbook_and_models_pages_share_one_routing_nav_marking_their_own_item(browser):
    """One partial (routing/_nav.html) draws the section's navigation; each page names its own item."""
    lee = browser("lee@acme.test")
    for path, own in (("/routing/playbook", "/routing/playbook"), ("/triage/models", "/triage/models")):
        page = lee.get(path)
        assert page.status_code == 200
        nav = re.search(r'<nav class="gov-nav" aria-label="Routing">(.*?)</nav>', page.text, re.S).group(1)
        links = re.findall(r'<a class="([^"]+)" href="([^"]+)">([^<]+)</a>', nav)
        assert [(href, label) for _, href, label in links] == [
            ("/routing/playbook", "Playbook"), ("/triage/models", "Models"), ("/incidents", "Incidents"),
            ("/inbox", "Inbox")]
        assert [href for cls, href, _ in links if "active" in cls.split()] == [own]
