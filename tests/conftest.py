"""Real databases for every test: SQLite files, and the PostgreSQL server when it is reachable.

The schema always comes from the migrations. With CI=true, PostgreSQL and Redis must be there:
their tests fail rather than skip.
"""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from sqlalchemy import create_engine, text

from onevoice.db import make_engine, make_sessionmaker
from onevoice.migrate import upgrade
from onevoice.settings import Settings

PG_ADMIN_URL = os.environ.get("ONEVOICE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ONEVOICE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(what: str, why: str):
    if IN_CI:
        pytest.fail(f"{what} is required when CI=true but is not reachable: {why}")
    pytest.skip(f"{what} not reachable ({why}); start it to run this test")


def pytest_configure(config):
    config.addinivalue_line("markers", "both_databases: run the test on SQLite and on PostgreSQL")
    config.addinivalue_line("markers", "sqlite_only: the embedded default's own behaviour (in a both_databases module)")
    config.addinivalue_line("markers", "needs_public_data: reads ../shared/data (training, evaluation)")


def pytest_generate_tests(metafunc):
    if "db_backend" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("sqlite_only"):  # what only the embedded default has
        metafunc.parametrize("db_backend", ["sqlite"])
    elif metafunc.definition.get_closest_marker("both_databases"):
        metafunc.parametrize("db_backend", ["sqlite", "postgres"])
    elif metafunc.definition.get_closest_marker("postgres"):
        metafunc.parametrize("db_backend", ["postgres"])


@pytest.fixture(autouse=True, scope="module")
def _let_finished_apps_go():
    """FastAPI classifies every endpoint and dependency once, in module-level caches of 4,096 entries that hold
    the callables, and through their closures whole apps with their runtimes: a dozen or more test apps stayed
    alive, every garbage-collector pass walked them (a heap of ~1,000,000 objects) and pytest took 20-30 s to
    exit. Emptying the caches after each test module lets them go. (Private names, hence the getattr.)"""
    yield
    from fastapi.dependencies import models

    for name in ("_is_gen_callable_cached", "_is_async_gen_callable_cached", "_is_coroutine_callable_cached"):
        cache = getattr(models, name, None)
        if cache is not None and hasattr(cache, "cache_clear"):
            cache.cache_clear()


# argon2id at a test's cost: one pass over 1 MiB on one lane instead of argon2-cffi's recommended three passes over
# 64 MiB on four (RFC 9106's low-memory profile). Each sign-in verifies a password: with the real cost that was
# 0.2 s of CPU (0.6 s wall with the machine busy), 64 of them in the route walk alone, a fifth of its CPU time.
CHEAP_ARGON2 = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


def use_password_hasher(hasher, dummy: str) -> tuple:
    """Hash, verify and decide on rehashing with `hasher` in this process (the server threads and TestClients
    the tests run), `dummy` being the hash verified for an unknown email; returns the pair it replaced."""
    from onevoice.auth import passwords

    before = (passwords._hasher, passwords._DUMMY)
    passwords._hasher, passwords._DUMMY = hasher, dummy
    return before


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing():
    """Every sign-in, password change and wrong-email check still runs argon2id through onevoice.auth.passwords
    (the same hash format, verification and rehash rule), at the cost above. Yields the production hasher and
    its dummy hash: tests/auth/conftest.py puts them back for the password tests, and tests/auth/test_auth.py
    checks the production parameters. Processes the tests start (serve, worker, the drill) hash at the real cost."""
    from argon2 import PasswordHasher

    cheap = PasswordHasher(**CHEAP_ARGON2)
    production = use_password_hasher(cheap, cheap.hash("onevoice-timing-equaliser"))
    yield production
    use_password_hasher(*production)


@pytest.fixture(autouse=True)
def _no_bluesky_session_from_another_test():
    """Bluesky sessions are cached per process (connectors/bluesky/client.py); one exported under a test's fixed
    clock would look expired to the next test and send it to refresh against an unmocked server."""
    from onevoice.connectors.bluesky import client

    client.SESSIONS.clear()
    yield
    client.SESSIONS.clear()


@pytest.fixture(autouse=True)
def _strict_outbound_policy():
    """Each test starts with the outbound guard's default policy (a test may have exempted loopback)."""
    from onevoice import egress

    egress.configure()
    yield
    egress.configure()


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("template") / "onevoice.db"
    upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def pg_database():
    """A fresh PostgreSQL database for this test session, migrated once."""
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means the server is not there
        _unavailable("PostgreSQL", str(exc).splitlines()[0])
    name = f"onevoice_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    if url in _PG_ENGINES:
        _PG_ENGINES.pop(url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


_PG_ENGINES: dict = {}


def _empty_pg(url: str) -> None:
    """Every table of the session's database empty and every sequence back at its start, as TRUNCATE ... RESTART
    IDENTITY CASCADE leaves them, but by DELETE: a test writes a few rows to a handful of tables, while TRUNCATE
    makes new files for all ~55 tables every time (about a second per test on a busy machine; DELETE, ~0.1 s).

    The DELETEs run as a replica (a superuser's right: the test server's `postgres`), so that foreign keys need no
    order and the audit log's append-only trigger, which TRUNCATE never fires either, stays out of the way.
    Without that right it falls back to TRUNCATE."""
    if url not in _PG_ENGINES:
        _PG_ENGINES[url] = create_engine(url, pool_size=1)
    with _PG_ENGINES[url].begin() as conn:
        tables = [r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename != 'alembic_version'"))]
        if not tables:
            return
        if conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica; "
                                 + " ".join(f'DELETE FROM "{t}";' for t in tables))
            conn.execute(text("SELECT setval(format('%I.%I', schemaname, sequencename), start_value, false) "
                              "FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL"))
        else:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))


@pytest.fixture
def db_url(db_backend, tmp_path, sqlite_template, request) -> str:
    if db_backend == "postgres":
        url = request.getfixturevalue("pg_database")
        _empty_pg(url)
        return url
    path = tmp_path / "onevoice.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings(environment="test", data_dir=tmp_path, database_url=db_url, log_json=False,
                    requeue_after_seconds=1.0)


@pytest.fixture
def engine(settings):
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine):
    return make_sessionmaker(engine)


@pytest.fixture
def session(session_factory):
    with session_factory() as session:
        yield session
        session.rollback()


@pytest.fixture
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        _unavailable("Redis", str(exc))
    return REDIS_URL


@pytest.fixture
def drain(runtime):
    """Run the worker until nothing is left to process (deterministic, no background thread); for the test
    folders that define a `runtime`."""
    from onevoice.worker.runner import EmbeddedWorker

    worker = EmbeddedWorker(runtime.processor, runtime.session_factory, runtime.broker.publish)
    return lambda: worker.drain(timeout=60)
