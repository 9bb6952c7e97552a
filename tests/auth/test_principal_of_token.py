"""One rule turns an API token into a principal (auth.users.principal_of_token), for every API family."""

from __future__ import annotations

from onevoice.auth.models import User
from onevoice.auth.tokens import create_token
from onevoice.auth.users import create_user, principal_of_token
from onevoice.teams.service import add_team


def test_operator_token_acts_as_admin_and_a_user_token_as_its_user(session):
    add_team(session, "support", "Support")
    sam = create_user(session, "sam@acme.test", "Sam", None, "responder", ["support"])
    operator, _ = create_token(session, "ci")
    mine, _ = create_token(session, "sam-bot", user_id=sam.id)
    session.flush()
    assert principal_of_token(session, operator).role == "admin"
    assert principal_of_token(session, operator).user_id is None
    who = principal_of_token(session, mine)
    assert (who.user_id, who.role, set(who.team_keys)) == (sam.id, "responder", {"support"})


def test_a_disabled_users_token_acts_as_nobody(session):
    add_team(session, "support", "Support")
    sam = create_user(session, "sam@acme.test", "Sam", None, "responder", ["support"])
    token, _ = create_token(session, "sam-bot", user_id=sam.id)
    session.get(User, sam.id).active = False
    session.flush()
    assert principal_of_token(session, token) is None
