"""`onevoice backup` and `onevoice restore`: a backup restored into a fresh database holds every row of every
table; a SQLite backup taken while the server writes is one consistent moment; PostgreSQL through pg_dump and
pg_restore into a fresh database (the procedure of docs/operations.md)."""

from __future__ import annotations

import shutil
import threading
import uuid

import pytest
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from onevoice.cli.main import app as cli
from onevoice.db import make_engine, make_sessionmaker, unit_of_work
from onevoice.migrate import upgrade
from onevoice.pipeline.intake import accept_batch
from tests.conftest import IN_CI, PG_ADMIN_URL
from tests.privacy import world
from tests.privacy.test_upgrade import head


def dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every table (FTS5 shadow tables too), in a stable order."""
    engine = create_engine(url)
    out = {}
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                names = [r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                         "AND name NOT LIKE 'sqlite_%'"))]
            else:
                names = inspect(conn).get_table_names()
            for name in names:
                rows = conn.execute(text(f'SELECT * FROM "{name}"')).all()
                out[name] = sorted(tuple(repr(v) for v in r) for r in rows)
    finally:
        engine.dispose()
    return out


def invoke(*args) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def populated(runtime, org, drain):
    world.build(runtime, org, drain)
    runtime.engine.dispose()
    return runtime.settings.database_url


def test_sqlite_backup_restores_into_a_fresh_database_with_every_row(populated, tmp_path):
    backup_file = tmp_path / "onevoice.backup"
    out = invoke("backup", backup_file, "--database-url", populated)
    assert f"schema {head()}" in out
    fresh = f"sqlite:///{tmp_path / 'restored' / 'onevoice.db'}"
    invoke("restore", backup_file, "--database-url", fresh)
    before, after = dump(populated), dump(fresh)
    # A populated world (FTS5's shadow tables not counted: how many rows its segments take depends on how the
    # messages were indexed, one statement per batch since 0031_search_by_batch).
    assert sum(len(v) for k, v in before.items() if not k.startswith("messages_search")) > 60
    assert len(before["messages"]) >= 4 and len(before["messages_search"]) == len(before["messages"])
    assert after == before
    # The restored database works: its audit chain verifies and the migrations find nothing to do.
    assert "chain intact" in invoke("audit", "verify", "--database-url", fresh)
    invoke("db", "upgrade", "--database-url", fresh)


def test_restore_refuses_what_would_lose_data(populated, tmp_path):
    backup_file = tmp_path / "b.db"
    invoke("backup", backup_file, "--database-url", populated)
    again = CliRunner().invoke(cli, ["backup", str(backup_file), "--database-url", populated])
    assert again.exit_code == 1 and "already exists" in again.output
    over = CliRunner().invoke(cli, ["restore", str(backup_file), "--database-url", populated])
    assert over.exit_code == 1 and "already holds a database" in over.output
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    bad = CliRunner().invoke(cli, ["restore", str(junk), "--database-url", f"sqlite:///{tmp_path / 'x.db'}"])
    assert bad.exit_code == 1 and "not a SQLite database" in bad.output


def test_sqlite_backup_while_the_server_writes_is_one_consistent_moment(settings, runtime, org, tmp_path):
    """A writer commits ten messages per transaction without pause; each backup taken meanwhile must hold a
    whole number of those transactions, and a search index that agrees with the messages."""
    stop = threading.Event()
    written = [0]

    def writer():
        factory = make_sessionmaker(make_engine(settings.database_url))
        n = 0
        while not stop.is_set():
            with unit_of_work(factory) as s:
                accept_batch(s, [{"channel": "mast", "external_id": f"w{n}-{k}", "kind": "mention",
                                  "text": f"load {n} {k}", "author": {"external_id": "w"},
                                  "created_at": "2026-11-20T10:00:00Z"} for k in range(10)])
            n += 1
            written[0] = n

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        counts = []
        for i in range(3):
            while written[0] < (i + 1) * 5:
                stop.wait(0.01)
            target = tmp_path / f"live-{i}.db"
            invoke("backup", target, "--database-url", settings.database_url)
            engine = create_engine(f"sqlite:///{target}")
            with engine.connect() as conn:
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
                n = conn.execute(text("SELECT count(*) FROM messages")).scalar()
                indexed = conn.execute(text("SELECT count(*) FROM messages_search")).scalar()
            engine.dispose()
            assert n % 10 == 0 and n == indexed
            counts.append(n)
    finally:
        stop.set()
        thread.join(30)
    assert counts == sorted(counts) and counts[-1] > counts[0] > 0  # taken while it wrote


@pytest.mark.postgres
def test_postgres_dump_and_restore_into_a_fresh_database(db_url, runtime, org, drain, tmp_path):
    if shutil.which("pg_dump") is None and not IN_CI:
        pytest.skip("pg_dump is not installed")
    world.build(runtime, org, drain)
    backup_file = tmp_path / "onevoice.pgdump"
    invoke("backup", backup_file, "--database-url", db_url)
    name = f"onevoice_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    fresh = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        invoke("restore", backup_file, "--database-url", fresh)
        before, after = dump(db_url), dump(fresh)
        assert len(before["messages"]) >= 4 and after == before
        upgrade(fresh)  # nothing to do, and nothing breaks
        assert "chain intact" in invoke("audit", "verify", "--database-url", fresh)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_sqlite_backup_keeps_the_acknowledged_deliveries_not_yet_stored(populated, tmp_path):
    """A webhook delivery answered 200 but still waiting in the intake journal is in the backup, and a restored
    server would store it: the journal is copied beside the database."""
    from onevoice.pipeline.journal import IntakeJournal, journal_path

    journal = IntakeJournal(journal_path(populated))
    seq, duplicate = journal.append(1, {"x-hub-signature-256": "sha256=ab"}, b'{"entry": []}').result(timeout=10)
    assert not duplicate
    journal.close()
    backup_file = tmp_path / "onevoice.backup"
    invoke("backup", backup_file, "--database-url", populated)
    assert (tmp_path / "onevoice.backup-intake").is_file()
    fresh_db = tmp_path / "restored" / "onevoice.db"
    invoke("restore", backup_file, "--database-url", f"sqlite:///{fresh_db}")
    restored = IntakeJournal(journal_path(f"sqlite:///{fresh_db}"))
    try:
        assert [(d.seq, d.body) for d in restored.pending(10)] == [(seq, b'{"entry": []}')]
    finally:
        restored.close()
