"""Options every command shares, and how a command gets its settings and database."""

from __future__ import annotations

import getpass
from contextlib import contextmanager
from typing import Annotated

import typer

from onevoice.errors import DomainError
from onevoice.settings import Settings

DbOpt = Annotated[str | None, typer.Option("--database-url", envvar="ONEVOICE_DATABASE_URL",
                                           help="SQLAlchemy URL (default: SQLite under the data directory)")]
RedisOpt = Annotated[str | None, typer.Option("--redis-url", envvar="ONEVOICE_REDIS_URL",
                                              help="Redis URL: enables the scale-out queue")]


def settings_for(database_url: str | None = None, redis_url: str | None = None, **extra) -> Settings:
    overrides = {k: v for k, v in {"database_url": database_url, "redis_url": redis_url, **extra}.items()
                 if v is not None}
    settings = Settings(**overrides)
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.runtime import configure_egress

    configure_egress(settings)  # `channel test` and friends fetch under the operator's outbound policy
    return settings


@contextmanager
def session_scope(settings: Settings):
    """One unit of work for a command; domain errors become a clear message and exit code 1."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.audit.anchor import anchor_from_settings, session_info
    from onevoice.db import make_engine, make_sessionmaker
    from onevoice.migrate import ensure_schema

    try:
        info = session_info(anchor_from_settings(settings))
        ensure_schema(settings.database_url, settings.secret_key.get_secret_value())
    except DomainError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine, info=info)
    # What operators change from the command line (channels, tokens, users) is audited like the pages.
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.audit.actor import bind_actor
    from onevoice.governance.hooks import install

    install(factory)
    session = factory()
    bind_actor(session, f"cli:{_os_user()}")
    try:
        yield session
        session.commit()
    except (DomainError, ValueError, LookupError) as exc:
        session.rollback()
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        engine.dispose()


@contextmanager
def factories(settings: Settings):
    """(write, read-only) session factories for a command that runs several units of work itself (an erasure
    that looks first, retention's batches); domain errors become a clear message and exit code 1."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.audit.anchor import anchor_from_settings, session_info
    from onevoice.db import make_engine, make_sessionmaker
    from onevoice.governance.hooks import install
    from onevoice.migrate import ensure_schema

    try:
        info = session_info(anchor_from_settings(settings))
        ensure_schema(settings.database_url)
    except DomainError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    engine = make_engine(settings.database_url)
    write = make_sessionmaker(engine, info=info)
    install(write)
    try:
        yield write, make_sessionmaker(engine, readonly=True, info=info)
    except DomainError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (some containers)
        return "unknown"


def parse_pairs(pairs: list[str] | None, what: str = "--config") -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{what} takes key=value, got {pair!r}")
        out[key.strip()] = value
    return out
