"""Figures over the facts, on real databases, with answers worked out by hand."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from onevoice.advocacy.service import overview
from onevoice.cases.actions import add_team, set_status
from onevoice.cases.models import Case
from onevoice.contacts.models import Contact
from onevoice.db import unit_of_work
from onevoice.desk.notes import add_note
from onevoice.reports import built, metrics, quantiles
from onevoice.reports.ranking import advocacy_ranking, rankings, read
from onevoice.reports.upkeep import upkeep_job
from onevoice.teams.models import Team
from tests.factories import BASE_TIME, message

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
    """The advocacy rule (advocacy/ranking.py) by hand: each message weighs 0.5^(age in days / 90), a
    recommendation 3 times, a complaint twice, all times the reach 1 + log10(1 + followers) / 4."""
    pipeline(message(channel="xcom", author="dora", text="terrible, refund", minutes=NOV_20 + 10),
             message(channel="xcom", author="dora", text="my order never arrived", minutes=NOV_20 + 20),
             message(channel="xcom", author="ben", text="thanks, love it", minutes=NOV_20 + 30))
    with unit_of_work(session_factory) as s:
        set_status(s, org["lee"], case_of(session_factory, "dora")[0], "resolved")
    pipeline(*(message(channel="xcom", author="dora", text="thanks, love it, highly recommend them",
                       minutes=DEC_1 + m) for m in (10, 20, 30)))
    upkeep_job(session_factory)
    december, november = scope(date(2026, 12, 1), date(2026, 12, 6)), scope(date(2026, 11, 1), date(2026, 11, 30))
    with session_factory() as s:
        ranking = advocacy_ranking(s, december)
        before = advocacy_ranking(s, november)
        followers = s.scalar(select(Contact.followers).where(Contact.handle == "@dora"))
        page = overview(s, org["lee"], now=NOW)
    reach = 1 + math.log10(1 + followers) / 4

    def weight(minutes: int, at: datetime) -> float:
        return 0.5 ** ((at - BASE_TIME - timedelta(minutes=minutes)).total_seconds() / 86400 / 90)

    # At the end of the period (now, 6 December 12:00): three recommendations against two complaints.
    advocacy = round(reach * 3 * sum(weight(DEC_1 + m, NOW) for m in (10, 20, 30)), 4)
    detraction = round(reach * 2 * sum(weight(NOV_20 + m, NOW) for m in (10, 20)), 4)
    assert advocacy - detraction >= 1
    assert [(r["name"], r["positive"], r["negative"], r["was"], r["side"]) for r in ranking["moved"]] == \
        [("Dora", 3, 2, "detractor", "advocate")]
    dora = ranking["advocates"][0]
    assert (dora["advocacy"], dora["detraction"], dora["net"]) == \
        (round(advocacy, 2), round(detraction, 2), round(advocacy - detraction, 2))
    assert ranking["turned_advocate"] == 1 and ranking["turned_detractor"] == 0
    assert [r["name"] for r in ranking["advocates"]] == ["Dora", "Ben"] and ranking["detractors"] == []
    assert [r["handle"] for r in ranking["advocates"]] == ["@dora", "@ben"]  # two of a name are told apart
    # At the end of November (1 December 00:00) Dora's complaints outweighed everything she had said.
    assert [r["name"] for r in before["detractors"]] == ["Dora"] and [r["name"] for r in before["advocates"]] == ["Ben"]
    # The advocacy page says the same of everyone.
    assert [(r["name"], r["net"]) for r in page["advocates"]] == [(r["name"], r["net"]) for r in ranking["advocates"]]
    assert (page["counts"]["advocates"], page["counts"]["detractors"]) == \
        (ranking["advocate_count"], ranking["detractor_count"]) == (2, 0)
    _same_in_shards(session_factory, december)


def _same_in_shards(session_factory, period: metrics.Scope) -> None:
    """The advocacy statement read in shards of the customers (as a report reads it on PostgreSQL, its parts
    at once) gives the same ranking, movers and counts as read whole."""
    with session_factory() as s:
        whole = rankings(s, period)
        for m in (2, 3):
            assert rankings(s, period, reads=[read(s, period, shard=(k, m)) for k in range(m)]) == whole, m


def test_customers_quiet_for_three_periods_are_counted_by_their_keys(session_factory, pipeline, org):
    """A report whose customers have no case in its last three periods counts them from their kept sums'
    keys (report_contact_days.adv_until / det_until, an index range), not by reading each: the same counts and
    the same top advocates and detractors as the advocacy page, now and at the end of the previous period."""
    pipeline(message(channel="xcom", author="dora", text="terrible, refund", minutes=NOV_20 + 10),
             message(channel="xcom", author="ben", text="thanks, love it", minutes=NOV_20 + 30),
             message(channel="xcom", author="carl", text="terrible, refund", minutes=NOV_20 + 40),
             message(channel="xcom", author="carl", text="my order never arrived", minutes=NOV_20 + 50))
    pipeline(*(message(channel="xcom", author="dora", text="thanks, love it, highly recommend them",
                       minutes=DEC_1 + m) for m in (10, 20, 30)))
    upkeep_job(session_factory)
    quiet = scope(date(2026, 12, 5), date(2026, 12, 6))  # its third period ends on 2 December: no case since
    with session_factory() as s:
        ranking, previous = rankings(s, quiet)
        page = overview(s, org["lee"], now=NOW)
        page_before = overview(s, org["lee"], now=datetime(2026, 12, 5, tzinfo=UTC))  # the previous period's end
    assert [r["name"] for r in ranking["advocates"]] == ["Dora", "Ben"]
    assert [r["name"] for r in ranking["detractors"]] == ["Carl"]
    assert (ranking["advocate_count"], ranking["detractor_count"]) == \
        (page["counts"]["advocates"], page["counts"]["detractors"]) == (2, 1)
    assert [(r["name"], r["net"]) for r in ranking["advocates"] + ranking["detractors"]] == \
        [(r["name"], r["net"]) for r in page["advocates"] + page["detractors"]]
    assert (previous["advocate_count"], previous["detractor_count"]) == \
        (page_before["counts"]["advocates"], page_before["counts"]["detractors"]) == (2, 1)
    assert ranking["moved"] == [] and ranking["turned_advocate"] == ranking["turned_detractor"] == 0
    _same_in_shards(session_factory, quiet)


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


def test_load_per_person_counts_open_assigned_cases(session_factory, pipeline, org):
    from onevoice.auth.models import User
    from onevoice.cases.actions import assign
    from onevoice.reports.service import load_per_person

    pipeline(*(message(channel="xcom", author=f"c{i}", text="my order never arrived", minutes=i + 1) for i in range(5)))
    with session_factory() as s:
        ids = list(s.scalars(select(Case.id).order_by(Case.id)))
        people = dict(s.execute(select(User.email, User.id)).all())
        teams = dict(s.execute(select(Team.key, Team.id)).all())
    with unit_of_work(session_factory) as s:
        for case_id, who in zip(ids, ("sam", "sam", "sam", "lena"), strict=False):
            assign(s, org["lee"], case_id, people[f"{who}@acme.test"])
        set_status(s, org["lee"], ids[1], "resolved")  # resolved: no longer Sam's load
    every = scope(date(2026, 11, 1), date(2026, 11, 30))
    with session_factory() as s:
        assert load_per_person(s, every) == [{"person": "Sam Rivera", "open_cases": 2},
                                             {"person": "Lena Brandt", "open_cases": 1}]
        assert load_per_person(s, replace(every, team_ids=(teams["support"],)))[0]["open_cases"] == 2
        assert load_per_person(s, replace(every, team_ids=(teams["pr"],))) == []


def test_backlog_reads_the_open_cases_in_opening_order(session_factory, pipeline, org):
    """Count, oldest, older than a day and the median age (odd and even counts, a team filter) as worked out
    from the open cases themselves; on SQLite the median walks the partial index of open cases, no sort."""
    import statistics

    from sqlalchemy import event

    from onevoice.reports.models import OPEN_CASES, CaseFacts

    # The partial index's condition names the same statuses as the facts (a query states them to use it).
    stated = ", ".join(f"'{status}'" for status in metrics.OPEN)
    assert OPEN_CASES.removeprefix("status IN (").removesuffix(")") == stated
    pipeline(*(message(channel="xcom", author=f"c{i}", text="my order never arrived" if i % 3 else "is it open?",
                       minutes=i * 300 + 1) for i in range(7)))
    with session_factory() as s:
        ids = list(s.scalars(select(Case.id).order_by(Case.id)))
    with unit_of_work(session_factory) as s:
        set_status(s, org["lee"], ids[2], "resolved")
        set_status(s, org["lee"], ids[4], "pending_customer")
    upkeep_job(session_factory)
    now = BASE_TIME + timedelta(hours=36)  # some cases opened more than a day before, some less

    def expected(s, period):
        teams = period.team_ids
        opened = [f.opened_at for f in s.scalars(select(CaseFacts)) if f.status in metrics.OPEN
                  and (not teams or f.lead_team_id in teams)]
        ages = [(period.now - at).total_seconds() for at in opened]
        return {"open": len(ages), "median_age_s": float(statistics.median(ages)), "oldest_age_s": max(ages),
                "older_than_a_day": sum(a > 86400 for a in ages)}

    statements: list[tuple[str, object]] = []
    with session_factory() as s:
        engine = s.get_bind()
        support = s.scalar(select(Team.id).where(Team.key == "support"))
        def grab(conn, cursor, statement, parameters, context, many):
            statements.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", grab)
        try:
            for period in (scope(date(2026, 11, 1), date(2026, 11, 30)),
                           scope(date(2026, 11, 1), date(2026, 11, 30), team_ids=(support,))):
                period = replace(period, now=now)
                assert metrics.backlog(s, period) == expected(s, period)
        finally:
            event.remove(engine, "before_cursor_execute", grab)
    with unit_of_work(session_factory) as s:  # six open cases above, an even count; five now
        set_status(s, org["lee"], ids[0], "resolved")
    upkeep_job(session_factory)
    with session_factory() as s:
        period = replace(scope(date(2026, 11, 1), date(2026, 11, 30)), now=now)
        assert metrics.backlog(s, period) == expected(s, period) and metrics.backlog(s, period)["open"] == 5
        if engine.dialect.name == "sqlite":
            median = next((st, p) for st, p in statements if "ORDER BY" in st)
            plan = [row[3] for row in s.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + median[0], median[1])]
            assert any("ix_report_case_facts_open" in step for step in plan) and not any("TEMP B-TREE" in step
                                                                                          for step in plan), plan


def test_exact_quantiles_read_from_either_end_of_a_bucket(session_factory):
    """The median and p90 read from the histogram's bucket and an index range equal those of the values
    themselves, whichever end of the bucket a value is nearer to, with ties, odd and even counts, and the
    median's two middle values in one bucket or in two."""
    import random
    import statistics

    from sqlalchemy import Column, Integer, MetaData, Table, insert

    from onevoice.reports.aggregate import bucket

    table = Table("t_exact_quantiles", MetaData(), Column("id", Integer, primary_key=True), Column("v", Integer),
                  Column("g", Integer))
    rng = random.Random(7)
    values = [rng.choice((5, 9, 60, 61, 62, 3600, 3700, 3800, 90000)) + rng.randrange(0, 400) for _ in range(401)]
    with session_factory() as s:
        engine = s.get_bind()
    table.create(engine)
    try:
        with unit_of_work(session_factory) as s:
            s.execute(insert(table), [{"v": v, "g": i % 7} for i, v in enumerate(values)])
        with session_factory() as s:
            for groups in ((0,), (0, 1), (2, 3, 4), tuple(range(7)), (1, 2, 3, 4, 5, 6)):
                mine = [v for i, v in enumerate(values) if i % 7 in groups]
                counts: dict[int, int] = {}
                for v in mine:
                    counts[bucket(v)] = counts.get(bucket(v), 0) + 1
                where = [table.c.g.in_(built.values("groups"))]
                found = quantiles.exact_quantiles(s, {"x": (table.c.v, lambda where=where: where)},
                                                  {"x": list(counts.items())}, ("t_exact_quantiles",),
                                                  {"groups": list(groups)})
                assert found["x"] == (float(statistics.median(mine)), metrics.quantile(mine, 0.9)), groups
    finally:
        table.drop(engine)


def test_quantile_is_nearest_rank():
    assert metrics.quantile([5, 1, 4, 2, 3, 6, 7, 8, 9, 10], 0.9) == 9.0
    assert metrics.quantile([7], 0.9) == 7.0 and metrics.quantile([], 0.5) is None
