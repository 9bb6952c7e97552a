"""The reply path through the policy guard and risk-based approval, as people use it (HTTP routes)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from onevoice.approvals.models import Approval
from onevoice.audit.models import AuditRecord
from onevoice.cases.models import CaseTeam
from onevoice.cases.queue import queue_fields
from onevoice.db import unit_of_work, utcnow
from onevoice.messages.models import Message
from onevoice.outbox.models import OutboxJob
from onevoice.teams.models import Team
from tests.governance.conftest import make_case

pytestmark = pytest.mark.both_databases


def customer_case(runtime, intent="question", channel="mast", teams=("support", "legal")) -> int:
    """A case led by the first team (others collaborate) with one inbound message to reply to."""
    with unit_of_work(runtime.session_factory) as session:
        case = make_case(session, channel=channel, intent=intent)
        ids = dict(session.execute(select(Team.key, Team.id)).all())
        case.lead_team_id = ids[teams[0]]
        for i, key in enumerate(teams):
            session.add(CaseTeam(case_id=case.id, team_id=ids[key], role="lead" if i == 0 else "collaborator",
                                 **queue_fields(case)))
        session.add(Message(channel_id=case.channel_id, external_id=f"in-{case.id}", direction="inbound",
                            kind="mention", text="Where is my order?",
                            author={"external_id": "ana", "handle": "@ana", "name": "Ana"},
                            created_at=utcnow(), status="processed", case_id=case.id))
        return case.id


def reply(client, case_id, text, htmx=False):
    headers = {"X-CSRF-Token": client.csrf, **({"HX-Request": "true"} if htmx else {})}
    return client.post(f"/cases/{case_id}/reply", data={"text": text}, headers=headers)


def outbound(runtime, case_id) -> list[Message]:
    with runtime.session_factory() as s:
        return list(s.scalars(select(Message).where(Message.case_id == case_id, Message.direction == "outbound")))


def decide(client, approval_id, **data):
    return client.post(f"/approvals/{approval_id}/decide", data=data, headers={"X-CSRF-Token": client.csrf})


def test_a_blocked_reply_is_refused_with_what_and_where_and_nothing_is_sent(browser_for, runtime):
    case_id = customer_case(runtime)
    sam = browser_for("sam")
    r = reply(sam, case_id, "Call me, you idiot")
    assert r.status_code == 422 and "banned term at 13-18: &#39;idiot&#39;" in r.text
    assert outbound(runtime, case_id) == []
    r = reply(sam, case_id, "Write to ana@example.com, idiot", htmx=True)  # the composer shows it in place
    assert r.status_code == 200 and r.headers["HX-Retarget"] == "#composer-alert"
    assert '<mark class="sev-block"' in r.text and "email address" in r.text.lower()
    assert outbound(runtime, case_id) == []


def test_a_routine_reply_goes_out_and_warnings_are_shown(browser_for, runtime):
    case_id = customer_case(runtime)
    sam = browser_for("sam")
    r = reply(sam, case_id, "Thanks Ana, we have sent you a direct message.")
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "reply-sent"
    r = reply(sam, case_id, "Sorry Ana, this is not related to the lawsuit; we sent you a DM.")
    trigger = json.loads(r.headers["HX-Trigger"])["reply-sent"]
    assert not trigger["held"] and "lawsuit" in trigger["warnings"][0]
    # Queued for delivery (the test's "mastodon" channel has no credentials, so the send itself fails later).
    assert [m.status in ("queued", "sent", "failed") for m in outbound(runtime, case_id)] == [True, True]


def test_a_risky_reply_waits_for_its_approving_team_who_can_edit_and_approve(browser_for, runtime):
    case_id = customer_case(runtime, intent="legal_risk")
    sam, lena, lee = browser_for("sam"), browser_for("lena"), browser_for("lee")
    r = reply(sam, case_id, "We are looking into it and will write to you today.")
    assert json.loads(r.headers["HX-Trigger"])["reply-sent"]["held"]
    [m] = outbound(runtime, case_id)
    assert m.status == "pending_approval"
    with runtime.session_factory() as s:
        approval = s.scalar(select(Approval))
        assert s.get(Team, approval.approver_team_id).key == "legal" and approval.due_at > approval.requested_at
    page = sam.get(f"/cases/{case_id}").text
    assert "Waiting for approval by Legal" in page and "so far" in page and "Reply waiting for approval" in page
    assert "Edit and approve" not in page  # Sam (support) does not decide Legal's requests
    assert decide(sam, approval.id, decision="approve").status_code == 403
    assert "Edit and approve" in lena.get(f"/cases/{case_id}").text
    r = decide(lena, approval.id, decision="approve", text="We are looking into it, you idiot.")
    assert r.status_code == 422 and "banned term" in r.text  # an edit goes through the guard again
    r = decide(lena, approval.id, decision="approve", text="We are looking into it and will reply today.")
    assert r.status_code == 200
    [m] = outbound(runtime, case_id)
    assert m.text == "We are looking into it and will reply today." and m.status != "pending_approval"
    with runtime.session_factory() as s:
        assert s.scalar(select(OutboxJob.message_id)) == m.id
    assert decide(lee, approval.id, decision="reject", note="late").status_code == 422  # already decided
    with runtime.session_factory() as s:
        decided = s.get(Approval, approval.id)
        assert decided.decided_by == "lena@acme.test" and "original read: We are looking" in decided.decision_note
        assert s.scalar(select(AuditRecord).where(AuditRecord.action == "approval.approve")).actor == "lena@acme.test"


def test_rejecting_needs_a_reason_and_the_author_sees_it(browser_for, runtime):
    case_id = customer_case(runtime, intent="legal_risk")
    sam, lee = browser_for("sam"), browser_for("lee")
    reply(sam, case_id, "We will refund everyone who asks.")
    with runtime.session_factory() as s:
        approval_id = s.scalar(select(Approval.id))
    assert decide(lee, approval_id, decision="reject").status_code == 422
    assert decide(lee, approval_id, decision="reject", note="We cannot promise refunds").status_code == 200
    [m] = outbound(runtime, case_id)
    assert m.status == "rejected" and "We cannot promise refunds" in m.error
    assert "Not sent: rejected by Lee Coordinator: We cannot promise refunds" in sam.get(f"/cases/{case_id}").text
