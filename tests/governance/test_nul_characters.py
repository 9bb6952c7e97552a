"""A NUL character anywhere in a request is a clear 422 on PostgreSQL, never a 500, and nothing is stored.

PostgreSQL text cannot hold U+0000 and psycopg refuses such a parameter before sending the query, so any route
that stores or looks up a client's text answered 500 (found while fuzzing the API). Message intake keeps the
text and replaces NUL visibly instead (tests/pipeline/test_intake_api.py); elsewhere the request is refused.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from onevoice.auth.models import ApiToken
from onevoice.governance.models import ApprovalRule, GuardRule, PolicyVersion

pytestmark = pytest.mark.postgres

NUL = "bad\x00name"
REFUSED = [
    ("POST", "/api/v1/tokens", {"name": NUL, "expires_in_days": 7}),
    ("POST", "/api/v1/posts", {"text": NUL, "channels": ["xcom"]}),
    ("POST", "/api/v1/approval-rules", {"name": NUL, "approver_team": "pr"}),
    ("POST", "/api/v1/guard/rules", {"key": "k1", "name": NUL, "kind": "terms", "severity": "warn",
                                     "terms": ["x"]}),
    ("POST", "/api/v1/policy/versions", {"title": NUL, "body": "b"}),
    ("GET", "/api/v1/audit?actor=%00", None),
    ("GET", "/api/v1/users/%00/sessions", None),
    ("PUT", "/api/v1/users/%00/channels/x%00", None),
    ("GET", "/api/v1/cases?team=%00", None),
    ("POST", "/api/v1/accounts/%00/test", None),
]


def _counts(session_factory) -> tuple:
    with session_factory() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (ApiToken, ApprovalRule, GuardRule,
                                                                            PolicyVersion))


@pytest.mark.parametrize("method, url, payload", REFUSED)
def test_nul_is_refused_with_a_reason_and_nothing_is_stored(api_for, session_factory, method, url, payload):
    api = api_for("ada")
    before = _counts(session_factory)
    r = api.request(method, url, json=payload)
    assert r.status_code == 422, r.text
    assert "NUL character" in r.json()["detail"]
    assert _counts(session_factory) == before
    assert api.post("/api/v1/tokens", json={"name": "fine", "expires_in_days": 7}).status_code == 201  # still works

