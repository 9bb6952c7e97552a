"""Looking a team up by its key: one function for every feature that turns a key into an id."""

from __future__ import annotations

import pytest

from onevoice.teams.service import add_team, team_id, team_keys_by_id

pytestmark = pytest.mark.both_databases


def test_team_id_is_the_teams_id_or_none(session):
    support = add_team(session, "support")
    legal = add_team(session, "legal", "Legal")
    assert team_id(session, "support") == support.id and team_id(session, "legal") == legal.id
    assert team_id(session, "nobody") is None and team_id(session, "") is None
    assert team_keys_by_id(session) == {support.id: "support", legal.id: "legal"}
