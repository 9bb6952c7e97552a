"""The demo sets each group an objective on what it exists for, on first start only."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from onevoice.db import unit_of_work
from onevoice.demo.objectives import OBJECTIVES
from onevoice.demo.seed import seed_demo
from onevoice.reports.models import Objective
from onevoice.teams.models import Team
from tests.governance.conftest import make_case


def test_the_demo_sets_objectives_on_first_start_only(session_factory):
    for _ in range(2):
        with unit_of_work(session_factory) as s:
            seed_demo(s)
    with session_factory() as s:
        teams = dict(s.execute(select(Team.id, Team.key)).all())
        stored = sorted((teams.get(o.team_id, ""), o.metric, o.comparator, o.target)
                        for o in s.scalars(select(Objective)))
    assert stored == sorted((t or "", m, c, float(v)) for t, m, c, v in OBJECTIVES)
    assert {t for t, *_ in stored} == {"", "support", "pr", "marketing", "sales"}
    # The organization removes them all and has cases by now: a restart does not bring them back.
    with unit_of_work(session_factory) as s:
        s.execute(delete(Objective))
        make_case(s, channel="sandbox-x")
    with unit_of_work(session_factory) as s:
        seed_demo(s)
    with session_factory() as s:
        assert s.scalar(select(func.count(Objective.id))) == 0
