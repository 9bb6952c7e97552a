"""Declarative base, engine and session factory shared by every feature."""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path

import orjson
from sqlalchemy import JSON, DateTime, MetaData, create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timestamps are stored as UTC and always come back timezone-aware, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict: JSON, list: JSON}


def utcnow() -> datetime:
    return datetime.now(UTC)


def normalize_url(url: str) -> str:
    """Accept the URLs people type (postgresql://, postgres://) and pick the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class EncodedJSON(str):
    """A JSON column's value encoded beforehand (json_dumps passes it through as it is): the processor's
    look-ahead encodes each message's triage document before the write transaction, out of SQLite's only write
    lock, instead of under it (bench/README.md, round 10)."""


def encode_json(value) -> EncodedJSON:
    return EncodedJSON(json_dumps(value))


def json_dumps(value) -> str:
    """JSON columns' encoder: orjson (several times faster on the processing hot path).

    Falls back to the standard library for what orjson refuses (integers beyond 64 bits in a
    platform's raw payload, non-string keys), so anything storable before is storable now. One
    difference: NaN and Infinity become null (they are not JSON; PostgreSQL refused them anyway).
    A value already encoded (EncodedJSON) is given back as the plain string it is.
    """
    if value.__class__ is EncodedJSON:
        return str(value)
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def make_engine(url: str, **kwargs) -> Engine:
    url = normalize_url(url)
    # Reading stays with the standard library: orjson turns integers beyond 64 bits into floats.
    kwargs.setdefault("json_serializer", json_dumps)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # SQLite's default deferred transactions let two writers read the same row and then
        # collide; BEGIN IMMEDIATE takes the write lock up front so the busy timeout applies.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


# How long a write transaction waits for SQLite's write lock (the connections' busy timeout), and how often it
# tries again meanwhile (_sqlite_begin).
BUSY_SECONDS = 30.0
WRITE_LOCK_POLL = 0.001


# One thread of a process at a time tries again every WRITE_LOCK_POLL seconds, per database file; the others wait
# their turn on that file's lock, asleep. Fifty threads each trying every millisecond kept 1.5 cores busy while one
# transaction held SQLite's lock (bench/README.md, issue 14, round 7: the holder itself among those starved). Per
# file, so that a process with two databases open (tests, a restore) never makes one's writers wait on the other's.
_POLLERS: dict[str | None, threading.Lock] = {}
_POLLERS_GUARD = threading.Lock()


def _poller(database: str | None) -> threading.Lock:
    lock = _POLLERS.get(database)
    if lock is None:
        with _POLLERS_GUARD:
            lock = _POLLERS.setdefault(database, threading.Lock())
    return lock


# Execution option of a write transaction that runs without SQLite's foreign-key checks (`keys_unchecked`).
KEYS_UNCHECKED = "onevoice_keys_unchecked"


def keys_unchecked(session: Session) -> None:
    """Begin `session`'s write transaction with SQLite's foreign-key checks off; elsewhere (PostgreSQL) as usual.

    For a writer whose every key written was read or assigned in that same transaction, while it holds SQLite's
    only write lock, so that nobody can have deleted what it points at (the pipeline's processor). The checks
    were ~45 us of a processed message's SQLite work (a parent lookup per key: the processed update, its
    decision, its events), about a tenth of the server's CPU per message on the batched API (bench/README.md,
    issue 14, round 9). PostgreSQL, where the suite also runs, keeps checking every statement."""
    session.connection(execution_options={KEYS_UNCHECKED: True})


def _sqlite_foreign_keys(conn, on: bool) -> None:
    # A no-op inside a transaction, so set before BEGIN; and only when it changes: the pool hands one connection
    # to every kind of session, and each write transaction other than a `keys_unchecked` one checks keys.
    record = conn.connection
    if record.info.get("foreign_keys", True) != on:
        record.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
        record.info["foreign_keys"] = on


def _sqlite_begin(conn) -> None:
    options = conn.get_execution_options()
    if options.get("readonly"):
        conn.exec_driver_sql("BEGIN")
        return
    _sqlite_foreign_keys(conn, not options.get(KEYS_UNCHECKED, False))
    # SQLite's own busy handler sleeps 1, 2, 5, 10 ... 100 ms between tries without knowing when the lock is
    # released, so a waiter could sleep on through the whole gap between two of the holder's transactions: with
    # the worker writing batch after batch, the batched API's inserts waited 0.27 s each on average and up to
    # 3.5 s for a lock that was free between batches (bench/README.md, issue 14, round 7). Tried every
    # WRITE_LOCK_POLL seconds instead, a waiter takes the lock within a millisecond of its release; a try that
    # fails costs a few microseconds.
    driver = conn.connection.driver_connection
    driver.execute("PRAGMA busy_timeout=0")
    try:
        state = _try_begin(driver)
        if state == "busy":
            deadline = time.monotonic() + BUSY_SECONDS
            poller = _poller(conn.engine.url.database)
            if poller.acquire(timeout=BUSY_SECONDS):
                try:
                    while state == "busy" and time.monotonic() < deadline:
                        time.sleep(WRITE_LOCK_POLL)
                        state = _try_begin(driver)
                finally:
                    poller.release()
        if state != "begun":  # once more, through SQLAlchemy: its error (locked, or whatever else it was)
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        driver.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")


def _try_begin(driver) -> str:
    """BEGIN IMMEDIATE once: "begun" (this connection holds the write lock), "busy" (another one does), or
    "failed" (another error, raised again by the caller through SQLAlchemy)."""
    try:
        driver.execute("BEGIN IMMEDIATE")
        return "begun"
    except sqlite3.OperationalError as exc:
        return "busy" if exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY else "failed"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # The pysqlite driver opens transactions itself; we issue BEGIN IMMEDIATE in the begin hook.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")
    cur.execute("PRAGMA cache_size=-64000")
    try:  # SQLite's math functions are a build option: the reports count advocates with log10 (reach)
        cur.execute("SELECT log10(1)")
    except sqlite3.OperationalError:
        dbapi_conn.create_function("log10", 1, lambda x: math.log10(x) if x and x > 0 else None, deterministic=True)
    cur.close()


def make_sessionmaker(engine: Engine, readonly: bool = False, info: dict | None = None) -> sessionmaker[Session]:
    """Sessions for writing, or (readonly=True) for pages and lists that only read.

    On SQLite a read-only session begins a deferred transaction so it never waits for the writer.
    `info` starts every session's `info` (the audit log's key and checkpoint file travel that way).
    """
    bind = engine.execution_options(readonly=True) if readonly else engine
    return sessionmaker(bind, expire_on_commit=False, info=dict(info or {}))


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def ping(engine: Engine) -> None:
    """Raise unless the database answers a trivial query (the readiness check)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


_local_locks: dict[str, threading.Lock] = {}
_local_guard = threading.Lock()


def lock_key(name: str) -> int:
    """A PostgreSQL advisory lock key (signed 64 bits) for a job's name."""
    return int.from_bytes(hashlib.sha256(f"onevoice:{name}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[bool]:
    """Whether this caller holds the lock `name` for the block (never waits: False when someone else does).

    For a job every node's scheduler starts (retention) that must not run twice at once. On PostgreSQL,
    shared by all the nodes: a session-level advisory lock on a connection of its own, held for the whole
    block across the job's own transactions, and released by PostgreSQL if the node dies (its connection
    closes). On a SQLite file (one machine): an exclusive `flock` on a file beside the database, which the
    kernel releases if the process dies, so `onevoice serve` and a `onevoice ... run` command exclude each
    other too; an in-memory database has only this process.
    """
    if engine.dialect.name == "postgresql":
        key = lock_key(name)
        conn = engine.connect()
        held = False
        try:
            held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
            conn.commit()
            yield held
        finally:
            try:
                if held:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
            except Exception:  # the connection is gone, and the lock with it: never pool it again
                conn.invalidate()
            conn.close()
        return
    path = engine.url.database
    if path and path != ":memory:":
        fd = os.open(f"{path}-{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        return
    with _local_guard:
        lock = _local_locks.setdefault(f"{engine.url}:{name}", threading.Lock())
    if not lock.acquire(blocking=False):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


# --- many rows, straight to the driver (pipeline/rows.py, reports/repository.py) ------------------------
def chunks(items: list, size: int = 400):
    """Keep IN lists well under every driver's bound-parameter limit."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


# (name, columns given) -> (SQL, [(row key or None, bind processor, processed constant)]); see executemany.
_PLANS: dict[tuple[str, tuple[str, ...]], tuple[str, list[tuple[str | None, object, object]], list, list[bool]]] = {}


def executemany(session: Session, name: str, stmt, rows: list[dict], shared_times: bool = True) -> None:
    """Execute `stmt` once per row. On SQLite the statement is compiled once per `name` and its rows go straight
    to the DB-API cursor as tuples, each value through its column type's own bind processor (the same text,
    dates and JSON SQLAlchemy would send): SQLAlchemy's per-row parameter handling for an executemany cost
    ~15 % of the worker. Elsewhere (PostgreSQL) it is `session.execute(stmt, rows)`.

    The plan is cached by `name`, so a statement given under one name must be the same at every call: what
    changes from call to call (the batch's time, say) goes in the rows as a bind parameter, never as a literal.
    A column left out that has a Python-side default gets it as SQLAlchemy gives it: a constant, or the
    default's function called once per row; a default that reads the execution context (or a sequence, or a
    SQL expression) makes the statement fall back to `session.execute`. All rows have the same keys.
    `shared_times`: the rows share their datetime objects (a batch's time), converted once each; False where
    each row has its own (the reports' facts rows: remembering every one cost as much as converting it)."""
    if not rows:
        return
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        session.execute(stmt, rows)
        return
    keys = tuple(rows[0])
    plan = _PLANS.get((name, keys))
    if plan is None:
        plan = _PLANS[(name, keys)] = _plan(stmt, bind.dialect, keys)
    sql, fields, defaults = plan[:3]
    if not fields:  # a statement this does not handle: SQLAlchemy's way
        session.execute(stmt, rows)
        return
    if defaults:  # Python-side defaults computed per row, as SQLAlchemy's executemany calls them
        rows = [{**row, **{name: fn() for name, fn in defaults}} for row in rows]
    # A batch's rows mostly carry the very same datetime object (the batch's time): processed once per call.
    fields = [(key, _same_object_once(proc), const) if shared_times and timed and key is not None and proc is not None
              else (key, proc, const) for (key, proc, const), timed in zip(fields, plan[3], strict=True)]
    params = _params(fields, rows)
    # session.connection() first: it begins the session's transaction (BEGIN IMMEDIATE on SQLite, db.py).
    session.connection().connection.driver_connection.executemany(sql, params)


def _params(fields: list[tuple[str | None, object, object]], rows: list[dict]) -> list:
    """Each row's values in the statement's order, each through its bind processor. Where every value comes
    from the row, they are taken by one itemgetter (in C) and only the processed ones are replaced: a facts
    row has ~50 columns and 5 with a processor (its times); inserting a catch-up pass's 6,358 new facts rows
    took ~5 % less (bench/README.md, upkeep round 6)."""
    if len(fields) < 2 or any(key is None for key, _, _ in fields):
        return [tuple([const if key is None else (row[key] if proc is None else proc(row[key]))
                       for key, proc, const in fields]) for row in rows]
    values = map(itemgetter(*[key for key, _, _ in fields]), rows)
    procs = [(i, proc) for i, (_, proc, _) in enumerate(fields) if proc is not None]
    if not procs:
        return list(values)
    out = []
    for row in values:
        row = list(row)
        for i, proc in procs:
            row[i] = proc(row[i])
        out.append(row)
    return out


def _sqlite_utc(chain):
    """UTCDateTime's bind processor on SQLite in one step (to UTC, then SQLite's text, as the chain of
    processors gives it): two processors and their calls were a third of writing a row with five times.
    Anything but a datetime goes through the chain (tests/pipeline/test_rows.py compares the two)."""
    def process(value):
        if value.__class__ is not datetime:
            return chain(value)
        if value.tzinfo is not None and value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        return _SQLITE_DATETIME % (value.year, value.month, value.day, value.hour, value.minute, value.second,
                                   value.microsecond)
    return process


_SQLITE_DATETIME = "%04d-%02d-%02d %02d:%02d:%02d.%06d"  # sqlalchemy.dialects.sqlite.DATETIME's storage format


def _same_object_once(proc):
    """`proc`, computed once per object (by identity, the object kept alive meanwhile): exact for any value."""
    done: dict[int, tuple[object, object]] = {}

    def process(value):
        hit = done.get(id(value))
        if hit is None:
            hit = done[id(value)] = (value, proc(value))
        return hit[1]
    return process


def _plan(stmt, dialect, keys: tuple[str, ...]) -> tuple[str, list, list, list[bool]]:
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
    # Postfetch columns (a SQL expression such as message_count + ?, a server default) are computed by the
    # database and nothing is read back here, so they need nothing from us.
    if not compiled.positional or compiled.literal_execute_params or compiled.post_compile_params:
        return compiled.string, [], [], []
    prefetch = {c.key: c.default for c in compiled.insert_prefetch}
    prefetch.update({c.key: c.onupdate for c in compiled.update_prefetch})
    processors = compiled._bind_processors
    fields: list[tuple[str | None, object, object]] = []
    defaults: list[tuple[str, object]] = []
    for name in compiled.positiontup:
        proc = processors.get(name)
        if proc is not None and dialect.name == "sqlite" and isinstance(compiled.binds[name].type, UTCDateTime):
            proc = _sqlite_utc(proc)
        if name in keys:
            fields.append((name, proc, None))
        elif name in prefetch:  # a column left to its Python-side default
            default = prefetch[name]
            if default is None or not (default.is_scalar or default.is_callable):
                return compiled.string, [], [], []
            if default.is_scalar:
                fields.append((None, None, proc(default.arg) if proc is not None else default.arg))
            elif default.arg is default._fn:  # the function reads the execution context: SQLAlchemy's way
                return compiled.string, [], [], []
            else:
                defaults.append((name, default._fn))
                fields.append((name, proc, None))
        else:  # a constant of the statement (status='processed', say)
            value = compiled.binds[name].effective_value
            fields.append((None, None, proc(value) if proc is not None else value))
    timed = [isinstance(compiled.binds[name].type, DateTime | UTCDateTime) for name in compiled.positiontup]
    return compiled.string, fields, defaults, timed


# --- many rows read, straight from the driver (reports/repository.py) ------------------------------------
# id(statement) -> (the statement, kept alive; SQL; [(bind name, bind processor, expanding, the statement's own
# value)]; [(column index, result processor)]; column names); see select_rows.
_READS: dict[int, tuple] = {}


def select_rows(session: Session, stmt, params: dict | None = None) -> tuple[list[str], list]:
    """(the column names, every row) of a select built once (the caller keeps it: the plan is cached by the
    statement's identity). On SQLite the statement is compiled once and its rows come from the DB-API cursor,
    each value through its column type's own result processor, UTC times parsed in one step (`_utc_time`, what
    UTCDateTime's two processors give); a list parameter (`:ids`, expanding) becomes one `?` per item.
    SQLAlchemy's result handling (its chain of processors, a `Row` per row) and its expansion of a list of 10,000
    ids into bind names were a measurable part of a catch-up upkeep pass (reading its cases and stored facts took
    a third less CPU this way, bench/README.md). Elsewhere
    (PostgreSQL) it is `connection.execute`. Rows are tuples, or lists where a value was converted: read them
    by position."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        result = conn.execute(stmt, params)
        return list(result.keys()), result.all()
    plan = _READS.get(id(stmt))
    if plan is None or plan[0] is not stmt:
        plan = _READS[id(stmt)] = _read_plan(stmt, conn.dialect)
    _, sql, binds, converts, names = plan
    params = params or {}
    values: list = []
    for name, proc, expanding, own in binds:
        value = params.get(name, own)
        if expanding:
            items = list(value)
            # SQLAlchemy's own rendering of an empty list: a select that matches nothing.
            sql = sql.replace(f"__[POSTCOMPILE_{name}]", ", ".join("?" * len(items)) if items else
                              "SELECT 1 FROM (SELECT 1) WHERE 1!=1")
            values.extend(items if proc is None else map(proc, items))
        else:
            values.append(value if proc is None or value is None else proc(value))
    rows = conn.connection.driver_connection.execute(sql, values).fetchall()
    if converts:
        for i, row in enumerate(rows):
            row = rows[i] = list(row)
            for index, proc in converts:
                if row[index] is not None:
                    row[index] = proc(row[index])
    return names, rows


def _read_plan(stmt, dialect) -> tuple:
    compiled = stmt.compile(dialect=dialect)
    if not compiled.positional:
        raise ValueError("select_rows needs a positional paramstyle")
    binds = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        proc = compiled._bind_processors.get(name)
        if proc is not None and isinstance(bind.type, UTCDateTime):
            proc = _sqlite_utc(proc)
        binds.append((name, proc, bool(bind.expanding), bind.effective_value if bind.value is not None else None))
    converts = []
    for index, column in enumerate(compiled._result_columns):
        kind = column[3]
        if isinstance(kind, UTCDateTime):
            converts.append((index, _utc_time))
        elif (proc := kind._cached_result_processor(dialect, None)) is not None:
            converts.append((index, proc))
    return stmt, compiled.string, binds, converts, [column[0] for column in compiled._result_columns]


def _utc_time(value):
    """UTCDateTime's result on SQLite in one step: SQLite's DATETIME processor (`fromisoformat`), then UTC
    where the text has no offset. The text SQLAlchemy stores (`_SQLITE_DATETIME`) is read as UTC in one parse:
    `replace(tzinfo=)` after it cost five times the parse."""
    if value.__class__ is not str:
        return value
    if len(value) == 26:  # the stored format's length: a date alone cannot be, the only text read as naive
        # A text with an offset of its own fails with a second one: it is read below. (Checking the fraction's
        # digits first cost as much as the parse, ~0.6 -> 0.4 us a time, 120,000 times a catch-up pass.)
        try:
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:
            pass
    at = datetime.fromisoformat(value)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


read_utc_time = _utc_time  # for a reader that takes a time as text and parses it itself (reports.processed)
