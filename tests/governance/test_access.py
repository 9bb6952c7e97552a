"""Access: partners' channel grants, API tokens (lifetime, scopes, the secret shown once, clear refusals),
sign-in sessions (listed, ended one by one, sign out everywhere, all audited), and escalation notices that
reach the approvers (badge, notifications page, optional signed webhook)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import timedelta

import httpx
import pytest
import respx
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from onevoice.approvals.models import Approval
from onevoice.audit.models import AuditRecord
from onevoice.auth.models import ApiToken, User, UserSession
from onevoice.auth.permissions import may_post_on
from onevoice.auth.users import principal_for
from onevoice.channels.models import Channel
from onevoice.cli.main import app as cli
from onevoice.db import unit_of_work, utcnow
from onevoice.errors import Forbidden, InvalidInput
from onevoice.governance import grants, jobs
from onevoice.governance.seed import seed_governance
from onevoice.inbox.models import Notification
from onevoice.messages.models import Message
from onevoice.teams.models import Team
from tests.governance.conftest import PASSWORD, make_case
from tests.web.helpers import sign_in

pytestmark = pytest.mark.both_databases


def actions(factory, action: str) -> list[AuditRecord]:
    with factory() as s:
        return list(s.scalars(select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq)))


# --- partners' grants ---------------------------------------------------------------------------------------

def test_grants_are_for_admins_partners_only_and_audited(session_factory, org):
    with unit_of_work(session_factory) as s:
        with pytest.raises(Forbidden):
            grants.grant(s, org["lee"], "pia@acme.test", "xcom")  # coordinators do not hand out access
        with pytest.raises(InvalidInput, match="go by team"):
            grants.grant(s, org["ada"], "sam@acme.test", "xcom")
        assert grants.grant(s, org["ada"], "pia@acme.test", "xcom") is True
        assert grants.grant(s, org["ada"], "pia@acme.test", "xcom") is False  # idempotent
        assert grants.grants_by_user(s, org["ada"]) == {"pia@acme.test": ["xcom"]}
        pia = principal_for(s, s.scalar(select(User).where(User.email == "pia@acme.test")))
        xcom, mast = (s.scalar(select(Channel).where(Channel.key == k)) for k in ("xcom", "mast"))
        assert pia.channel_ids == {xcom.id}
        assert may_post_on(pia, xcom) and not may_post_on(pia, mast)  # publishing follows the grant
        assert grants.revoke(s, org["ada"], "pia@acme.test", "xcom") is True
        assert grants.revoke(s, org["ada"], "pia@acme.test", "xcom") is False
    granted, revoked = actions(session_factory, "access.grant"), actions(session_factory, "access.revoke")
    assert [(r.actor, r.target, r.data) for r in granted] == [("ada@acme.test", "user:pia@acme.test",
                                                                {"channel": "xcom"})]
    assert len(revoked) == 1  # the second revoke changed nothing and recorded nothing


def test_admin_grants_on_the_people_page(browser_for, runtime):
    ada, pia = browser_for("ada"), browser_for("pia")
    page = ada.get("/governance/users").text
    assert 'aria-label="Grant a channel to pia@acme.test"' in page and "no channel: sees nothing" in page
    r = ada.post("/governance/users/grants", data={"email": "pia@acme.test", "channel": "mast",
                                                   "csrf_token": ada.csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert pia.post("/governance/users/grants", data={"email": "pia@acme.test", "channel": "xcom",
                                                      "csrf_token": pia.csrf}).status_code == 403
    with runtime.session_factory() as s:
        pia_user = s.scalar(select(User).where(User.email == "pia@acme.test"))
        assert len(principal_for(s, pia_user).channel_ids) == 1
    ada.post("/governance/users/grants/revoke", data={"email": "pia@acme.test", "channel": "mast",
                                                      "csrf_token": ada.csrf})
    assert "no channel: sees nothing" in ada.get("/governance/users").text


# --- API tokens ------------------------------------------------------------------------------------------------

def test_token_page_shows_the_secret_once_and_lists_only_ones_own(browser_for, runtime):
    sam, ada = browser_for("sam"), browser_for("ada")
    r = sam.post("/governance/tokens", data={"name": "my script", "days": "30", "scope": ["cases:read"],
                                             "csrf_token": sam.csrf})
    assert r.status_code == 201
    secret = re.search(r'<code class="token-secret">(ov_[^<]+)</code>', r.text).group(1)
    listed = sam.get("/governance/tokens").text
    assert "my script" in listed and secret not in listed  # never shown again
    api = TestClient(sam.app, headers={"Authorization": f"Bearer {secret}"})
    assert api.get("/api/v1/cases?team=support").status_code == 200
    assert api.get("/api/v1/guard/rules").status_code == 403  # scoped to cases:read
    with runtime.session_factory() as s:
        token = s.scalar(select(ApiToken).where(ApiToken.name == "my script"))
        assert token.scopes == ["cases:read"] and token.last_used_at is not None
        assert timedelta(days=29) < token.expires_at - utcnow() <= timedelta(days=30)
    assert "my script" in ada.get("/governance/tokens").text  # admins see everyone's
    assert "my script" not in browser_for("mia").get("/governance/tokens").text
    for bad, why in (({"days": "400"}, "1 to 365 days"), ({"days": "7", "scope": ["cases:delete"]}, "unknown scope"),
                     ({"days": "7", "user": "lee@acme.test"}, "only admins")):
        r = sam.post("/governance/tokens", data={"name": "bad", "csrf_token": sam.csrf, **bad})
        assert r.status_code in (403, 422) and why in r.text, bad
    r = sam.post(f"/governance/tokens/{token.id}/revoke", data={"csrf_token": sam.csrf}, follow_redirects=False)
    assert r.status_code == 303
    refused = api.get("/api/v1/cases?team=support")
    assert refused.status_code == 401 and "was revoked on" in refused.json()["detail"]
    assert [r.data["scopes"] for r in actions(runtime.session_factory, "token.create")
            if r.actor == "sam@acme.test"] == [["cases:read"]]
    assert [r.actor for r in actions(runtime.session_factory, "token.revoke")] == ["sam@acme.test"]


def test_tokens_over_the_api_expire_with_a_clear_401(api_for, runtime):
    sam = api_for("sam")
    r = sam.post("/api/v1/tokens", json={"name": "ci", "scopes": ["governance:read"], "expires_in_days": 1})
    assert r.status_code == 201 and r.json()["user"] == "sam@acme.test" and r.json()["state"] == "active"
    fresh = TestClient(sam.app, headers={"Authorization": f"Bearer {r.json()['token']}"})
    assert fresh.get("/api/v1/guard/rules").status_code == 200
    assert sam.post("/api/v1/tokens", json={"name": "x", "user": "lee@acme.test"}).status_code == 403
    misspelt = sam.post("/api/v1/tokens", json={"name": "x", "for_email": "lee@acme.test"})
    assert misspelt.status_code == 422 and "for_email" in misspelt.json()["detail"]
    admin = api_for("ada")  # a person who is an admin (an operator token may not act for someone)
    made = admin.post("/api/v1/tokens", json={"name": "for lee", "user": "lee@acme.test"}).json()
    assert made["user"] == "lee@acme.test"
    with unit_of_work(runtime.session_factory) as s:
        s.get(ApiToken, r.json()["id"]).expires_at = utcnow() - timedelta(minutes=1)
    refused = fresh.get("/api/v1/guard/rules")
    assert refused.status_code == 401 and "expired on" in refused.json()["detail"]
    assert refused.headers["www-authenticate"] == "Bearer"
    unknown = TestClient(sam.app, headers={"Authorization": "Bearer ov_nothing"}).get("/api/v1/guard/rules")
    assert unknown.status_code == 401 and "unknown API token" in unknown.json()["detail"]
    states = {t["name"]: t["state"] for t in sam.get("/api/v1/tokens").json()["items"]}
    assert states["ci"] == "expired" and "for lee" not in states


def test_cli_tokens_have_a_lifetime_scopes_and_are_audited(db_url, session_factory, org):
    run = CliRunner().invoke
    r = run(cli, ["token", "create", "nightly", "--scope", "cases:read", "--expires-in-days", "7",
                  "--database-url", db_url])
    assert r.exit_code == 0 and "cases:read" in r.output and "expires 20" in r.output, r.output
    r = run(cli, ["token", "create", "forever", "--expires-in-days", "0", "--database-url", db_url])
    assert "never expires" in r.output
    bad = run(cli, ["token", "create", "x", "--scope", "nope", "--database-url", db_url])
    assert bad.exit_code == 1 and "unknown scope" in bad.output
    listed = run(cli, ["token", "list", "--database-url", db_url]).output
    assert "nightly" in listed and "cases:read" in listed and "active" in listed
    with session_factory() as s:
        nightly = s.scalar(select(ApiToken).where(ApiToken.name == "nightly"))
    assert run(cli, ["token", "revoke", str(nightly.id), "--database-url", db_url]).exit_code == 0
    assert "revoked" in run(cli, ["token", "list", "--database-url", db_url]).output
    created = actions(session_factory, "token.create")
    assert {r.data["name"] for r in created} == {"nightly", "forever"} and all(r.actor.startswith("cli:")
                                                                               for r in created)
    assert actions(session_factory, "token.revoke")[0].actor.startswith("cli:")


# --- sessions --------------------------------------------------------------------------------------------------

def test_admin_sees_and_ends_one_session_and_sign_out_is_audited(gov_app, browser_for, api_for, runtime):
    ada, sam_laptop = browser_for("ada"), browser_for("sam")
    sam_phone = TestClient(gov_app, headers={"User-Agent": "SamPhone/1.0"})
    assert sign_in(sam_phone, "sam@acme.test", PASSWORD).status_code == 303
    page = ada.get("/governance/sessions?email=sam@acme.test").text
    assert "Sessions of sam@acme.test" in page and "SamPhone/1.0" in page
    listed = api_for("ada").get("/api/v1/users/sam@acme.test/sessions").json()["items"]
    phone = next(s for s in listed if s["user_agent"] == "SamPhone/1.0")
    assert len(listed) == 2 and "token_hash" not in phone
    # not someone else's business
    assert browser_for("mia").get("/governance/sessions?email=sam@acme.test").status_code == 403
    assert api_for("lee").delete(f"/api/v1/sessions/{phone['id']}").status_code == 404
    r = ada.post(f"/governance/sessions/{phone['id']}/revoke", data={"csrf_token": ada.csrf},
                 follow_redirects=False)
    assert r.status_code == 303
    assert sam_phone.get("/inbox", follow_redirects=False).status_code == 303  # that browser is out
    assert sam_laptop.get("/inbox").status_code == 200  # the other one is not
    revoked = actions(runtime.session_factory, "auth.session_revoke")
    assert [(r.actor, r.target) for r in revoked] == [("ada@acme.test", "user:sam@acme.test")]
    sam_laptop.post("/logout", data={"csrf_token": sam_laptop.csrf})
    assert [(r.actor, r.ip is not None) for r in actions(runtime.session_factory, "auth.sign_out")] == [
        ("sam@acme.test", True)]


def test_a_person_signs_out_everywhere_from_their_sessions_page(gov_app, browser_for, runtime):
    lee = browser_for("lee")
    other = TestClient(gov_app)
    assert sign_in(other, "lee@acme.test", PASSWORD).status_code == 303
    page = lee.get("/governance/sessions").text
    assert "Your sessions" in page and "this browser" in page and page.count("End session") == 2
    r = lee.post("/governance/sessions/sign-out-everywhere", data={"csrf_token": lee.csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    for client in (lee, other):
        assert client.get("/inbox", follow_redirects=False).headers["location"].startswith("/login")
    [rec] = actions(runtime.session_factory, "auth.sessions_revoke")
    assert rec.actor == "lee@acme.test" and rec.data == {"sessions": 2, "reason": "signed out everywhere"}
    with runtime.session_factory() as s:
        assert all(us.revoked_at for us in s.scalars(select(UserSession)))


# --- escalation notices ----------------------------------------------------------------------------------------

def _overdue_for_legal(factory) -> int:
    with unit_of_work(factory) as s:
        seed_governance(s)
        case = make_case(s, intent="legal_risk")
        msg = Message(channel_id=case.channel_id, external_id="out-esc", direction="outbound", kind="mention",
                      text="hold me", created_at=utcnow(), status="pending_approval", case_id=case.id)
        s.add(msg)
        s.flush()
        legal = s.scalar(select(Team.id).where(Team.key == "legal"))
        start = utcnow() - timedelta(minutes=55)
        s.add(Approval(case_id=case.id, message_id=msg.id, approver_team_id=legal, requested_at=start,
                       due_at=start + timedelta(minutes=60)))
        return case.id


def test_escalation_reaches_each_approver_and_the_webhook(runtime, browser_for):
    case_id = _overdue_for_legal(runtime.session_factory)
    lee = browser_for("lee")  # the coordinator is in PR, where Legal's requests escalate
    assert 'aria-label="0 unread"' not in lee.get("/inbox").text
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post("https://hooks.acme.test/escalations").mock(return_value=httpx.Response(204))
        moved = jobs.escalate(runtime.session_factory, webhook_url="https://hooks.acme.test/escalations",
                              webhook_secret="s3cret")
    assert [(m["to_team"], m["notified"]) for m in moved] == [("pr", ["lee@acme.test"])]
    sent = route.calls.last.request
    assert sent.headers["x-onevoice-signature"] == "sha256=" + hmac.new(b"s3cret", sent.content,
                                                                        hashlib.sha256).hexdigest()
    assert json.loads(sent.content)["escalations"][0] | {"approval_id": 0} == {
        "approval_id": 0, "case_id": case_id, "from_team": "legal", "to_team": "pr", "level": 1,
        "notified": ["lee@acme.test"]}
    inbox = lee.get("/inbox").text
    assert re.search(r'id="notifications-link">Notifications <span class="chip badge" aria-label="1 unread">1<',
                     inbox)
    page = lee.get("/notifications").text
    assert 'class="unread"' in page and "escalated to you (level 1)" in page and f'href="/cases/{case_id}"' in page
    assert "escalated to you" not in browser_for("sam").get("/notifications").text  # Support is not asked
    lee.post("/notifications/read", data={"csrf_token": lee.csrf})
    assert 'class="unread"' not in lee.get("/notifications").text and "badge" not in lee.get("/inbox").text


def test_a_dead_webhook_does_not_undo_the_escalation(runtime, org):
    _overdue_for_legal(runtime.session_factory)
    with respx.mock() as mock:
        mock.post("https://hooks.acme.test/down").mock(return_value=httpx.Response(503))
        moved = jobs.escalate(runtime.session_factory, webhook_url="https://hooks.acme.test/down")
    assert len(moved) == 1
    with runtime.session_factory() as s:
        lee = s.scalar(select(User.id).where(User.email == "lee@acme.test"))
        assert s.scalar(select(Notification.kind).where(Notification.user_id == lee)) == "approval"



def test_a_refused_token_form_comes_back_with_the_error_and_what_was_typed(browser_for, runtime):
    sam = browser_for("sam")
    r = sam.post("/governance/tokens", data={"name": "   ", "days": "7", "scope": ["cases:read"],
                                             "csrf_token": sam.csrf})
    assert r.status_code == 422 and "a token needs a name" in r.text and 'id="token-form"' in r.text
    assert 'name="days" min="1" max="365" value="7"' in r.text
    assert 'value="cases:read" checked' in r.text and 'value="cases:write" checked' not in r.text
    name = '"><img src=x onerror=alert(1)>'
    r = sam.post("/governance/tokens", data={"name": name, "days": "400", "csrf_token": sam.csrf})
    assert r.status_code == 422 and "1 to 365 days" in r.text
    assert 'value="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in r.text and "<img src=x" not in r.text
    with runtime.session_factory() as s:
        assert s.scalar(select(ApiToken).where(ApiToken.name == name)) is None
