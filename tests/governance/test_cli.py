"""`onevoice audit verify | export` and `onevoice keys rotate` against a real database."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from onevoice.audit import log as audit
from onevoice.audit.models import AuditRecord
from onevoice.channels.models import Channel
from onevoice.channels.secrets import decrypt
from onevoice.channels.service import add_channel
from onevoice.cli.main import app
from onevoice.db import unit_of_work

pytestmark = pytest.mark.both_databases
runner = CliRunner()
OLD, NEW = "old-secret-key-0123456789", "new-secret-key-9876543210"


def run(db_url, *args, code=0):
    result = runner.invoke(app, [*args, "--database-url", db_url])
    assert result.exit_code == code, result.output
    return result


def test_verify_reports_intact_then_the_first_broken_record(db_url, session_factory):
    with unit_of_work(session_factory) as session:
        for i in range(4):
            audit.record(session, "tester", "thing.do", f"t:{i}", {"i": i})
    assert "ok: 4 record(s)" in run(db_url, "audit", "verify").output
    with session_factory() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
            session.execute(text("UPDATE audit_log SET data = '{\"i\": 99}' WHERE seq = 3"))
            session.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
        else:
            session.execute(text("DROP TRIGGER audit_log_no_update"))
            session.execute(text("UPDATE audit_log SET data = '{\"i\": 99}' WHERE seq = 3"))
        session.commit()
    out = run(db_url, "audit", "verify", code=1).output
    assert "BROKEN at record seq=3" in out and "2 record(s) before it are intact" in out


def test_export_filters_formats_and_is_recorded(db_url, session_factory, tmp_path):
    with unit_of_work(session_factory) as session:
        audit.record(session, "a@x.test", "channel.add", "channel:x", {"kind": "x"}, "10.0.0.9")
        audit.record(session, "a@x.test", "token.create", "token:ov_1", {"name": "ci"})
    lines = run(db_url, "audit", "export", "--action", "channel").output.strip().splitlines()
    assert [json.loads(line)["action"] for line in lines] == ["channel.add"]
    assert json.loads(lines[0])["ip"] == "10.0.0.9"
    out = tmp_path / "audit.csv"
    run(db_url, "audit", "export", "--format", "csv", "--since", "2000-01-01", "-o", str(out))
    rows = out.read_text().splitlines()
    assert rows[0].startswith("seq,at,actor,action") and len(rows) == 4  # header, 2 records, the 1st export
    assert run(db_url, "audit", "export", "--since", "2999-01-01").output.strip() == ""
    assert run(db_url, "audit", "export", "--format", "xml", code=2)
    with session_factory() as session:
        exports = list(session.scalars(select(AuditRecord).where(AuditRecord.action == "audit.export")))
        assert len(exports) == 3 and exports[0].actor.startswith("cli:") and audit.verify(session).ok


def test_keys_rotate_reencrypts_all_or_nothing_and_is_audited(db_url, session_factory):
    with unit_of_work(session_factory) as session:
        add_channel(session, "hook1", "webhook", "One", {"secret": "a" * 20}, secret_key=OLD)
        add_channel(session, "hook2", "webhook", "Two", {"secret": "b" * 20}, secret_key=OLD)
    bad = run(db_url, "keys", "rotate", "--old-key", "wrong-key-wrong-key", "--new-key", NEW, code=1)
    assert "cannot be decrypted" in bad.output
    with session_factory() as session:
        assert all(decrypt(c.secrets, OLD) for c in session.scalars(select(Channel)))
    assert run(db_url, "keys", "rotate", "--old-key", OLD, "--new-key", OLD, code=1)
    out = run(db_url, "keys", "rotate", "--old-key", OLD, "--new-key", NEW).output
    assert "2 channel(s)" in out
    with session_factory() as session:
        secrets = {c.key: decrypt(c.secrets, NEW)["secret"] for c in session.scalars(select(Channel))}
        assert secrets == {"hook1": "a" * 20, "hook2": "b" * 20}
        rec = session.scalar(select(AuditRecord).where(AuditRecord.action == "keys.rotate"))
        assert rec.data == {"channels": ["hook1", "hook2"], "count": 2} and rec.actor.startswith("cli:")
        assert OLD not in str(rec.data) and NEW not in str(rec.data)


def test_keys_rotate_reads_keys_from_the_environment(db_url, session_factory, monkeypatch):
    with unit_of_work(session_factory) as session:
        add_channel(session, "hook1", "webhook", "One", {"secret": "a" * 20}, secret_key=OLD)
    monkeypatch.setenv("ONEVOICE_OLD_SECRET_KEY", OLD)
    monkeypatch.setenv("ONEVOICE_NEW_SECRET_KEY", NEW)
    assert "1 channel(s)" in run(db_url, "keys", "rotate").output
