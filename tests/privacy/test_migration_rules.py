"""The rule for migrations that rewrite a large table (docs/operations.md): they say so, and the helper that
rewrites in batches does what it says on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
import re

import pytest
from alembic import command
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text

import onevoice.db
from onevoice.db import unit_of_work
from onevoice.migrate import alembic_config
from onevoice.migrations.batching import LARGE_TABLES, update_in_batches
from onevoice.pipeline.intake import accept_batch

REWRITE = re.compile(r"^\s*(?:CREATE TABLE _alembic_tmp_(\w+)|UPDATE (\w+)|DELETE FROM (\w+)|"
                     r"INSERT INTO \w+.*?\bFROM (\w+))", re.IGNORECASE | re.DOTALL)


def _declared(script, revision) -> dict:
    path = script.get_revision(revision).path
    spec = importlib.util.spec_from_file_location(f"_mig_{revision}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, "REWRITES_LARGE_TABLES", {})


def test_every_migration_that_rewrites_a_large_table_says_so(tmp_path, monkeypatch):
    """Each migration runs on SQLite (where batch mode copies whole tables) with its statements recorded."""
    url = f"sqlite:///{tmp_path / 'rules.db'}"
    cfg = alembic_config(url)
    script = ScriptDirectory.from_config(cfg)
    statements: list[str] = []
    real = onevoice.db.make_engine

    def recording(u, **kw):
        engine = real(u, **kw)
        event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_: statements.append(sql))
        return engine

    monkeypatch.setattr(onevoice.db, "make_engine", recording)
    undeclared, seen = [], {}
    for rev in reversed(list(script.walk_revisions())):
        statements.clear()
        command.upgrade(cfg, rev.revision)
        rewritten = set()
        for sql in statements:
            m = REWRITE.match(sql)
            if m:
                rewritten |= {t for t in m.groups() if t} & LARGE_TABLES
        seen[rev.revision] = rewritten
        missing = rewritten - set(_declared(script, rev.revision))
        if missing:
            undeclared.append(f"{rev.revision} rewrites {sorted(missing)} without REWRITES_LARGE_TABLES")
    assert seen["0002_inbox"] == {"messages"}  # the detector sees a known rewrite: it can fail
    assert undeclared == []


@pytest.mark.both_databases
def test_update_in_batches_rewrites_every_matching_row_in_small_batches(runtime, org, settings):
    with unit_of_work(runtime.session_factory) as s:
        accept_batch(s, [{"channel": "mast", "external_id": f"b{i}", "kind": "mention", "text": f"t{i}",
                          "author": {"external_id": "a"}, "created_at": "2026-11-20T10:00:00Z"} for i in range(25)])
    runtime.engine.dispose()
    engine = create_engine(onevoice.db.normalize_url(settings.database_url))
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_: statements.append(sql))
    with engine.connect() as conn:
        with Operations.context(MigrationContext.configure(conn)):
            changed = update_in_batches("messages", "language = :lang", "language IS NULL", {"lang": "xx"},
                                        batch_size=10)
        conn.commit()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM messages WHERE language = 'xx'")).scalar() == 25
    engine.dispose()
    assert changed == 25
    assert len([s for s in statements if s.lstrip().startswith("UPDATE messages")]) == 3  # 10 + 10 + 5
