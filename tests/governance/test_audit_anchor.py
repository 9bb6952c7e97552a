"""The audit log anchored outside the database: each record sealed with the audit key (an HMAC), checkpoints
of the head in a file, and `verify` checking both. The attacker here can do anything to the database
(go around the append-only triggers, recompute every hash) but has neither the key nor the checkpoint file."""

from __future__ import annotations

import json
import uuid

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, select, text

from onevoice.audit import log as audit
from onevoice.audit.anchor import Anchor, AuditKey, read_checkpoints, session_info, write_checkpoint
from onevoice.audit.models import AuditRecord
from onevoice.db import make_engine, make_sessionmaker, unit_of_work
from onevoice.migrate import alembic_config, upgrade
from tests.conftest import PG_ADMIN_URL
from tests.governance.test_audit import ADMIN

pytestmark = pytest.mark.both_databases
KEY = AuditKey(b"k" * 40)
OTHER_KEY = AuditKey(b"another key held by nobody here, 40 chars")


@pytest.fixture
def anchor(tmp_path) -> Anchor:
    return Anchor(KEY, tmp_path / "checkpoints.jsonl", "this-db")


@pytest.fixture
def keyed(engine, anchor):
    """Sessions as the app makes them when ONEVOICE_AUDIT_KEY_FILE is set."""
    return make_sessionmaker(engine, info=session_info(anchor))


def write(factory, n, start=0):
    with unit_of_work(factory) as session:
        for i in range(start, start + n):
            audit.record(session, ADMIN, "thing.do", f"thing:{i}", {"i": i}, "10.0.0.1")


def verify(factory, **kwargs) -> audit.Verification:
    with factory() as session:
        return audit.verify(session, **kwargs)


def as_owner(factory, *statements: tuple[str, dict]):
    """What the database owner can do: go around the append-only triggers (and put them back)."""
    with factory() as session:
        pg = session.get_bind().dialect.name == "postgresql"
        session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only" if pg else
                             "DROP TRIGGER IF EXISTS audit_log_no_update"))
        if not pg:
            session.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
        for sql, params in statements:
            session.execute(text(sql), params)
        if pg:
            session.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
        session.commit()


def rechain(factory, from_seq: int, change: str | None = None, strip: bool = False):
    """Rewrite records from `from_seq` on (optionally changing the first one's actor) and recompute every hash
    after it so that the chain is whole again: all that is possible without the key."""
    with factory() as session:
        rows = list(session.scalars(select(AuditRecord).where(AuditRecord.seq >= from_seq).order_by(AuditRecord.seq)))
        prev = session.scalar(select(AuditRecord.hash).where(AuditRecord.seq == from_seq - 1)) or audit.GENESIS
        plan = []
        for rec in rows:
            actor = change if (change and rec.seq == from_seq) else rec.actor
            new = audit.compute_hash(prev, rec.seq, rec.at, actor, rec.action, rec.target, rec.data, rec.ip)
            plan.append((rec.seq, actor, prev, new))
            prev = new
    extra = ", mac = NULL, key_id = NULL" if strip else ""
    # Hashes are unique: move the rewritten ones out of the way first, then put the new ones in.
    as_owner(factory, ("UPDATE audit_log SET hash = 'x' || CAST(seq AS VARCHAR) WHERE seq >= :s", {"s": from_seq}),
             *[(f"UPDATE audit_log SET actor = :a, prev_hash = :p, hash = :h{extra} WHERE seq = :s",
                {"a": actor, "p": prev_hash, "h": new, "s": seq}) for seq, actor, prev_hash, new in plan])


def test_a_keyed_chain_is_sealed_and_verifies(keyed):
    write(keyed, 5)
    with keyed() as session:
        rows = list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
    assert all(r.key_id == KEY.id and r.mac == KEY.seal(r.hash) for r in rows)
    result = verify(keyed)
    assert result.ok and result.checked == 5 and result.sealed_from == 1
    assert any(line.startswith("sealed: records 1-5 carry MACs") for line in result.findings())


def test_a_row_changed_and_the_whole_chain_recomputed_without_the_key_is_found(keyed):
    write(keyed, 6)
    rechain(keyed, 3, change="mallory")
    plain = verify(make_sessionmaker(keyed.kw["bind"]))  # the chain alone, no key: the rewrite is invisible
    assert plain.ok and plain.checked == 6
    result = verify(keyed)
    assert not result.ok and result.broken_seq == 3 and "MAC does not match" in result.reason


def test_seals_stripped_from_the_newest_records_are_found(keyed):
    write(keyed, 6)
    rechain(keyed, 4, change="mallory", strip=True)
    result = verify(keyed)
    assert not result.ok and result.broken_seq == 4 and "carries no MAC, though the records before it are sealed" \
        in result.reason


def test_a_record_sealed_with_a_key_we_do_not_have_after_sealed_ones_is_found(engine, keyed, anchor):
    write(keyed, 3)
    write(make_sessionmaker(engine, info=session_info(Anchor(OTHER_KEY, anchor.checkpoint_path))), 1, start=3)
    result = verify(keyed)
    assert not result.ok and result.broken_seq == 4 and f"under key {OTHER_KEY.id}" in result.reason
    assert verify(keyed, keys=[OTHER_KEY]).ok  # given the other key too (a rolling rotation), it verifies


def test_truncating_the_tail_after_a_checkpoint_is_found(keyed, anchor):
    write(keyed, 5)
    with keyed() as session:
        written = write_checkpoint(session)
    assert written["seq"] == 5 and written["key_id"] == KEY.id and written["db"] == "this-db"
    assert [c.seq for c in read_checkpoints(anchor.checkpoint_path)] == [5]
    as_owner(keyed, ("DELETE FROM audit_log WHERE seq > 3", {}))
    rest = verify(keyed, checkpoint_path=None)  # what is left is whole and sealed: the MACs alone cannot tell
    assert rest.ok and rest.checked == 3 and rest.sealed_from == 1
    result = verify(keyed)
    assert not result.ok and result.broken_seq == 5 and "records were removed from the end" in result.reason


def test_without_a_key_an_unsigned_checkpoint_still_catches_a_rewrite(engine, tmp_path):
    unkeyed = make_sessionmaker(engine, info=session_info(Anchor(None, tmp_path / "cp.jsonl", "this-db")))
    write(unkeyed, 4)
    with unkeyed() as session:
        assert write_checkpoint(session)["mac"] is None
        assert write_checkpoint(session) is None  # the head has not moved: nothing new to write
    rechain(unkeyed, 2, change="mallory")
    result = verify(unkeyed)
    assert not result.ok and result.broken_seq == 4 and "the log was rewritten" in result.reason


def test_an_altered_checkpoint_file_is_found_and_other_databases_lines_are_left_alone(keyed, anchor):
    write(keyed, 3)
    with keyed() as session:
        write_checkpoint(session)
    path = anchor.checkpoint_path
    row = json.loads(path.read_text())
    other = {**row, "db": "another-db", "seq": 99}
    path.write_text(json.dumps(row) + "\n" + json.dumps(other) + "\n")
    result = verify(keyed)
    assert result.ok and result.checkpoints == 1 and result.checkpoints_signed == 1 and result.other_checkpoints == 1
    path.write_text(json.dumps({**row, "seq": 2}) + "\n")
    result = verify(keyed)
    assert not result.ok and "does not match its signature" in result.reason


def test_findings_say_what_was_not_proven(engine, keyed):
    write(make_sessionmaker(engine), 2)
    bare = verify(make_sessionmaker(engine))
    assert bare.ok and any(line.startswith("NOT SEALED: no audit key") for line in bare.findings())
    assert any(line.startswith("NO CHECKPOINT") for line in bare.findings())
    write(keyed, 1, start=2)
    with keyed() as session:
        write_checkpoint(session)
    write(keyed, 1, start=3)
    lines = verify(keyed).findings()
    assert "records 1-2 are vouched for by the chain up to record 3 (written before the key" in lines[1]
    assert lines[1].startswith("sealed: records 3-4 carry MACs under the audit key")
    assert lines[-1].startswith("not proven: record 4 is newer than the last checkpoint")


# A chain written before the audit key existed (before migration 0013) ---------------------------------------

@pytest.fixture
def old_db_url(db_backend, tmp_path):
    """A database migrated only up to the revision before the anchor, as an existing deployment has it."""
    before = ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision("0013_audit_anchor").down_revision
    if db_backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        upgrade(url, before)
        yield url
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"onevoice_old_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url, before)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_chain_written_before_the_upgrade_keeps_verifying_and_is_anchored_by_the_key(old_db_url, tmp_path):
    engine = make_engine(old_db_url)
    try:
        # Written as the code before this change wrote it: the same hash, and no mac/key_id columns at all.
        prev, at, table = audit.GENESIS, audit.utcnow(), AuditRecord.__table__
        with engine.begin() as conn:
            for seq in range(1, 5):
                row = {"seq": seq, "at": at, "actor": "old@acme.test", "action": "thing.old", "target": f"t:{seq}",
                       "data": {"i": seq}, "ip": None, "prev_hash": prev}
                prev = row["hash"] = audit.compute_hash(prev, seq, at, row["actor"], row["action"], row["target"],
                                                        row["data"], None)
                conn.execute(table.insert().values(**row))
        upgrade(old_db_url)
        assert verify(make_sessionmaker(engine)).ok
        keyed = make_sessionmaker(engine, info=session_info(Anchor(KEY, tmp_path / "cp.jsonl", "old")))
        write(keyed, 2)
        result = verify(keyed)
        assert result.ok and result.checked == 6 and result.sealed_from == 5
        # The old records have no MAC of their own, yet rewriting one now breaks the first sealed record.
        rechain(keyed, 2, change="mallory")
        result = verify(keyed)
        assert not result.ok and result.broken_seq == 5 and "MAC does not match" in result.reason
    finally:
        engine.dispose()


# How a process gets its anchor: settings -> runtime -> every session; the scheduler's checkpoint ----------

def test_the_runtime_seals_with_the_configured_key_and_the_scheduler_checkpoints(settings, tmp_path):
    from onevoice.audit.anchor import checkpoint_job, database_tag
    from onevoice.cli.serving import _scheduler
    from onevoice.runtime import build_runtime

    key_file = tmp_path / "audit.key"
    key_file.write_text("a" * 32 + "\n")
    runtime = build_runtime(settings.model_copy(update={"audit_key_file": key_file}))
    try:
        write(runtime.session_factory, 2)
        assert "audit-checkpoint" in [job.name for job in _scheduler(runtime, poll=False).jobs]
        row = checkpoint_job(runtime.read_factory, runtime.anchor)
        assert row["seq"] == 2 and row["key_id"] == AuditKey(b"a" * 32).id
        assert row["db"] == database_tag(settings.database_url)
        assert json.loads((tmp_path / "audit-checkpoints.jsonl").read_text())["hash"] == row["hash"]
        result = verify(runtime.read_factory)
        assert result.ok and result.sealed_from == 1 and result.checkpoints_signed == 1
    finally:
        runtime.dispose()


def test_a_configured_key_that_cannot_be_used_stops_the_process(settings, tmp_path):
    from pydantic import SecretStr

    from onevoice.errors import InvalidInput
    from onevoice.runtime import build_runtime

    for update, message in (({"audit_key": SecretStr("short")}, "too short"),
                            ({"audit_key_file": tmp_path / "nowhere"}, "cannot read the audit key file"),
                            ({"audit_key": SecretStr("b" * 40), "audit_key_file": tmp_path / "k"}, "not both")):
        with pytest.raises(InvalidInput, match=message):
            build_runtime(settings.model_copy(update=update))
