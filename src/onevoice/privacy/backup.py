"""Backups an operator takes and restores: `onevoice backup` / `onevoice restore`.

SQLite: SQLite's online backup API copies the database page by page from one read transaction, so the copy is
one consistent moment even while the server goes on writing (WAL: the writer is never blocked), and it
includes what is still only in the WAL. The copy is checked (`PRAGMA integrity_check`, a schema revision) before
it is called done. Restoring copies a checked backup into a database that must not be in use (the server
stopped), through the same API.

The embedded default's intake journal (`<db>-intake`, pipeline/journal.py) holds webhook deliveries that were
acknowledged to the platform and not yet stored as messages: it is copied too, beside the backup
(`<backup>-intake`), and *before* the database. A delivery stored between the two copies is then in both; on
restore it is read again and intake's idempotency on (channel, external id) stores it once. Copied the other
way round it would be in neither.

PostgreSQL: pg_dump in its custom format and pg_restore, run as the operator would (docs/operations.md); this
module only builds their command lines from the database URL and runs them.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from onevoice.db import normalize_url
from onevoice.errors import InvalidInput
from onevoice.pipeline.journal import journal_path


@dataclass(frozen=True)
class BackupResult:
    path: str
    size: int
    revision: str | None
    tables: int


def sqlite_path(database_url: str) -> Path | None:
    url = make_url(normalize_url(database_url))
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise InvalidInput("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _check(conn: sqlite3.Connection, what: str) -> tuple[str | None, int]:
    status = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if status != "ok":
        raise InvalidInput(f"{what} is damaged: {status}")
    tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    try:
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        raise InvalidInput(f"{what} is not a OneVoice database (no schema revision)") from None
    return (revision[0] if revision else None), tables


def backup_sqlite(database_url: str, target: Path, overwrite: bool = False) -> BackupResult:
    source = sqlite_path(database_url)
    if source is None:
        raise InvalidInput("not a SQLite database")
    if not source.exists():
        raise InvalidInput(f"{source} does not exist")
    target = Path(target)
    if target.exists() and not overwrite:
        raise InvalidInput(f"{target} already exists (--force to replace it)")
    journal = Path(journal_path(database_url) or "")
    if journal.name and journal.is_file():
        _copy_journal(journal, target.with_name(target.name + "-intake"))
    revision, tables = _online_copy(source, target, lambda copy: _check(copy, "the copy"))
    return BackupResult(str(target), target.stat().st_size, revision, tables)


def _online_copy(source: Path, target: Path, check=None):
    """Copy a SQLite file the server may be writing to, through the online backup API, into `target.partial`,
    check it (`check(connection)`), then put it in place; returns what the check returned."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        # pages=-1: the whole file in one step, under one read transaction (a consistent snapshot);
        # smaller steps would restart each time the server writes and might never finish under load.
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        result = check(dst) if check else None
    finally:
        dst.close()
        src.close()
    os.replace(partial, target)
    return result


def _copy_journal(source: Path, target: Path) -> None:
    # A WAL left beside an older journal at the target belongs to that file, not to this copy.
    for leftover in ("-wal", "-shm"):
        target.with_name(target.name + leftover).unlink(missing_ok=True)
    _online_copy(source, target)


def restore_sqlite(backup: Path, database_url: str, overwrite: bool = False) -> BackupResult:
    target = sqlite_path(database_url)
    if target is None:
        raise InvalidInput("not a SQLite database")
    backup = Path(backup)
    if not backup.is_file():
        raise InvalidInput(f"{backup} is not a file")
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        revision, tables = _check(src, str(backup))
    except sqlite3.DatabaseError as exc:
        src.close()
        raise InvalidInput(f"{backup} is not a SQLite database: {exc}") from None
    if target.exists() and target.stat().st_size and not overwrite:
        src.close()
        raise InvalidInput(f"{target} already holds a database (stop the server, then --force to replace it)")
    target.parent.mkdir(parents=True, exist_ok=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=WAL")
    finally:
        dst.close()
        src.close()
    saved_journal = backup.with_name(backup.name + "-intake")
    if saved_journal.is_file():
        _copy_journal(saved_journal, Path(journal_path(database_url)))
    return BackupResult(str(target), target.stat().st_size, revision, tables)


# PostgreSQL ------------------------------------------------------------------------------------------------

def libpq_url(database_url: str) -> str:
    """The URL pg_dump understands (no SQLAlchemy driver suffix)."""
    url = make_url(normalize_url(database_url))
    if url.get_backend_name() != "postgresql":
        raise InvalidInput("not a PostgreSQL database")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def pg_dump_command(database_url: str, target: Path) -> list[str]:
    return ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}",
            f"--dbname={libpq_url(database_url)}"]


def pg_restore_command(backup: Path, database_url: str) -> list[str]:
    return ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
            f"--dbname={libpq_url(database_url)}", str(backup)]


def _run(cmd: list[str]) -> None:
    if shutil.which(cmd[0]) is None:
        raise InvalidInput(f"{cmd[0]} is not installed (Debian: apt-get install postgresql-client); "
                           "docs/operations.md, Backups, has the commands")
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        # Never echo the URL: it may carry the password.
        raise InvalidInput(f"{cmd[0]} failed: {done.stderr.strip()[-2000:]}")


def backup_postgres(database_url: str, target: Path, overwrite: bool = False) -> BackupResult:
    target = Path(target)
    if target.exists() and not overwrite:
        raise InvalidInput(f"{target} already exists (--force to replace it)")
    _run(pg_dump_command(database_url, target))
    return BackupResult(str(target), target.stat().st_size, None, 0)


def restore_postgres(backup: Path, database_url: str) -> BackupResult:
    if not Path(backup).is_file():
        raise InvalidInput(f"{backup} is not a file")
    _run(pg_restore_command(Path(backup), database_url))
    return BackupResult(str(backup), Path(backup).stat().st_size, None, 0)


def backup(database_url: str, target: Path, overwrite: bool = False) -> BackupResult:
    if sqlite_path(database_url) is not None:
        return backup_sqlite(database_url, target, overwrite)
    return backup_postgres(database_url, target, overwrite)


def restore(backup_file: Path, database_url: str, overwrite: bool = False) -> BackupResult:
    if sqlite_path(database_url) is not None:
        return restore_sqlite(backup_file, database_url, overwrite)
    return restore_postgres(backup_file, database_url)
