"""Governance pages and JSON routes as people and programs use them, role by role."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from onevoice.audit import log as audit
from onevoice.audit.models import AuditRecord
from onevoice.db import unit_of_work
from onevoice.governance import policy
from onevoice.governance.models import GuardRule, PolicyVersion
from tests.governance.conftest import PEOPLE

pytestmark = pytest.mark.both_databases

ROLES = {"ada": "admin", "lee": "coordinator", "mia": "manager", "sam": "responder", "cai": "contributor",
         "vic": "viewer", "pia": "partner"}
OWNERS = {"ada", "lee"}
OVERSEERS = {"ada", "lee", "mia"}


def test_every_page_for_every_role(browser_for):
    for name in ROLES:
        b = browser_for(name)
        expected = {
            "/governance/policy": 200, "/governance/guard": 200, "/governance/approvals": 200,
            "/governance/policy/team": 200 if name in OVERSEERS else 403,
            "/governance/audit": 200 if name == "ada" else 403,
            "/governance/audit/export?format=csv": 200 if name == "ada" else 403,
        }
        for url, status in expected.items():
            r = b.get(url)
            assert r.status_code == status, (name, url, r.status_code)
        # Edit forms are shown only to those who may use them.
        assert ("Publish a new version" in b.get("/governance/policy").text) == (name in OWNERS)


def test_every_form_for_every_role(browser_for, session_factory):
    with session_factory() as session:
        rule_id = session.scalar(select(GuardRule.id).where(GuardRule.key == "watched-terms"))
    for name in ROLES:
        b = browser_for(name)
        token = b.csrf
        forms = {
            "/governance/policy/publish": ({"title": f"Policy by {name}", "body": "Be kind."}, OWNERS),
            "/governance/training": ({"key": f"m-{name}", "title": "T", "body": "B", "minutes": "3", "active": "1"},
                                     OWNERS),
            "/governance/guard/rules": ({"rule_id": str(rule_id), "name": f"Watched ({name})", "severity": "warn",
                                         "terms": "lawsuit\noutage", "enabled": "1"}, OWNERS),
            "/governance/approvals/rules": ({"name": f"Rule by {name}", "approver_team": "legal",
                                             "sla_minutes": "30", "intents": ["legal_risk", "complaint"],
                                             "enabled": "1"}, OWNERS),
        }
        for url, (data, allowed) in forms.items():
            r = b.post(url, data={**data, "csrf_token": token}, follow_redirects=False)
            assert r.status_code == (303 if name in allowed else 403), (name, url, r.status_code, r.text[:200])
    with session_factory() as session:
        assert session.scalar(select(GuardRule.name).where(GuardRule.id == rule_id)) == "Watched (lee)"
        assert session.scalar(select(GuardRule.terms).where(GuardRule.id == rule_id)) == ["lawsuit", "outage"]
        titles = set(session.scalars(select(PolicyVersion.title)))
        assert {"Policy by ada", "Policy by lee"} <= titles and "Policy by sam" not in titles
        actions = [a for a in session.scalars(select(AuditRecord.action)) if not a.startswith("auth.")]
        assert actions.count("guard_rule.update") == 2 and actions.count("approval_rule.create") == 2


def test_forms_need_the_csrf_token(browser_for):
    b = browser_for("lee")
    for url in ("/governance/policy/publish", "/governance/guard/rules", "/governance/approvals/rules",
                "/governance/guard/check"):
        r = b.post(url, data={"title": "x", "body": "y", "text": "z"}, follow_redirects=False)
        assert r.status_code == 403, url
        r = b.post(url, data={"title": "x", "body": "y", "csrf_token": "forged"}, follow_redirects=False)
        assert r.status_code == 403, url


def test_signed_out_people_are_sent_to_sign_in(gov_app):
    from fastapi.testclient import TestClient

    with TestClient(gov_app) as c:
        for url in ("/governance/policy", "/governance/audit", "/governance/guard"):
            r = c.get(url, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].startswith("/login")
        assert c.post("/api/v1/guard/check", json={"text": "x"}).status_code == 401


def test_the_guard_tester_marks_findings_in_place_and_escapes(browser_for):
    b = browser_for("sam")
    r = b.post("/governance/guard/check", data={"text": "<b>you idiot</b> call +44 7700 900123", "channel": "xcom",
                                                "csrf_token": b.csrf})
    assert r.status_code == 200
    assert '<mark class="sev-block"' in r.text and ">idiot</mark>" in r.text
    assert "&lt;b&gt;you " in r.text and "<b>you" not in r.text
    assert "Blocked" in r.text and r.headers["content-security-policy"].startswith("default-src 'self'")


def test_policy_acknowledgement_training_and_team_status(browser_for, session_factory):
    sam, mia, lee = browser_for("sam"), browser_for("mia"), browser_for("lee")
    r = lee.post("/governance/policy/publish", data={"title": "Policy v2", "summary": "tone",
                                                     "body": "# Hi\n<script>alert(1)</script> [x](javascript:alert(1))",
                                                     "csrf_token": lee.csrf}, follow_redirects=False)
    assert r.status_code == 303
    page = sam.get("/governance/policy").text
    assert "<script>alert" not in page and "&lt;script&gt;" in page and 'href="javascript' not in page
    assert "<h1>Hi</h1>" in page
    with session_factory() as session:
        version = policy.current_version(session)
        module = policy.list_modules(session)[0]
    status = mia.get("/governance/policy/team").text
    assert "Sam Rivera" in status and "Lena Brandt" not in status  # Lena is in legal, not Mia's team
    assert sam.post(f"/governance/policy/{version.id}/acknowledge", data={"csrf_token": sam.csrf},
                    follow_redirects=False).status_code == 303
    assert sam.post(f"/governance/training/{module.id}/complete", data={"csrf_token": sam.csrf},
                    follow_redirects=False).status_code == 303
    assert "Acknowledged" in sam.get("/governance/policy").text
    with session_factory() as session:
        rows = {p["email"]: p for p in policy.team_status(session, _principal(session, "mia"))["people"]}
        assert rows["sam@acme.test"]["acknowledged_at"] is not None
        assert module.title not in rows["sam@acme.test"]["training_missing"]
        assert rows["vic@acme.test"]["acknowledged_at"] is None


def _principal(session, name):
    from onevoice.auth.models import User
    from onevoice.auth.users import principal_for

    return principal_for(session, session.scalar(select(User).where(User.email == f"{name}@acme.test")))


def test_reminders_are_recorded_and_not_repeated_within_a_week(gov_app, session_factory):
    from datetime import timedelta

    from onevoice.db import utcnow

    now = utcnow()
    with unit_of_work(session_factory) as session:
        first = policy.due_reminders(session, now)
    assert len(first) == len(PEOPLE)  # everyone (lena and the executive too); nobody has acknowledged v1
    with unit_of_work(session_factory) as session:
        assert policy.due_reminders(session, now + timedelta(days=1)) == []
        version = policy.current_version(session)
        policy.acknowledge(session, _principal(session, "sam"), version.id)
    with unit_of_work(session_factory) as session:
        again = {r["email"] for r in policy.due_reminders(session, now + timedelta(days=8))}
    assert "sam@acme.test" not in again and "vic@acme.test" in again


def test_api_guard_check(api_for):
    api = api_for("sam")
    r = api.post("/api/v1/guard/check", json={"text": "Guaranteed to cure it, idiot", "channel_kind": "x"})
    body = r.json()
    assert r.status_code == 200 and body["outcome"] == "blocked" and body["blocked"]
    idiot = next(f for f in body["findings"] if f["rule"] == "banned-terms")
    assert (idiot["start"], idiot["end"], idiot["match"], idiot["severity"]) == (23, 28, "idiot", "block")
    r = api.post("/api/v1/guard/check", json={"text": "It is guaranteed to arrive", "channel": "mast"})
    assert r.json()["outcome"] == "approval" and r.json()["approval"]["team"] == "legal"
    assert api.post("/api/v1/guard/check", json={"text": "Thanks!", "channel": "mast"}).json()["outcome"] == "send"
    assert api.post("/api/v1/guard/check", json={"text": "x", "channel": "nope"}).status_code == 404
    assert api.post("/api/v1/guard/check", json={"text": "x", "case_id": 999}).status_code == 404


def test_api_roles(api_for):
    for name in [*ROLES, None]:
        api = api_for(name)
        owner = name in OWNERS or name is None
        r = api.post("/api/v1/guard/rules", json={"key": f"r-{name}", "name": "n", "kind": "terms",
                                                  "severity": "warn", "terms": ["foo"]})
        assert r.status_code == (201 if owner else 403), (name, r.text)
        r = api.post("/api/v1/approval-rules", json={"name": "n", "approver_team": "pr"})
        assert r.status_code == (201 if owner else 403), (name, r.text)
        r = api.post("/api/v1/policy/versions", json={"title": "t", "body": "b"})
        assert r.status_code == (201 if owner else 403), (name, r.text)
        assert api.get("/api/v1/audit").status_code == (200 if name in ("ada", None) else 403)
        assert api.get("/api/v1/audit/verify").status_code == (200 if name in ("ada", None) else 403)
        assert api.get("/api/v1/policy/status").status_code == (200 if name in OVERSEERS or name is None else 403)
        version = api.get("/api/v1/policy").json()["id"]
        r = api.post(f"/api/v1/policy/versions/{version}/acknowledge")
        assert r.status_code == (403 if name is None else 200), (name, r.text)  # programs cannot acknowledge
        assert api.get("/api/v1/guard/rules").status_code == 200


def test_disabled_users_tokens_stop_working(api_for, session_factory):
    from onevoice.auth.models import User

    api = api_for("lee")
    assert api.get("/api/v1/guard/rules").status_code == 200
    with unit_of_work(session_factory) as session:
        session.scalar(select(User).where(User.email == "lee@acme.test")).active = False
    assert api.get("/api/v1/guard/rules").status_code == 401


def all_routes(routes):
    """Every endpoint, including those inside included routers (newer FastAPI wraps them)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from all_routes(inner.routes)
        elif getattr(route, "methods", None):
            yield route


def test_no_route_can_change_or_delete_audit_records(gov_app, api_for, browser_for):
    audit_routes = [r for r in all_routes(gov_app.routes) if "audit" in r.path]
    assert audit_routes and all(r.methods <= {"GET", "HEAD"} for r in audit_routes), \
        [(r.path, r.methods) for r in audit_routes]
    api, ada = api_for(None), browser_for("ada")
    seq = api.get("/api/v1/audit").json()["items"][0]["seq"]
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        for url in ("/api/v1/audit", f"/api/v1/audit/{seq}", "/api/v1/audit/export"):
            assert api.request(method, url, json={"actor": "x"}).status_code in (404, 405), (method, url)
        for url in ("/governance/audit", f"/governance/audit/{seq}"):
            r = ada.request(method, url, data={"csrf_token": ada.csrf})
            assert r.status_code in (404, 405), (method, url)
    assert api.get("/api/v1/audit/verify").json()["ok"]


def test_audit_page_filters_and_export_is_itself_audited(browser_for, api_for, session_factory):
    lee = browser_for("lee")
    lee.post("/governance/policy/publish", data={"title": "T", "body": "B", "csrf_token": lee.csrf})
    ada = browser_for("ada")
    page = ada.get("/governance/audit?action=policy").text
    assert "policy.publish" in page and "lee@acme.test" in page and "Chain intact" in page
    assert "<code>auth.sign_in</code>" not in page and "<code>policy.publish</code>" in page
    r = ada.get("/governance/audit/export?format=jsonl&action=policy.publish")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    assert all('"action":"policy.publish"' in line for line in r.text.strip().splitlines())
    csv_text = api_for(None).get("/api/v1/audit/export?format=csv").text
    assert csv_text.startswith("seq,at,actor,action")
    with session_factory() as session:
        exports = list(session.scalars(select(AuditRecord).where(AuditRecord.action == "audit.export")))
        assert {e.actor for e in exports} == {"ada@acme.test", "token:t-None"}
        assert audit.verify(session).ok


def test_changes_made_elsewhere_are_audited(gov_app, runtime, browser_for):
    """Sign-ins, tokens, channels and users, written by other features, through the app's sessions."""
    from onevoice.auth.tokens import create_token, revoke_token
    from onevoice.channels.service import add_channel, remove_channel

    browser_for("sam")
    with unit_of_work(runtime.session_factory) as session:
        token, _ = create_token(session, "ci")
        add_channel(session, "hooked", "webhook", "Hooked", {"secret": "s" * 20}, owner_team="support")
    with unit_of_work(runtime.session_factory) as session:
        revoke_token(session, token.id)
        remove_channel(session, "hooked")
    with runtime.session_factory() as session:
        rows = list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
        by_action = {r.action: r for r in rows}
        assert by_action["auth.sign_in"].actor == "sam@acme.test" and by_action["auth.sign_in"].ip
        assert by_action["token.create"].data["name"] == "ci"
        assert by_action["token.revoke"].target == by_action["token.create"].target
        add = by_action["channel.add"]
        assert add.data["owner_team"] == "support" and add.data["credentials"] is True
        assert "s" * 20 not in str([r.data for r in rows])
        assert by_action["channel.remove"].data["enabled"] == [True, False]
        assert audit.verify(session).ok
