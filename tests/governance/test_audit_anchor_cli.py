"""`onevoice audit new-key | checkpoint | verify` with ONEVOICE_AUDIT_KEY_FILE, as an operator runs them."""

from __future__ import annotations

import json
import stat

import pytest
from typer.testing import CliRunner

from onevoice.cli.main import app
from tests.governance.test_audit_anchor import as_owner

pytestmark = pytest.mark.both_databases
runner = CliRunner()


def run(args, env, code=0):
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == code, result.output
    return result.output


def test_an_operator_makes_a_key_seals_checkpoints_and_verifies(db_url, session_factory, tmp_path):
    key_file = tmp_path / "audit.key"
    out = run(["audit", "new-key", "--output", str(key_file)], {})
    assert "wrote a new audit key (id " in out and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "never overwritten" in run(["audit", "new-key", "-o", str(key_file)], {}, code=1)

    env = {"ONEVOICE_AUDIT_KEY_FILE": str(key_file), "ONEVOICE_DATA_DIR": str(tmp_path),
           "ONEVOICE_DATABASE_URL": db_url}
    for name in ("first", "second"):
        run(["token", "create", name], env)  # audited (token.create), sealed with the key
    out = run(["audit", "checkpoint"], env)
    assert "checkpoint: record 2 hash" in out and "signed with key" in out
    line = json.loads((tmp_path / "audit-checkpoints.jsonl").read_text())
    assert line["seq"] == 2 and line["mac"]
    out = run(["audit", "verify"], env)
    assert "ok: 2 record(s), chain intact" in out and "sealed: records 1-2 carry MACs" in out
    assert "checkpoints: 1 in" in out and "1 with a signature checked" in out

    as_owner(session_factory, ("DELETE FROM audit_log WHERE seq = 2", {}))
    out = run(["audit", "verify"], env, code=1)
    assert "BROKEN at record seq=2" in out and "records were removed from the end" in out


def test_a_key_that_cannot_be_used_stops_the_command(db_url, tmp_path):
    short = tmp_path / "short.key"
    short.write_text("too short\n")
    env = {"ONEVOICE_AUDIT_KEY_FILE": str(short), "ONEVOICE_DATA_DIR": str(tmp_path)}
    out = run(["audit", "verify", "--database-url", db_url], env, code=1)
    assert "audit key" in out and "too short" in out
    env = {"ONEVOICE_AUDIT_KEY_FILE": str(tmp_path / "missing.key"), "ONEVOICE_DATA_DIR": str(tmp_path)}
    assert "cannot read the audit key file" in run(["token", "create", "x", "--database-url", db_url], env, code=1)


def test_a_checkpoint_file_that_cannot_be_used_is_said_plainly(db_url, tmp_path):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where a folder should be")
    env = {"ONEVOICE_AUDIT_CHECKPOINT_PATH": str(blocked / "cp.jsonl"), "ONEVOICE_DATA_DIR": str(tmp_path),
           "ONEVOICE_DATABASE_URL": db_url}
    run(["token", "create", "x"], env)
    assert "error: cannot write the checkpoint file" in run(["audit", "checkpoint"], env, code=1)
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("not json\n")
    out = run(["audit", "verify", "--checkpoints", str(damaged)], env, code=1)
    assert "BROKEN: line 1 of" in out and "the file was damaged" in out
