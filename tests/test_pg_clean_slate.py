"""Each PostgreSQL test starts on empty tables with fresh ids (tests/conftest.py empties the session's
database between tests): nothing a previous test wrote, the append-only audit log included, is left."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from onevoice.audit.log import record
from onevoice.auth.principal import SYSTEM
from onevoice.db import make_sessionmaker, unit_of_work
from onevoice.teams.service import add_team
from tests.conftest import _empty_pg

pytestmark = pytest.mark.postgres


def test_a_test_leaves_nothing_for_the_next(db_backend, db_url):
    engine = create_engine(db_url)
    try:
        factory = make_sessionmaker(engine)
        for _ in range(2):
            with unit_of_work(factory) as session:
                team = add_team(session, "support", "Support")
                record(session, SYSTEM, "team.add", f"team:{team.id}", {"key": "support"})
            with engine.connect() as conn:
                # ids restart at 1 after each clean (as TRUNCATE ... RESTART IDENTITY left them)
                assert conn.execute(text("SELECT id FROM teams")).scalars().all() == [1]
                assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() == 1
            _empty_pg(db_url)
            with engine.connect() as conn:
                tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                           "AND tablename != 'alembic_version'")).scalars().all()
                assert len(tables) > 40
                left = {t: n for t in tables if (n := conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar())}
                assert left == {}
                assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
            # the clean leaves the audit log append-only for everyone else
            with unit_of_work(factory) as session:
                record(session, SYSTEM, "team.add", "team:9", {})
            with pytest.raises(Exception, match="append-only"), engine.begin() as conn:  # noqa: PT011
                conn.execute(text("DELETE FROM audit_log"))
            _empty_pg(db_url)
    finally:
        engine.dispose()
