"""The cases behind a figure and who may read their subjects (the drill's own reads, reports/service.py)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from onevoice.auth.models import User
from onevoice.cases.access import visible_ids
from onevoice.cases.actions import add_team, assign
from onevoice.cases.models import Case
from onevoice.db import unit_of_work
from onevoice.reports import service
from onevoice.reports.upkeep import upkeep_job
from tests.factories import message

pytestmark = pytest.mark.both_databases


def test_visible_by_team_part_or_assignment_and_the_drill_shows_only_those(session_factory, pipeline, org):
    # minutes=i + 1: the factory reads minutes=0 as "after every message made so far in this session".
    pipeline(*(message(channel="xcom", author=f"c{i}", text="my order never arrived", minutes=i + 1)
               for i in range(4)))
    with session_factory() as s:
        ids = list(s.scalars(select(Case.id).order_by(Case.id)))
        lena = s.scalar(select(User.id).where(User.email == "lena@acme.test"))
    with unit_of_work(session_factory) as s:
        add_team(s, org["lee"], ids[0], "legal")  # Legal has a part: Lena sees it
        assign(s, org["lee"], ids[2], lena)  # assigned to her, Legal has no part: she sees it too
    upkeep_job(session_factory)
    with session_factory() as s:
        assert visible_ids(s, org["lena"], ids) == {ids[0], ids[2]}
        assert visible_ids(s, org["sam"], ids) == set(ids)  # Support leads them all
        assert visible_ids(s, org["lena"], []) == set()
        # Past a chunk of ids (500): the same answer.
        assert visible_ids(s, org["lena"], list(range(-600, 0)) + ids) == {ids[0], ids[2]}
        who = org["eve"]  # an executive: every figure, no case content
        scope = service.make_scope(s, who, start=date(2026, 11, 1), end=date(2026, 11, 30))
        rows = service.cases_behind(s, who, scope, "cases")
        mia = org["mia"]
        mine = service.cases_behind(s, mia, service.make_scope(s, mia, start=date(2026, 11, 1),
                                                               end=date(2026, 11, 30)), "cases")
    assert [r["case_id"] for r in rows] == ids[::-1]  # newest first
    assert all(r["subject"] is None and not r["visible"] for r in rows)
    assert [r["case_id"] for r in mine] == ids[::-1] and all(r["visible"] and r["subject"] for r in mine)
