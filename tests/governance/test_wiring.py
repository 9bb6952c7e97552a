"""Governance wired into the product: scheduler jobs, the CLI's audit trail, the demo, the top bar."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from onevoice.approvals.models import Approval
from onevoice.audit.models import AuditRecord
from onevoice.cli.main import app as cli
from onevoice.db import unit_of_work, utcnow
from onevoice.governance import jobs
from onevoice.governance.seed import seed_governance
from onevoice.inbox.models import Notification
from onevoice.messages.models import Message
from onevoice.teams.models import Team
from tests.governance.conftest import make_case

pytestmark = pytest.mark.both_databases


def test_scheduler_jobs_escalate_near_sla_and_remind_about_the_policy(session_factory, org):
    with unit_of_work(session_factory) as session:
        seed_governance(session)
        case = make_case(session, intent="legal_risk")
        msg = Message(channel_id=case.channel_id, external_id="out-1", direction="outbound", kind="mention",
                      text="hold me", created_at=utcnow(), status="pending_approval", case_id=case.id)
        session.add(msg)
        session.flush()
        legal = session.scalar(select(Team.id).where(Team.key == "legal"))
        start = utcnow() - timedelta(minutes=55)
        session.add(Approval(case_id=case.id, message_id=msg.id, approver_team_id=legal, requested_at=start,
                             due_at=start + timedelta(minutes=60)))
    published = []
    moved = jobs.escalate(session_factory, published.extend)
    assert [(m["from_team"], m["to_team"]) for m in moved] == [("legal", "pr")]
    assert published[0]["change"] == "approval.escalated"
    assert jobs.escalate(session_factory) == []  # safe to run again
    reminded = jobs.remind(session_factory)
    assert {r["email"] for r in reminded} >= {"sam@acme.test", "pia@acme.test"}
    assert jobs.remind(session_factory) == []  # not again within a week
    with session_factory() as session:
        kinds = set(session.scalars(select(Notification.kind)))
        assert {"approval", "policy"} <= kinds
        reminder = session.scalar(select(Notification).where(Notification.kind == "policy").limit(1))
        assert reminder.links == [{"label": "Read the policy", "href": "/governance/policy"}]


def test_embedded_scheduler_runs_governance_beside_poller_and_outbox(settings):
    from onevoice.cli.serving import _scheduler
    from onevoice.runtime import build_runtime

    runtime = build_runtime(settings)
    try:
        names = {j.name: j.every for j in _scheduler(runtime, poll=True).jobs}
    finally:
        runtime.dispose()
    # Other features add their own jobs beside these.
    assert names.items() >= {"poll-channels": 1.0, "outbox": 5.0, "approval-escalation": 60.0,
                             "policy-reminders": 3600.0}.items()


def test_cli_changes_are_audited(db_url, session_factory, org):
    runner = CliRunner()
    result = runner.invoke(cli, ["token", "create", "ci-bot", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["user", "create", "new@acme.test", "--password", "long-enough-pw",
                                 "--team", "support", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    with session_factory() as session:
        rows = {r.action: r for r in session.scalars(select(AuditRecord))}
    assert rows["token.create"].actor.startswith("cli:") and rows["token.create"].data["name"] == "ci-bot"
    assert rows["user.create"].target == "user:new@acme.test"
    assert "long-enough-pw" not in str([r.data for r in rows.values()])


def test_demo_seeds_governance(session_factory):
    from onevoice.demo.seed import seed_demo
    from onevoice.governance.models import ApprovalRule, GuardRule

    with unit_of_work(session_factory) as session:
        seed_demo(session)
    with session_factory() as session:
        assert session.scalar(select(GuardRule.id).limit(1)) and session.scalar(select(ApprovalRule.id).limit(1))


def test_top_bar_links_governance(browser_for):
    for who in ("lee", "pia", "vic"):
        assert 'href="/governance">Governance</a>' in browser_for(who).get("/inbox").text
