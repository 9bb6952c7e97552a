"""Upgrading a database that holds data: built by the oldest migration, a row in every table that exists then,
upgraded to the head, every value still there (SQLite and PostgreSQL). The rows are made from the reflected
schema, not from today's models, so a table or column added at 0001 is covered without editing this test."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import MetaData, create_engine, select, text

from onevoice.migrate import alembic_config, upgrade
from tests.conftest import PG_ADMIN_URL

pytestmark = pytest.mark.both_databases
OLDEST = "0001"
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _value(table, col, ids: dict[str, int]):
    for fk in col.foreign_keys:
        return ids[fk.column.table.name]
    t = col.type
    if isinstance(t, sa.Boolean):
        return True
    if isinstance(t, sa.BigInteger | sa.Integer):
        return 1 if col.primary_key else 7
    if isinstance(t, sa.Float | sa.Numeric):
        return 1.5
    if isinstance(t, sa.DateTime):
        return WHEN
    if isinstance(t, sa.JSON):
        return {"kept": f"{table.name}.{col.name}", "n": [1, 2]}
    if isinstance(t, sa.String | sa.Text):
        word = f"v {table.name} {col.name}"
        return word[: t.length] if getattr(t, "length", None) else word
    raise AssertionError(f"no sample value for {table.name}.{col.name} ({t!r})")


@pytest.fixture
def empty_url(db_backend, db_url, tmp_path):
    """An empty database (the session's PostgreSQL database is at the head already: a new one beside it)."""
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = f"onevoice_upgrade_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_database_from_the_oldest_migration_keeps_its_rows_through_every_upgrade(empty_url):
    url = empty_url
    upgrade(url, OLDEST)
    engine = create_engine(url)
    old = MetaData()
    old.reflect(engine)
    tables = [t for t in old.sorted_tables if t.name != "alembic_version" and not t.name.startswith("messages_search")]
    assert len(tables) >= 10
    ids: dict[str, int] = {}
    written: dict[str, dict] = {}
    with engine.begin() as conn:
        for table in tables:
            row = {c.name: _value(table, c, ids) for c in table.columns}
            conn.execute(table.insert().values(**row))
            ids[table.name] = row.get("id", 1)
            written[table.name] = row
    engine.dispose()

    upgrade(url, "heads")

    engine = create_engine(url)
    new = MetaData()
    new.reflect(engine)
    lost = []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head()
        for name, row in written.items():
            assert name in new.tables, f"table {name} vanished in an upgrade"
            table = new.tables[name]
            got = conn.execute(select(table)).mappings().all()
            assert len(got) == 1, f"{name}: {len(got)} rows after the upgrade"
            for col, value in row.items():
                if col not in table.c:
                    lost.append(f"{name}.{col} (column dropped)")
                    continue
                after = got[0][col]
                if isinstance(value, datetime) and after is not None and after.tzinfo is None:
                    after = after.replace(tzinfo=UTC)
                if after != value:
                    lost.append(f"{name}.{col}: {value!r} became {after!r}")
        if conn.dialect.name == "sqlite":  # the search index built by 0002 covers the message written at 0001
            hits = conn.execute(text("SELECT rowid FROM messages_search WHERE messages_search MATCH 'messages'"))
            assert [r[0] for r in hits] == [ids["messages"]]
    engine.dispose()
    assert lost == []
