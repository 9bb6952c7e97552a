"""Apply the schema migrations (`onevoice db upgrade`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from onevoice.db import normalize_url
from onevoice.errors import DomainError


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", normalize_url(database_url).replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "heads", secret_key: str | None = None) -> None:
    """Migrate to `revision`; `secret_key` (ONEVOICE_SECRET_KEY) lets data migrations re-encrypt secrets (0019)."""
    cfg = alembic_config(database_url)
    if secret_key:
        cfg.attributes["secret_key"] = secret_key
    command.upgrade(cfg, revision)


def current(database_url: str) -> None:
    command.current(alembic_config(database_url), verbose=False)


def pending(database_url: str) -> tuple[set[str], set[str]]:
    """(the revisions the database is at, the heads the code expects): equal when the schema is current."""
    engine = create_engine(normalize_url(database_url))
    try:
        with engine.connect() as conn:
            at = set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
    return at, set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())


def ensure_schema(database_url: str, secret_key: str | None = None) -> None:
    """Before a command touches the database: the embedded SQLite default sets itself up (as `serve` does);
    any other database is migrated by its operator, so a schema behind the code is a clear error, not a
    traceback about a missing table halfway through the command."""
    if database_url.startswith("sqlite"):
        upgrade(database_url, secret_key=secret_key)
        return
    at, heads = pending(database_url)
    if at != heads:
        now = f"is at {', '.join(sorted(at))}" if at else "has no OneVoice schema yet"
        raise DomainError(f"the database {now}; this OneVoice needs {', '.join(sorted(heads))}: "
                          "run `onevoice db upgrade` first")
