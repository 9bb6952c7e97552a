"""The operator's commands, against a real database."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from tests.factories import message
from typer.testing import CliRunner

from onevoice.auth.tokens import verify_token
from onevoice.cli.main import app
from onevoice.messages.models import Message

pytestmark = pytest.mark.both_databases
runner = CliRunner()


def run(db_url, *args, ok=True):
    result = runner.invoke(app, [*args, "--database-url", db_url])
    if ok:
        assert result.exit_code == 0, result.output
    return result


def test_team_channel_and_token(db_url, session_factory):
    assert "team support" in run(db_url, "team", "add", "support", "--name", "Customer Support").output
    again = run(db_url, "team", "add", "support", ok=False)
    assert again.exit_code == 1 and "already exists" in again.output
    out = run(db_url, "channel", "add", "mast", "--kind", "sandbox", "--name", "Mastodon",
              "--config", "rate_per_minute=5").output
    assert "channel mast (sandbox) created" in out
    assert "mast\tsandbox" in run(db_url, "channel", "list").output
    bad = run(db_url, "channel", "add", "Bad Key!", "--kind", "sandbox", ok=False)
    assert bad.exit_code == 1 and "lowercase" in bad.output
    token = run(db_url, "token", "create", "ci").output.strip().splitlines()[-1]
    with session_factory() as s:
        assert verify_token(s, token) is not None
        assert verify_token(s, token + "x") is None
    run(db_url, "token", "revoke", "1")
    with session_factory() as s:
        assert verify_token(s, token) is None


def test_env_var_sets_the_database(db_url, monkeypatch):
    monkeypatch.setenv("ONEVOICE_DATABASE_URL", db_url)
    assert runner.invoke(app, ["team", "add", "pr"]).exit_code == 0
    assert "pr\t" in runner.invoke(app, ["team", "list"]).output


def test_import_jsonl_and_csv_report_counts_and_process(db_url, tmp_path, session_factory):
    run(db_url, "team", "add", "support")
    run(db_url, "channel", "add", "mast", "--kind", "sandbox")
    items = [message(text="my order never arrived", external_id=f"j{i}", author=f"a{i}") for i in range(5)]
    lines = [json.dumps(i) for i in items] + [json.dumps(items[0]), "{broken json", json.dumps({"channel": "nope"})]
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text("\n".join(lines) + "\n")
    out = run(db_url, "import", str(jsonl)).output
    assert "accepted 5, duplicate 1, rejected 2" in out
    assert "processed 5" in out
    assert "not valid JSON" in out
    csv_file = tmp_path / "in.csv"
    csv_file.write_text(
        "channel,external_id,kind,author.external_id,author.handle,author_followers,text,created_at\n"
        "mast,c1,mention,u1,@u1,500,\"Hello, is the shop open?\",2026-11-20T10:00:00Z\n"
        "mast,c2,mention,u2,@u2,12,\"<b>bold</b> claim\",not-a-date\n"
        "mast,j0,mention,a0,@a0,1,dup,2026-11-20T10:00:00Z\n")
    out = run(db_url, "import", str(csv_file)).output
    assert "accepted 1, duplicate 1, rejected 1" in out
    with session_factory() as s:
        m = s.scalar(select(Message).where(Message.external_id == "c1"))
        assert m.author["followers"] == 500 and m.status == "processed"


def test_import_refuses_missing_or_unknown_files(db_url, tmp_path):
    assert run(db_url, "import", str(tmp_path / "nope.jsonl"), ok=False).exit_code == 1
    other = tmp_path / "x.txt"
    other.write_text("hi")
    assert "jsonl or .csv" in run(db_url, "import", str(other), ok=False).output


def test_failed_messages_are_listed_and_retried(db_url, tmp_path, session_factory):
    run(db_url, "team", "add", "support")
    run(db_url, "channel", "add", "mast", "--kind", "sandbox")
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(json.dumps(message(text="hi there")) + "\n")
    run(db_url, "import", str(jsonl), "--no-process")
    with session_factory.begin() as s:
        m = s.scalar(select(Message))
        m.status, m.error, m.attempts = "failed", "RuntimeError: boom", 1
        # A reply the platform refused: the outbox retries it; the inbound pipeline must never take it.
        s.add(Message(channel_id=m.channel_id, external_id="outbound:x", direction="outbound", kind="mention",
                      text="our reply", author={"external_id": "organization"}, created_at=m.created_at,
                      received_at=m.received_at, status="failed", error="platform said no"))
    assert "RuntimeError: boom" in run(db_url, "messages", "failed").output
    out = run(db_url, "messages", "retry").output
    assert "retrying 1 message(s)" in out and "processed 1" in out
    with session_factory() as s:
        statuses = dict(s.execute(select(Message.direction, Message.status)).all())
        assert statuses == {"inbound": "processed", "outbound": "failed"}


def test_db_upgrade_is_idempotent(db_url):
    assert "up to date" in run(db_url, "db", "upgrade").output
    assert "up to date" in run(db_url, "db", "upgrade").output


@pytest.mark.parametrize("environment", ["production", "prod", "staging", "Production", "dev", ""])
def test_the_development_secret_is_refused_outside_development_and_test(environment):
    from pydantic import ValidationError

    from onevoice.settings import Settings

    with pytest.raises(ValidationError, match="ONEVOICE_SECRET_KEY must be set"):
        Settings(environment=environment)
    Settings(environment=environment, secret_key="a-real-secret-" + "x" * 32)


def test_the_development_secret_never_listens_beyond_loopback(db_url, monkeypatch):
    import typer
    import uvicorn

    from onevoice.cli.serving import refuse_development_secret
    from onevoice.settings import Settings

    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"):
        refuse_development_secret(Settings(), host)
    for host in ("0.0.0.0", "::", "192.168.1.5", "myhost.example"):
        with pytest.raises(typer.BadParameter, match="development secret"):
            refuse_development_secret(Settings(), host)
    refuse_development_secret(Settings(secret_key="a-real-secret-" + "x" * 32), "0.0.0.0")
    started = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, *a, **k: started.append(self.config.host))
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--database-url", db_url])
    assert result.exit_code != 0 and "development secret" in result.output and started == []


def test_a_fresh_install_starts_with_the_default_guard_rules_once(db_url, session_factory, monkeypatch):
    """The attack on an empty guard: on a new install every reply went out unchecked (card numbers, slurs)."""
    import uvicorn

    from onevoice.audit.models import AuditRecord
    from onevoice.governance.guard_rules import DEFAULT_RULES
    from onevoice.governance.models import GuardRule
    from onevoice.governance.review import guard

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, *a, **k: None)
    monkeypatch.setattr("onevoice.cli.serving.configure_logging", lambda *a, **k: None)  # as serving looks it up
    with session_factory() as s:
        assert s.scalar(select(GuardRule.id)) is None
    run(db_url, "serve")
    with session_factory() as s:
        keys = set(s.scalars(select(GuardRule.key)))
        assert keys == {spec.key for spec in DEFAULT_RULES}
        assert {"personal-data", "credentials", "profanity", "slurs", "unapproved-claims",
                "compensation-promises"} <= keys
        assert s.scalar(select(AuditRecord.action).where(AuditRecord.action == "guard.defaults"))
        verdict = guard(s, "Your card 4111 1111 1111 1111 is on file, password: Xk7!pq29wz", None, None)
        assert {f.rule for f in verdict.findings} >= {"personal-data", "credentials"}
        s.scalar(select(GuardRule).where(GuardRule.key == "tone")).enabled = False
        s.delete(s.scalar(select(GuardRule).where(GuardRule.key == "slurs")))
        s.commit()
    run(db_url, "serve")  # a later start puts nothing back: the organization's changes stand
    with session_factory() as s:
        assert not s.scalar(select(GuardRule.enabled).where(GuardRule.key == "tone"))
        assert s.scalar(select(GuardRule.id).where(GuardRule.key == "slurs")) is None
