"""The reports' statements are built once per shape (reports/built.py): a statement built for one shape of
scope is never run for another, whatever was asked before."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from onevoice.cases.actions import add_team, set_status
from onevoice.cases.models import Case
from onevoice.db import unit_of_work
from onevoice.reports import built, service
from onevoice.reports.upkeep import upkeep_job
from tests.factories import message

pytestmark = pytest.mark.both_databases
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
DEC_1 = 11 * 24 * 60  # tests.factories.BASE_TIME is 20 November 2026


def test_each_shape_answers_as_if_built_for_it_alone(session_factory, pipeline, org, monkeypatch):
    # Cases on two channels, led by different teams, with a product and a campaign tag on some, in two periods.
    pipeline(message(channel="xcom", author="dora", text="terrible, refund", minutes=10),
             message(channel="mast", author="ben", text="thanks, love it", minutes=30),
             message(channel="mast", author="cy", text="what is the pricing?", minutes=40),
             message(channel="xcom", author="eve", text="my order never arrived", minutes=50))
    pipeline(*(message(channel=ch, author=a, text=t, minutes=DEC_1 + m) for ch, a, t, m in (
        ("xcom", "dora", "thanks, love it, highly recommend them", 10), ("mast", "fay", "broken again", 20),
        ("xcom", "ben", "is it open?", 30))))
    with unit_of_work(session_factory) as s:
        ids = list(s.scalars(select(Case.id).order_by(Case.id)))
        set_status(s, org["lee"], ids[0], "resolved")
        add_team(s, org["lee"], ids[1], "legal")
        for i in ids[:3]:
            s.get(Case, i).tags = ["spring"]
    upkeep_job(session_factory)
    scopes = [(org["lee"], {}), (org["lee"], {"team": "support"}), (org["lee"], {"team": "sales"}),
              (org["lee"], {"channel": "xcom"}), (org["lee"], {"team": "support", "channel": "mast"}),
              (org["lee"], {"tag": "spring"}), (org["lee"], {"tag": "spring", "channel": "xcom"}),
              (org["mia"], {}), (org["lee"], {"start": date(2026, 11, 26)})]

    def answers(order: list[int], fresh: bool) -> dict[int, dict]:
        out = {}
        for i in order:
            if fresh:  # nothing built yet: the statements are built for this scope
                monkeypatch.setattr(built, "_BUILT", {})
            who, kw = scopes[i]
            with session_factory() as s:
                scope = replace(service.make_scope(s, who, **{"start": date(2026, 11, 20), "end": date(2026, 12, 6),
                                                              **kw}), now=NOW)
                out[i] = {"report": service.report(s, who, scope), "load": service.table(s, who, scope, "load")}
        return out

    alone = answers(list(range(len(scopes))), fresh=True)
    # The filters narrow the figures (else a statement run for the wrong shape could not show).
    assert len({repr(a["report"]["figures"]) for a in alone.values()}) >= 6
    monkeypatch.setattr(built, "_BUILT", {})
    for order in (list(range(len(scopes))), list(reversed(range(len(scopes)))), [3, 0, 5, 1, 7, 2, 8, 4, 6]):
        assert answers(order, fresh=False) == alone, order


def test_the_statements_kept_are_bounded(monkeypatch):
    monkeypatch.setattr(built, "_BUILT", {})
    monkeypatch.setattr(built, "KEPT", 3)
    made = [built.once(("k", i), lambda i=i: ("statement", i)) for i in range(5)]
    assert made == [("statement", i) for i in range(5)]  # past the bound, built each time, not kept
    assert len(built._BUILT) == 3
    assert built.once(("k", 0), lambda: "built again") == ("statement", 0)  # a kept one is not built again
