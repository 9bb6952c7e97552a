"""Attacks on API tokens: minting a wider token than one holds, minting tokens that act as someone else from an
operator token, probing other people's token ids, and routes that took any scope (issue 11, items 1 and 10).

Each test sends the request an attacker would send and checks it is refused, and that nothing was made."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onevoice.audit.models import AuditRecord
from onevoice.auth.models import ApiToken, User
from onevoice.auth.tokens import create_token, scopes_cover
from onevoice.db import unit_of_work

pytestmark = pytest.mark.both_databases


@pytest.fixture
def token_for(gov_app, runtime):
    """A client holding a token with these scopes, for a person (`sam`) or none (an operator token)."""

    def make(name: str | None, scopes: list[str]) -> TestClient:
        with unit_of_work(runtime.session_factory) as s:
            user_id = s.scalar(select(User.id).where(User.email == f"{name}@acme.test")) if name else None
            plaintext = create_token(s, f"attacker-{name}", scopes=scopes, user_id=user_id)[1]
        return TestClient(gov_app, headers={"Authorization": f"Bearer {plaintext}"})

    return make


def token_count(runtime) -> int:
    with runtime.session_factory() as s:
        return s.scalar(select(func.count(ApiToken.id)))


def test_a_governance_write_token_cannot_mint_a_star_token(token_for, runtime):
    """The reported attack: `governance:write` (to edit rules) called POST /api/v1/tokens {"scopes": ["*"]} and got
    a token that reads every case and the audit log."""
    rules_bot = token_for("ada", ["governance:write"])
    before = token_count(runtime)
    r = rules_bot.post("/api/v1/tokens", json={"name": "wider", "scopes": ["*"], "expires_in_days": 7})
    assert r.status_code == 403 and "tokens:write" in r.json()["detail"]
    assert rules_bot.post("/api/v1/tokens", json={"name": "default is *", "expires_in_days": 7}).status_code == 403
    assert rules_bot.get("/api/v1/tokens").status_code == 403  # listing is `tokens:read`, not governance's
    assert token_count(runtime) == before


def test_a_token_mints_only_within_its_own_scopes(token_for, runtime):
    bot = token_for("ada", ["tokens:write", "cases:read"])
    before = token_count(runtime)
    for wanted in (["*"], ["cases:*"], ["audit:read"], ["cases:read", "governance:write"], ["tokens:*"]):
        r = bot.post("/api/v1/tokens", json={"name": "wider", "scopes": wanted, "expires_in_days": 7})
        assert r.status_code == 403 and "wider token than itself" in r.json()["detail"], wanted
    assert token_count(runtime) == before
    made = bot.post("/api/v1/tokens", json={"name": "narrower", "scopes": ["cases:read"], "expires_in_days": 7})
    assert made.status_code == 201
    assert made.json()["scopes"] == ["cases:read"] and made.json()["user"] == "ada@acme.test"


def test_an_operator_token_cannot_mint_tokens_that_act_as_a_person(token_for, runtime):
    """An operator token (no user) used to mint tokens acting as anyone: words put in someone else's name."""
    operator = token_for(None, ["*"])
    before = token_count(runtime)
    for victim in ("lee@acme.test", "ada@acme.test"):
        r = operator.post("/api/v1/tokens", json={"name": "as them", "user": victim, "expires_in_days": 7})
        assert r.status_code == 403 and "operator token" in r.json()["detail"], victim
    assert token_count(runtime) == before
    # It still makes operator tokens within its scopes, and may revoke (narrowing is never an escalation).
    made = operator.post("/api/v1/tokens", json={"name": "operator too", "scopes": ["cases:read"],
                                                 "expires_in_days": 7})
    assert made.status_code == 201 and made.json()["user"] is None


def test_a_person_who_is_an_admin_still_acts_for_others_within_their_tokens_scopes(token_for, browser_for, runtime):
    ada = token_for("ada", ["tokens:write", "cases:read"])
    assert ada.post("/api/v1/tokens", json={"name": "for lee", "user": "lee@acme.test", "scopes": ["*"],
                                            "expires_in_days": 7}).status_code == 403
    made = ada.post("/api/v1/tokens", json={"name": "for lee", "user": "lee@acme.test", "scopes": ["cases:read"],
                                            "expires_in_days": 7})
    assert made.status_code == 201 and made.json()["user"] == "lee@acme.test"
    # A signed-in person holds their role's powers: any scope (the token still acts as them, no more).
    sam = browser_for("sam")
    page = sam.post("/governance/tokens", data={"name": "all", "days": "7", "scope": ["*"], "csrf_token": sam.csrf})
    assert page.status_code == 201
    with runtime.session_factory() as s:
        record = s.scalar(select(AuditRecord).where(AuditRecord.action == "token.create",
                                                    AuditRecord.actor == "ada@acme.test"))
        assert record.data["user"] == "lee@acme.test" and record.data["scopes"] == ["cases:read"]


def test_someone_elses_token_id_answers_like_a_missing_one(token_for, runtime):
    with unit_of_work(runtime.session_factory) as s:
        lee = s.scalar(select(User.id).where(User.email == "lee@acme.test"))
        lees = create_token(s, "lee's", user_id=lee)[0].id
    sam = token_for("sam", ["tokens:write"])
    theirs, missing = sam.delete(f"/api/v1/tokens/{lees}"), sam.delete("/api/v1/tokens/999999")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["detail"] == f"no token {lees}" and missing.json()["detail"] == "no token 999999"
    with runtime.session_factory() as s:
        assert s.get(ApiToken, lees).revoked_at is None


def test_triage_classify_needs_its_own_scope(token_for):
    """It accepted any token at all: a `cases:read` token ran the model on any text."""
    r = token_for("sam", ["cases:read"]).post("/api/v1/triage/classify", json={"text": "my order never came"})
    assert r.status_code == 403 and "triage:read" in r.json()["detail"]
    ok = token_for("sam", ["triage:read"]).post("/api/v1/triage/classify", json={"text": "my order never came"})
    assert ok.status_code == 200 and "intent" in ok.json()


@pytest.mark.parametrize("held, wanted, allowed", [
    (["*"], ["*"], True), (["cases:*"], ["cases:read"], True), (["cases:*"], ["cases:*"], True),
    (["cases:read"], ["cases:*"], False), (["cases:read"], ["cases:read", "cases:read"], True),
    (["tokens:write"], ["*"], False), ([], ["cases:read"], False), (["cases:read"], [], True),
])
def test_scopes_cover(held, wanted, allowed):
    assert scopes_cover(held, wanted) is allowed
