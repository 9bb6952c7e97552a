"""Insider attacks on notes and approvals (issue 11, items 5 and 6): a mention that delivers a note's text to
someone who cannot see the case, and a held reply approved by the person who wrote it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from onevoice.approvals.models import Approval
from onevoice.audit.models import AuditRecord
from onevoice.auth.models import User
from onevoice.auth.principal import SYSTEM
from onevoice.auth.users import create_user
from onevoice.db import unit_of_work
from onevoice.governance import grants
from onevoice.inbox.models import Notification
from tests.governance.conftest import password_hash
from tests.governance.test_reply_flow import customer_case, decide, outbound, reply

pytestmark = pytest.mark.both_databases
SECRET = "the customer's card ends 4242"


@pytest.fixture
def two_anas(runtime, gov_app):
    """Two people answer to @ana: a Support responder and an agency's partner (Marketing, granted `mast`)."""
    with unit_of_work(runtime.session_factory) as s:
        for email, role, team in (("ana@acme.test", "responder", "support"), ("ana@agency.example", "partner",
                                                                             "marketing")):
            create_user(s, email, "Ana " + role, None, role, [team]).password_hash = password_hash()
        grants.grant(s, SYSTEM, "ana@agency.example", "mast")


def note(client, case_id, text):
    r = client.post(f"/cases/{case_id}/notes", data={"text": text},
                    headers={"X-CSRF-Token": client.csrf, "HX-Request": "true"})
    assert r.status_code == 200, r.text
    return r


def told(r) -> list[str]:
    """What the author's toast says reached nobody."""
    return json.loads(r.headers["HX-Trigger"])["note-added"]["not_notified"]


def notified(runtime) -> dict[str, str]:
    """email -> the text each person was sent (personal notifications)."""
    with runtime.session_factory() as s:
        return dict(s.execute(select(User.email, Notification.text).join(User, User.id == Notification.user_id))
                    .all())


def test_an_ambiguous_mention_notifies_nobody_and_the_author_is_told(browser_for, runtime, two_anas):
    """The reported attack: `@ana` matched every address starting `ana@`, the partner's included, and the
    notification carried the note's text."""
    case_id = customer_case(runtime)  # Support leads, Legal collaborates, on `mast`
    sam = browser_for("sam")
    r = note(sam, case_id, f"@ana {SECRET}")
    assert notified(runtime) == {}
    assert told(r) == ["@ana: names more than one person: write their whole address, e.g. @ana@example.org"]
    assert "Not notified: @ana (names more than one person" in r.text  # on the note, for everyone on the case
    r = note(sam, case_id, f"@ana@acme.test {SECRET}")  # the whole address says which one
    assert notified(runtime) == {"ana@acme.test": f"@ana@acme.test {SECRET}"} and told(r) == []


def test_a_mention_of_someone_who_cannot_see_the_case_notifies_nobody(browser_for, runtime, two_anas):
    case_id = customer_case(runtime)
    sam = browser_for("sam")
    # Pia (partner, Marketing) and Cai (Product) cannot see this Support case; nobody is called `nobody`.
    r = note(sam, case_id, f"@pia @cai @nobody @ana@agency.example {SECRET}")
    assert notified(runtime) == {}
    why = "nobody of that name can see this case"
    assert told(r) == [f"@pia: {why}", f"@cai: {why}", f"@nobody: {why}", f"@ana@agency.example: {why}"]
    # Once Marketing works on the case, the partner granted `mast` sees it, and a mention reaches her.
    note(sam, case_id, "@marketing please help")
    r = note(sam, case_id, "@ana@agency.example can you take this?")
    assert notified(runtime) == {"ana@agency.example": "@ana@agency.example can you take this?"} and told(r) == []


def test_nobody_approves_their_own_held_reply_but_an_admin_may_and_it_is_audited(browser_for, runtime):
    """The reported attack: Lena (Legal) writes a reply that Legal must approve, then approves it herself."""
    case_id = customer_case(runtime, intent="legal_risk")
    lena, lee, ada = browser_for("lena"), browser_for("lee"), browser_for("ada")
    assert json.loads(reply(lena, case_id, "We will refund you today.").headers["HX-Trigger"])["reply-sent"]["held"]
    with runtime.session_factory() as s:
        approval_id = s.scalar(select(Approval.id).where(Approval.requested_by == "lena@acme.test"))
    r = decide(lena, approval_id, decision="approve")
    assert r.status_code == 403 and "someone else decides it" in r.text
    assert decide(lena, approval_id, decision="reject", note="never mind").status_code == 403
    [m] = outbound(runtime, case_id)
    assert m.status == "pending_approval"
    assert "Edit and approve" not in lena.get(f"/cases/{case_id}").text  # no buttons for her own
    assert f"/approvals/{approval_id}/decide" not in lena.get("/approvals").text  # nor in her queue
    assert decide(lee, approval_id, decision="approve").status_code == 200  # a coordinator decides it

    # An admin may decide their own (a one-admin organization is not stuck), and the audit log says so.
    reply(ada, case_id, "We will refund you tomorrow.")
    with runtime.session_factory() as s:
        own = s.scalar(select(Approval.id).where(Approval.requested_by == "ada@acme.test"))
    assert decide(ada, own, decision="approve").status_code == 200
    with runtime.session_factory() as s:
        records = {r.target: r for r in s.scalars(select(AuditRecord).where(AuditRecord.action == "approval.approve"))}
    assert records[f"approval:{own}"].data["self_decided"] is True
    assert records[f"approval:{own}"].actor == "ada@acme.test"
    assert records[f"approval:{approval_id}"].data["self_decided"] is False
