"""The demo's sixty days of history make every report say something."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from onevoice.advocacy.service import overview
from onevoice.auth.models import User
from onevoice.auth.users import principal_for
from onevoice.cases.models import Case
from onevoice.db import unit_of_work
from onevoice.demo.history import INCIDENT_DAY, SLOW_WEEK, seed_history
from onevoice.demo.people import MORE, NAMES
from onevoice.demo.seed import DEMO_DOMAIN, seed_demo
from onevoice.reports import metrics, service
from onevoice.reports.ranking import advocacy_ranking
from onevoice.reports.service import headline
from onevoice.reports.upkeep import upkeep_job

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_sixty_days_of_history(session_factory, settings):
    from onevoice.pipeline.processor import Processor
    from onevoice.pipeline.stages import build_router
    from tests.scripted_triage import ScriptedTriager

    with unit_of_work(session_factory) as s:
        seed_demo(s)
    processor = Processor(session_factory, ScriptedTriager(), build_router(settings, session_factory))
    assert seed_history(session_factory, processor.process, DEMO_DOMAIN, now=NOW) > 1500
    assert seed_history(session_factory, processor.process, DEMO_DOMAIN, now=NOW) == 0  # only on first start
    upkeep_job(session_factory)

    def period(first_ago: int, last_ago: int) -> metrics.Scope:
        return metrics.Scope(start=(NOW - timedelta(days=first_ago)).date(),
                             end=(NOW - timedelta(days=last_ago)).date(), now=NOW)

    with session_factory() as s:
        early, late = headline(s, period(60, 46)), headline(s, period(14, 1))
        slow = metrics.service(s, period(max(SLOW_WEEK), min(SLOW_WEEK)))["cases"]
        usual = metrics.service(s, period(max(SLOW_WEEK) + 7, min(SLOW_WEEK) + 7))["cases"]
        incident = metrics.incidents(s, period(INCIDENT_DAY + 1, INCIDENT_DAY - 1))
        month = period(30, 0)
        ranking = advocacy_ranking(s, month)
        leads = metrics.leads(s, period(60, 0))
        collaboration = metrics.collaboration(s, month)
        backlog = metrics.backlog(s, month)
        total = headline(s, period(60, 0))["service.cases"]
        waiting = s.execute(select(Case.status, Case.assignee_id, User.email).join(User, User.id == Case.assignee_id,
                                                                                    isouter=True)
                            .where(Case.status.in_(("open", "pending_customer")))).all()
        load = service.load_per_person(s, period(30, 0))
    assert slow < usual * 0.6  # the slow week
    # Cases still waiting after a reply are the lead team's responder's; some wait on the customer.
    assert {st for st, _, _ in waiting} == {"open", "pending_customer"}
    assert all(email and email.endswith(DEMO_DOMAIN) for st, _, email in waiting if st == "pending_customer")
    assert load and sum(p["open_cases"] for p in load) == sum(1 for _, who, _ in waiting if who)
    assert {"Sam Rivera", "Jo Park"} <= {p["person"] for p in load}  # Support's two responders share its cases
    # A backlog, but not one case in seven left open for weeks (most of them breaching their SLA).
    assert 0 < backlog["older_than_a_day"] < total * 0.06, (backlog, total)
    assert [i["topic"] for i in incident] and incident[0]["cases"] >= 20 and incident[0]["status"] == "closed"
    assert late["service.first_response_median_s"] < early["service.first_response_median_s"] / 2  # improving
    assert late["service.reopened"] + early["service.reopened"] > 0
    assert ranking["advocate_count"] > 5 and ranking["detractor_count"] > 5
    assert leads["won"] > 0 and leads["won_value"] > 0
    # teams were on their cases from the start: the time to their first action is hours, not negative or missing
    firsts = [t["first_action_median_s"] for t in collaboration if t["cases_collaborated"] > 5]
    assert firsts and all(f is not None and 0 <= f < 3 * 86400 for f in firsts)
    assert early["service.cases"] > 300 and late["reputation.net_sentiment"] is not None
    # /reports and /advocacy count advocates and detractors by one rule, and name the same people.
    with session_factory() as s:
        lead = principal_for(s, s.scalar(select(User).where(User.email == f"lead@{DEMO_DOMAIN}")))
        page = overview(s, lead, now=NOW, limit=10)
    assert (page["counts"]["advocates"], page["counts"]["detractors"]) == \
        (ranking["advocate_count"], ranking["detractor_count"])
    assert [(r["contact_id"], r["net"]) for r in page["advocates"]] == \
        [(r["contact_id"], r["net"]) for r in ranking["advocates"]]
    assert [(r["contact_id"], r["net"]) for r in page["detractors"]] == \
        [(r["contact_id"], r["net"]) for r in ranking["detractors"]]
    # The history's replies read as the pages' do: by the person who sent them (the case page rendered
    # none of them while their author had no name).
    from onevoice.desk.page import case_page
    from onevoice.messages.models import Message

    with session_factory() as s:
        replied = s.scalars(select(Message.case_id).where(Message.direction == "outbound").limit(3)).all()
        shown = [case_page(s, lead, case_id) for case_id in replied]
    assert len(shown) == 3
    people = {*NAMES.values(), *(n for names in MORE.values() for n in names)}
    senders = {m["sent_by"] for c in shown for m in c["messages"] if m["direction"] == "outbound"}
    assert senders and senders <= people, senders
    with session_factory() as s:  # replies are ours, as the outbox writes them: no customer's contact id on them
        assert s.scalar(select(func.count(Message.id)).where(Message.direction == "outbound",
                                                             Message.contact_id.is_not(None))) == 0
