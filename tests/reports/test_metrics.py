"""Figures over the facts, on real databases, with answers worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from onevoice.cases.actions import add_team, set_status
from onevoice.cases.models import Case
from onevoice.db import unit_of_work
from onevoice.desk.notes import add_note
from onevoice.reports import metrics
from onevoice.reports.ranking import advocacy_ranking
from onevoice.reports.upkeep import upkeep_job
from onevoice.teams.models import Team
from tests.factories import message

pytestmark = pytest.mark.both_databases
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
NOV_20 = 0  # tests.factories.BASE_TIME is Friday 20 November 2026, 09:00
DEC_1 = 11 * 24 * 60


def scope(start: date, end: date, **kw) -> metrics.Scope:
    return metrics.Scope(start=start, end=end, now=NOW, **kw)


def case_of(session_factory, author: str) -> list[int]:
    from onevoice.contacts.models import Contact

    with session_factory() as s:
        contact = s.scalar(select(Contact.id).where(Contact.handle == f"@{author}"))
        return list(s.scalars(select(Case.id).where(Case.contact_id == contact).order_by(Case.id)))


def test_a_detractor_who_turned_advocate(session_factory, pipeline, org):
    pipeline(message(channel="xcom", author="dora", text="terrible, refund", minutes=NOV_20 + 10),
             message(channel="xcom", author="dora", text="my order never arrived", minutes=NOV_20 + 20),
             message(channel="xcom", author="ben", text="thanks, love it", minutes=NOV_20 + 30))
    with unit_of_work(session_factory) as s:
        set_status(s, org["lee"], case_of(session_factory, "dora")[0], "resolved")
    pipeline(message(channel="xcom", author="dora", text="thanks, love it", minutes=DEC_1 + 10),
             message(channel="xcom", author="dora", text="love the new one, thanks", minutes=DEC_1 + 20))
    upkeep_job(session_factory)
    december, november = scope(date(2026, 12, 1), date(2026, 12, 6)), scope(date(2026, 11, 1), date(2026, 11, 30))
    with session_factory() as s:
        ranking = advocacy_ranking(s, metrics.conditions(december), metrics.conditions(november))
        before = advocacy_ranking(s, metrics.conditions(november), [])
    assert [(r["name"], r["positive"], r["negative"], r["was"]) for r in ranking["moved"]] == \
        [("Dora", 2, 0, "detractor")]
    assert ranking["turned_advocate"] == 1 and ranking["turned_detractor"] == 0
    assert [r["name"] for r in ranking["advocates"]] == ["Dora"] and ranking["detractors"] == []
    assert [r["name"] for r in before["detractors"]] == ["Dora"] and [r["name"] for r in before["advocates"]] == ["Ben"]


def test_service_collaboration_and_reputation(session_factory, pipeline, org):
    # Three customers on Friday 20 November: a complaint (Support), a question, praise.
    pipeline(message(channel="xcom", author="ann", text="my order never arrived", minutes=10),
             message(channel="xcom", author="bob", text="is it open?", minutes=20),
             message(channel="xcom", author="cy", text="thanks, love it", minutes=30))
    ann, bob = case_of(session_factory, "ann")[0], case_of(session_factory, "bob")[0]
    with unit_of_work(session_factory) as s:
        set_status(s, org["lee"], ann, "resolved")
        set_status(s, org["lee"], ann, "open")  # reopened
        set_status(s, org["lee"], ann, "resolved")
        set_status(s, org["lee"], bob, "resolved")
        add_team(s, org["lee"], ann, "legal")
        add_note(s, org["lena"], ann, "checked the terms")
        add_note(s, org["sam"], ann, "refund sent")
    upkeep_job(session_factory)
    period = scope(date(2026, 11, 20), date(2026, 11, 20))
    with session_factory() as s:
        out = metrics.service(s, period)
        collab = {r["team_id"]: r for r in metrics.collaboration(s, period)}
        rep = metrics.reputation(s, period)
        teams = dict(s.execute(select(Team.key, Team.id)).all())
        empty = metrics.service(s, period.previous())
    assert out["cases"] == 3 and out["messages_in"] == 3 and out["resolved"] == 2
    assert out["reopened"] == 1 and out["reopen_rate"] == 0.5  # one of the two cases ever resolved
    assert out["first_response_median_s"] is None  # nobody replied
    legal = collab[teams["legal"]]
    assert legal["cases_collaborated"] == 1 and legal["notes"] == 1 and legal["multi_team_cases"] == 1
    assert collab[teams["support"]]["notes"] == 1
    assert rep["positive"] == 1 and rep["negative"] == 1 and rep["messages"] == 3 and rep["net_sentiment"] == 0.0
    assert rep["recovery_rate"] is None  # the negative case was never replied to
    assert rep["customers"] == 3 and rep["returning_customers"] == 0
    assert empty["cases"] == 0 and empty["first_response_sla"] is None


def test_quantile_is_nearest_rank():
    assert metrics.quantile([5, 1, 4, 2, 3, 6, 7, 8, 9, 10], 0.9) == 9.0
    assert metrics.quantile([7], 0.9) == 7.0 and metrics.quantile([], 0.5) is None
