"""Customer advocates with a real database: the ranking across identities, marks (audited, in the inbox, in
routing), thanks through the reply path, the CSV export, who may see what."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from onevoice.advocacy import service
from onevoice.audit.models import AuditRecord
from onevoice.cases.models import Case
from onevoice.contacts.models import Contact
from onevoice.db import unit_of_work, utcnow
from onevoice.errors import Forbidden, InvalidInput
from onevoice.messages.models import Message
from onevoice.outbox.models import OutboxJob
from onevoice.routing.playbook import Playbook, PlaybookError
from tests.advocacy.conftest import add_customer

pytestmark = pytest.mark.both_databases


@pytest.fixture
def customers(session_factory, people):
    with unit_of_work(session_factory) as s:
        ids = {
            # Ana recommends us on X and on Mastodon: one customer with two identities.
            "ana": add_customer(s, "Ana", [("xcom", "I recommend @acme to everyone", 2),
                                           ("mast", "highly recommend their support", 3)], 2_000, ("xcom", "mast")),
            "ben": add_customer(s, "Ben", [("xcom", "love the new app", 1)], 50),
            "cy": add_customer(s, "Cy", [("xcom", "the app is broken again", 1), ("xcom", "still broken", 2),
                                         ("xcom", "broken broken", 3)], 300),
            "dee": add_customer(s, "Dee", [("xcom", "do you ship to Canada?", 1)], 90_000),
        }
    return ids


def test_advocates_are_ranked_across_every_identity(session_factory, people, customers):
    with session_factory() as s:
        data = service.overview(s, people["lee"])
        assert [r["contact_id"] for r in data["advocates"]] == [customers["ana"], customers["ben"]]
        assert [r["contact_id"] for r in data["detractors"]] == [customers["cy"]]
        assert (data["trend"][-1]["advocates"], data["trend"][-1]["detractors"]) == (2, 1)
        assert (data["trend"][0]["advocates"], data["trend"][0]["detractors"]) == (0, 0)  # twelve weeks ago
        ana = data["advocates"][0]
        assert (ana["positive"], ana["recommendations"], ana["followers"]) == (2, 2, 2_000)
        detail = service.contact_detail(s, people["lee"], customers["ana"])
        assert {i["channel"] for i in detail["identities"]} == {"xcom", "mast"}
        assert {m["channel"] for m in detail["messages"]} == {"xcom", "mast"}
        assert detail["standing"]["status"] == "advocate" and len(detail["cases"]) == 1


def test_who_may_see_the_advocates(session_factory, people, customers):
    with session_factory() as s:
        for name in ("ada", "lee", "mia", "vic"):
            service.overview(s, people[name])
        for name in ("sam", "cai", "pia"):
            with pytest.raises(Forbidden):
                service.overview(s, people[name])
        # A manager sees a customer's cases of their own teams only; the rest are counted.
        product_case = add_customer(s, "Eve", [("xcom", "love it", 1)], 10, lead="product")
        detail = service.contact_detail(s, people["mia"], product_case)
        assert detail["cases"] == [] and detail["hidden_cases"] == 1 and not detail["can_thank"]


def test_marks_are_checked_audited_and_reach_the_contact(session_factory, people, customers):
    with unit_of_work(session_factory) as s:
        assert service.set_marks(s, people["lee"], customers["ana"], ["advocate", "vip"]) == ["advocate", "vip"]
    with unit_of_work(session_factory) as s:
        contact = s.get(Contact, customers["ana"])
        assert (contact.marks, contact.vip) == (["advocate"], True)
        rec = s.scalar(select(AuditRecord).where(AuditRecord.action == "contact.mark"))
        assert rec.actor == "lee@acme.test" and rec.data == {"before": [], "after": ["advocate", "vip"]}
        with pytest.raises(Forbidden):
            service.set_marks(s, people["mia"], customers["ana"], [])
        with pytest.raises(InvalidInput, match="unknown mark"):
            service.set_marks(s, people["lee"], customers["ana"], ["champion"])
        with pytest.raises(InvalidInput, match="not both"):
            service.set_marks(s, people["lee"], customers["ana"], ["advocate", "detractor_watch"])
        assert [r["contact_id"] for r in service.overview(s, people["lee"])["marked"]] == [customers["ana"]]


PLAYBOOK = """
rules:
  - name: support
    when: {always: true}
    then: {lead: support}
  - name: an advocate's complaint
    when: {mark: advocate, complaint: true}
    then: {priority: urgent}
"""


def test_a_playbook_raises_an_advocates_complaint(session_factory, people, customers):
    from onevoice.pipeline.processor import Processor
    from tests.scripted_triage import ScriptedTriager

    with unit_of_work(session_factory) as s:
        service.set_marks(s, people["lee"], customers["ana"], ["advocate"])
        channel_id = s.scalar(select(Case.channel_id).where(Case.contact_id == customers["ana"]))
        ids = []
        for author, ext in (("Ana-xcom", "a-1"), ("Ben-xcom", "b-1")):
            m = Message(channel_id=channel_id, external_id=ext, direction="inbound", kind="mention",
                        text="my order never arrived, terrible", author={"external_id": author}, created_at=utcnow())
            s.add(m)
            s.flush()
            ids.append(m.id)
    Processor(session_factory, ScriptedTriager(), Playbook.from_yaml(PLAYBOOK)).process(ids)
    with session_factory() as s:
        got = {m.contact_id: s.get(Case, m.case_id).priority
               for m in s.scalars(select(Message).where(Message.id.in_(ids)))}
        assert got == {customers["ana"]: "urgent", customers["ben"]: "normal"}
    with pytest.raises(PlaybookError, match="mark 'advocat'"):
        Playbook.from_yaml("rules: [{name: x, when: {mark: advocat}, then: {priority: high}}]")


def test_thanks_go_through_the_reply_path(session_factory, people, customers):
    from onevoice.desk.replies import ReplyBlocked

    with unit_of_work(session_factory) as s:
        case_id, outcome = service.thank(s, people["lee"], customers["ana"], "Thank you Ana, join our community?")
        assert outcome.job_id is not None
    with session_factory() as s:
        job = s.get(OutboxJob, outcome.job_id)
        assert job.case_id == case_id and s.get(Message, job.message_id).text.startswith("Thank you Ana")
        assert s.scalar(select(AuditRecord.data).where(AuditRecord.action == "advocate.thank"))["case_id"] == case_id
    with pytest.raises(ReplyBlocked), unit_of_work(session_factory) as s:
        service.thank(s, people["lee"], customers["ana"], "thanks you idiot")
    with unit_of_work(session_factory) as s:  # a claim the approval rules hold: waits, nothing queued
        _case, held = service.thank(s, people["lee"], customers["ana"], "Our product is guaranteed to work")
        assert held.job_id is None and held.approval_id is not None
    with pytest.raises(Forbidden), unit_of_work(session_factory) as s:
        service.thank(s, people["vic"], customers["ana"], "Thanks!")  # a viewer reads, never replies


def test_the_csv_export_is_spreadsheet_safe(session_factory, people, customers, browser_for):
    with unit_of_work(session_factory) as s:
        add_customer(s, '=HYPERLINK("http://evil.example","x")', [("xcom", "I recommend them", 1)], 10)
    lee = browser_for("lee")
    r = lee.get("/advocates/export.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][:3] == ["list", "contact_id", "name"]
    names = [row[2] for row in rows[1:]]
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in names and "Ana" in names
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)
    assert browser_for("sam").get("/advocates/export.csv").status_code == 403
    with session_factory() as s:
        assert s.scalar(select(AuditRecord.actor).where(AuditRecord.action == "advocates.export")) == "lee@acme.test"


def test_pages_show_ranking_marks_in_the_inbox_and_send_thanks(session_factory, people, customers, browser_for):
    lee = browser_for("lee")
    page = lee.get("/advocates")
    assert page.status_code == 200
    assert page.text.index(">Ana<") < page.text.index(">Ben<") < page.text.index(">Cy<")
    assert 'id="trend"' in page.text and page.text.count("<meter") == 24  # 12 weeks, advocates and detractors
    r = lee.post(f"/advocates/{customers['ana']}/marks", data={"marks": ["advocate"], "csrf_token": lee.csrf},
                 follow_redirects=False)
    assert r.status_code == 303
    inbox = lee.get("/inbox?queue=open&status=all").text
    assert 'class="mark mark-advocate"' in inbox
    blocked = lee.post(f"/advocates/{customers['ana']}/thank", data={"text": "thanks, idiot",
                                                                     "csrf_token": lee.csrf})
    assert blocked.status_code == 422 and "data-blocked" in blocked.text and "thanks, idiot" in blocked.text
    sent = lee.post(f"/advocates/{customers['ana']}/thank", data={"text": "Thank you!", "csrf_token": lee.csrf})
    assert sent.status_code == 200 and "data-sent" in sent.text
    detail = lee.get(f"/advocates/{customers['ana']}").text
    assert "highly recommend their support" in detail and "Recommends" in detail
    assert browser_for("cai").get("/advocates").status_code == 403


def test_linking_two_contacts_keeps_both_histories_and_marks(session_factory, people, customers):
    from onevoice.contacts.service import link_contacts

    with unit_of_work(session_factory) as s:
        service.set_marks(s, people["lee"], customers["ben"], ["advocate"])
        before = {r["contact_id"]: r for r in service.overview(s, people["lee"])["advocates"]}
        link_contacts(s, customers["ana"], customers["ben"])  # Ben turns out to be Ana on another account
    with session_factory() as s:
        ana = service.overview(s, people["lee"])["advocates"][0]
        assert ana["contact_id"] == customers["ana"] and ana["positive"] == 3
        assert ana["net"] > before[customers["ana"]]["net"] and ana["marks"] == ["advocate"]
