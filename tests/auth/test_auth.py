"""Users, passwords, sessions and the `onevoice user create` command."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import extract_parameters
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy import select, update
from typer.testing import CliRunner

from onevoice.auth import sessions
from onevoice.auth.models import User, UserSession
from onevoice.auth.passwords import hash_password, verify_password
from onevoice.auth.users import authenticate, create_user, principal_for
from onevoice.cli.main import app as cli
from onevoice.db import unit_of_work, utcnow
from onevoice.errors import Conflict, InvalidInput
from tests.factories import seed_org

pytestmark = pytest.mark.both_databases


def test_passwords_are_argon2_and_verify():
    h = hash_password("correct-horse")
    assert h.startswith("$argon2id$")
    # At argon2-cffi's recommended cost (the rest of the suite hashes at a test's cost: tests/conftest.py).
    assert extract_parameters(h) == RFC_9106_LOW_MEMORY
    assert verify_password(h, "correct-horse") and not verify_password(h, "wrong-horse")
    assert not verify_password(None, "anything")
    with pytest.raises(ValueError):
        hash_password("short")


def test_create_authenticate_and_principal(session_factory):
    seed_org(session_factory)
    with unit_of_work(session_factory) as s:
        create_user(s, "Ana@Example.com", "Ana", "correct-horse", "responder", ["support", "pr"])
    with unit_of_work(session_factory) as s, pytest.raises(Conflict):
        create_user(s, "ana@example.com", "Ana", "correct-horse")
    with unit_of_work(session_factory) as s, pytest.raises(InvalidInput):
        create_user(s, "bob@example.com", "Bob", "correct-horse", "emperor")
    with unit_of_work(session_factory) as s:
        user = authenticate(s, "ana@example.com", "correct-horse")
        assert user is not None and authenticate(s, "ana@example.com", "nope-nope") is None
        assert authenticate(s, "nobody@example.com", "correct-horse") is None
        p = principal_for(s, user)
        assert p.team_keys == ("pr", "support") and not p.sees_all and p.can_act
        user.active = False
    with unit_of_work(session_factory) as s:
        assert authenticate(s, "ana@example.com", "correct-horse") is None


def test_sessions_expire_revoke_and_reject_forged_cookies(session_factory):
    seed_org(session_factory)
    with unit_of_work(session_factory) as s:
        user = create_user(s, "ana@example.com", "Ana", "correct-horse")
        token = sessions.start_session(s, user)
    cookie = sessions.cookie_value("k1", token)
    assert sessions.token_from_cookie("k1", cookie) == token
    assert sessions.token_from_cookie("k2", cookie) is None
    assert sessions.token_from_cookie("k1", token + ".deadbeef") is None
    with unit_of_work(session_factory) as s:
        assert sessions.resolve(s, token).user.email == "ana@example.com"
        s.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(days=1)))
    with unit_of_work(session_factory) as s:
        assert sessions.resolve(s, token) is None  # idle too long
        s.execute(update(UserSession).values(last_seen_at=utcnow()))
    with unit_of_work(session_factory) as s:
        assert sessions.revoke_user_sessions(s, user.id) == 1
    with unit_of_work(session_factory) as s:
        assert sessions.resolve(s, token) is None


def test_user_create_command(settings, session_factory):
    seed_org(session_factory)
    runner = CliRunner()
    r = runner.invoke(cli, ["user", "create", "lee@example.com", "--name", "Lee", "--team", "support",
                            "--role", "coordinator", "--password", "correct-horse",
                            "--database-url", settings.database_url])
    assert r.exit_code == 0, r.output
    # Without --password it asks (twice, to confirm).
    r = runner.invoke(cli, ["user", "create", "sam@example.com", "--team", "support",
                            "--database-url", settings.database_url], input="correct-horse\ncorrect-horse\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["user", "create", "x@example.com", "--team", "nope", "--password", "correct-horse",
                            "--database-url", settings.database_url])
    assert r.exit_code == 1 and "unknown team" in r.output
    with session_factory() as s:
        users = {u.email: u for u in s.scalars(select(User))}
        assert users["lee@example.com"].role == "coordinator" and users["sam@example.com"].role == "responder"
        assert users["sam@example.com"].password_hash.startswith("$argon2id$")


def test_a_session_cookie_carries_a_signed_expiry():
    """itsdangerous signs the token with a timestamp: past the session lifetime the cookie names nobody, even
    before the server-side session row is looked up; a cookie signed for another purpose (salt) does not pass."""
    from unittest import mock

    from itsdangerous import URLSafeTimedSerializer

    cookie = sessions.cookie_value("k1", "tok")
    assert sessions.token_from_cookie("k1", cookie) == "tok"
    later = __import__("time").time() + sessions.LIFETIME.total_seconds() + 60
    with mock.patch("itsdangerous.timed.time.time", return_value=later):
        assert sessions.token_from_cookie("k1", cookie) is None
    assert sessions.token_from_cookie("k1", URLSafeTimedSerializer("k1", salt="onevoice-sso").dumps("tok")) is None
