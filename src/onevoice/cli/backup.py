"""`onevoice backup FILE` and `onevoice restore FILE`: SQLite online backups, PostgreSQL through pg_dump."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from onevoice.cli.common import DbOpt, settings_for
from onevoice.errors import DomainError

Force = Annotated[bool, typer.Option("--force", help="replace an existing file / database")]


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    @app.command("backup")
    def backup_cmd(target: Path, database_url: DbOpt = None, force: Force = False):
        """Copy the database to TARGET while the server runs (SQLite: online backup API; PostgreSQL: pg_dump)."""
        # heavy (SQLAlchemy, the services): loaded only by the command that runs
        from onevoice.privacy.backup import backup

        try:
            r = backup(settings_for(database_url).database_url, target, force)
        except DomainError as exc:
            _fail(exc)
        detail = f", schema {r.revision}, {r.tables} tables" if r.revision else ""
        typer.echo(f"backup written to {r.path} ({r.size} bytes{detail})")

    @app.command("restore")
    def restore_cmd(source: Path, database_url: DbOpt = None, force: Force = False):
        """Restore a backup into the database (stop the server first). Then `onevoice db upgrade`."""
        # heavy (SQLAlchemy, the services): loaded only by the command that runs
        from onevoice.privacy.backup import restore

        try:
            r = restore(source, settings_for(database_url).database_url, force)
        except DomainError as exc:
            _fail(exc)
        typer.echo(f"restored {source} into the database"
                   + (f" (schema {r.revision}); run `onevoice db upgrade` if it is older" if r.revision else ""))
