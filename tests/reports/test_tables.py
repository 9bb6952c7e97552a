"""A CSV export computes only its table: the same rows as that table of the whole report."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from onevoice.cases.actions import add_team, set_status
from onevoice.cases.models import Case
from onevoice.db import make_sessionmaker, unit_of_work
from onevoice.errors import InvalidInput
from onevoice.reports import service
from onevoice.reports.upkeep import upkeep_job
from tests.factories import message

pytestmark = pytest.mark.both_databases
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
DEC_1 = 11 * 24 * 60  # tests.factories.BASE_TIME is 20 November 2026


def test_each_table_equals_that_part_of_the_report(engine, session_factory, pipeline, org):
    pipeline(message(channel="xcom", author="dora", text="terrible, refund", minutes=10),
             message(channel="xcom", author="ben", text="thanks, love it", minutes=30),
             message(channel="mast", author="cy", text="what is the pricing?", minutes=40))
    pipeline(*(message(channel="xcom", author="dora", text="thanks, love it, highly recommend them",
                       minutes=DEC_1 + m) for m in (10, 20, 30)))
    with unit_of_work(session_factory) as s:
        first = s.scalar(select(Case.id).order_by(Case.id))
        set_status(s, org["lee"], first, "resolved")
        add_team(s, org["lee"], first, "legal")
        # Objectives: the organization's, and a team's (computed for that team when no team is filtered).
        service.set_objective(s, org["lee"], None, "service.reopen_rate", "<=", 0.1)
        for metric in ("advocacy.advocate_count", "reputation.net_sentiment", "service.first_response_sla"):
            service.set_objective(s, org["lee"], "support", metric, ">=", 0.5)
    upkeep_job(session_factory)
    checked = set()
    for who, team in ((org["lee"], None), (org["mia"], "support")):
        with session_factory() as s:
            scope = replace(service.make_scope(s, who, start=date(2026, 11, 20), end=date(2026, 12, 6), team=team),
                            now=NOW)
            whole = service.report(s, who, scope)
            assert whole["advocacy"]["advocates"] and whole["objectives"] and whole["collaboration"]
            with make_sessionmaker(engine, readonly=True)() as r:  # its parts read concurrently (snapshot.py)
                assert service.report(r, who, scope) == whole
            for name in service.TABLES:
                if name.startswith("volume_"):
                    expected = whole["volume"][name.removeprefix("volume_")]
                elif name in ("advocates", "detractors", "moved"):
                    expected = whole["advocacy"][name]
                elif name == "figures":
                    expected = [{"figure": k, **v} for k, v in whole["figures"].items()]
                else:
                    expected = whole[name]
                assert service.table(s, who, scope, name) == expected, name
                checked.add(name) if expected else None
            # A team's objective, with no team filtered, reads that team's figures (as headline gives them).
            for o in whole["objectives"]:
                if o["team_id"] is not None and not scope.team_ids:
                    team = service.headline(s, replace(scope, team_ids=(o["team_id"],)))
                    assert o["value"] == team[o["metric"]] is not None, o["metric"]
            with pytest.raises(InvalidInput):
                service.table(s, who, scope, "nope")
    # Every table was compared with rows in it at least once (an empty table equals anything empty).
    assert checked >= set(service.TABLES) - {"detractors", "incidents", "load", "moved", "volume_product"}


def test_product_rows_read_the_vocabularys_names(session_factory):
    from onevoice.auth.principal import SYSTEM
    from onevoice.reports.service import labelled
    from onevoice.triage.vocabulary import save_entry

    with unit_of_work(session_factory) as s:
        save_entry(s, SYSTEM, "aero-phone-5", "Aero Phone 5", kind="product")
    with session_factory() as s:
        rows = labelled(s, {"product": [{"key": "aero-phone-5", "cases": 2}, {"key": "gone-product", "cases": 1},
                                        {"key": None, "cases": 4}]}, {})["product"]
    assert [r["label"] for r in rows] == ["Aero Phone 5", None, None]  # the page writes the key, "(no product)"
