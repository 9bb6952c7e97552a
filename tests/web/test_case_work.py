"""What people do on a case: teams, hand-off, notes with mentions, corrections, assignment, status."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from onevoice.auth.models import User
from onevoice.cases.models import Case, CaseTeam
from onevoice.events.models import Event
from onevoice.inbox.models import Notification
from onevoice.messages.models import Message
from onevoice.teams.models import Team
from onevoice.triage.models import TriageCorrection
from tests.factories import message
from tests.web.helpers import page_csrf

pytestmark = pytest.mark.both_databases


def act(client, case_id, path, **data):
    r = client.post(f"/cases/{case_id}/{path}", data=data, headers={"X-CSRF-Token": page_csrf(client)})
    assert r.status_code == 200, r.text
    return r


def teams_of(runtime, case_id):
    with runtime.session_factory() as s:
        return dict(s.execute(select(Team.key, CaseTeam.role).join(CaseTeam, CaseTeam.team_id == Team.id)
                              .where(CaseTeam.case_id == case_id)).all())


def test_teams_handoff_notes_and_mentions(browser_for, post, runtime):
    [case_id] = post(message(text="The kettle is broken, terrible"))
    sam = browser_for("sam@acme.test")
    pat = browser_for("pat@acme.test")
    assert pat.get(f"/cases/{case_id}").status_code == 404

    act(sam, case_id, "teams", team="product")
    assert teams_of(runtime, case_id) == {"support": "lead", "product": "collaborator"}
    assert pat.get(f"/cases/{case_id}").status_code == 200  # product now sees it in its queue

    r = act(sam, case_id, "notes", text="@legal may we offer a refund? cc @pat")
    assert "may we offer a refund" in r.text and "hx-swap-oob" in r.text
    assert teams_of(runtime, case_id)["legal"] == "collaborator"
    with runtime.session_factory() as s:
        kinds = {(n.kind, n.team_id is not None, n.user_id is not None) for n in s.scalars(select(Notification))}
    assert ("mention", True, False) in kinds and ("mention", False, True) in kinds

    act(sam, case_id, "teams/product/remove")
    assert "product" not in teams_of(runtime, case_id)
    r = sam.post(f"/cases/{case_id}/teams/support/remove", headers={"X-CSRF-Token": page_csrf(sam)})
    assert r.status_code == 422  # the lead is handed off, not removed

    r = sam.post(f"/cases/{case_id}/handoff", data={"team": "pr", "note": ""},
                 headers={"X-CSRF-Token": page_csrf(sam)})
    assert r.status_code == 422
    act(sam, case_id, "handoff", team="pr", note="Journalist asking; PR should lead")
    assert teams_of(runtime, case_id) == {"pr": "lead", "support": "collaborator", "legal": "collaborator"}
    page = sam.get(f"/cases/{case_id}").text
    assert "handed off Customer Support → PR &amp; Communications" in page and "Journalist asking" in page
    assert "routed to Customer Support" in page  # teams by name, not key


def test_what_routing_did_reads_as_routing(browser_for, post, runtime):
    # The processor records the teams it adds under its worker's id ("embedded"): people read "Routing".
    [case_id] = post(message(text="The kettle is broken, terrible"))
    with runtime.session_factory() as s:
        mid = s.scalar(select(Message.id).where(Message.case_id == case_id))
        s.add(Event(kind="case.teams_added", case_id=case_id, message_id=mid, actor="embedded", data={"teams": ["pr"]}))
        s.commit()
    page = browser_for("sam@acme.test").get(f"/cases/{case_id}").text
    assert "Routing added PR &amp; Communications" in page and "embedded" not in page


def test_assignment_status_and_queue_sync(browser_for, post, runtime):
    [case_id] = post(message(text="broken again, terrible"))
    sam = browser_for("sam@acme.test")
    with runtime.session_factory() as s:
        sam_id = s.scalar(select(User.id).where(User.email == "sam@acme.test"))
    act(sam, case_id, "assign", user_id=str(sam_id))
    assert f'id="case-{case_id}"' in sam.get("/inbox?queue=mine").text
    act(sam, case_id, "status", status="resolved")
    with runtime.session_factory() as s:
        case = s.get(Case, case_id)
        assert case.status == "resolved" and case.resolved_at is not None
        assert {ct.status for ct in s.scalars(select(CaseTeam).where(CaseTeam.case_id == case_id))} == {"resolved"}
    assert f'id="case-{case_id}"' not in sam.get("/inbox?queue=mine").text
    assert f'id="case-{case_id}"' in sam.get("/inbox?queue=mine&status=resolved").text
    r = sam.post(f"/cases/{case_id}/status", data={"status": "bogus"}, headers={"X-CSRF-Token": page_csrf(sam)})
    assert r.status_code == 422


def test_triage_corrections_feed_the_learning_loop(browser_for, post, runtime, api):
    [case_id] = post(message(text="broken blender, terrible"))
    [mid] = [m["id"] for m in api.get(f"/api/v1/cases/{case_id}").json()["messages"]]
    sam = browser_for("sam@acme.test")
    act(sam, case_id, "correct", message_id=str(mid), field="intent", value="question")
    act(sam, case_id, "correct", message_id=str(mid), field="sentiment", value="neutral")
    act(sam, case_id, "correct", message_id=str(mid), field="team", value="product")
    with runtime.session_factory() as s:
        rows = {(c.field, c.old_value, c.new_value) for c in s.scalars(select(TriageCorrection))}
        case = s.get(Case, case_id)
    assert rows == {("intent", "complaint", "question"), ("sentiment", "negative", "neutral"),
                    ("team", "support", "product")}
    assert case.intent == "question" and case.sentiment == "neutral"
    assert teams_of(runtime, case_id)["product"] == "lead"
    r = sam.post(f"/cases/{case_id}/correct", data={"message_id": mid, "field": "intent", "value": "nonsense"},
                 headers={"X-CSRF-Token": page_csrf(sam)})
    assert r.status_code == 422


@pytest.mark.parametrize("back", ["https://evil.example/phish", "//evil.example/phish", "/\t/evil.example/phish",
                                  "/\\evil.example", "javascript:alert(document.cookie)", "\nhttps://evil.example"])
def test_the_case_pages_back_link_stays_on_this_site(browser_for, post, back):
    """The attack: a link to a real case page whose "← Inbox" leads to a look-alike sign-in page."""
    from urllib.parse import quote

    [case_id] = post(message(text="where is my parcel"))
    sam = browser_for("sam@acme.test")
    page = sam.get(f"/cases/{case_id}?back={quote(back, safe='')}").text
    assert '<a class="back" href="/inbox" data-back>' in page and "evil.example" not in page
    ours = sam.get(f"/cases/{case_id}?back={quote('/inbox?queue=mine&team=support', safe='')}").text
    assert '<a class="back" href="/inbox?queue=mine&amp;team=support" data-back>' in ours
