"""`onevoice audit verify | export`: check the audit log's hash chain; take a copy of it."""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from onevoice.cli.common import DbOpt, session_scope, settings_for

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date or time (use 2026-11-20 or 2026-11-20T09:00)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.command("verify")
def verify(database_url: DbOpt = None):
    """Walk the chain; exit 1 and name the first broken record when it has been tampered with."""
    from onevoice.governance.audit import verify as verify_chain

    with session_scope(settings_for(database_url)) as session:
        result = verify_chain(session)
    if result.ok:
        typer.echo(f"ok: {result.checked} record(s), chain intact; head {result.head_hash}")
        return
    typer.secho(f"BROKEN at record seq={result.broken_seq} (id {result.broken_id}): {result.reason}; "
                f"{result.checked} record(s) before it are intact", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.command("export")
def export(fmt: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
           since: Annotated[str | None, typer.Option(help="from this date/time (ISO 8601, UTC if no zone)")] = None,
           until: Annotated[str | None, typer.Option(help="before this date/time")] = None,
           action: Annotated[str | None, typer.Option(help="an action (channel.add) or a prefix (channel)")] = None,
           actor: Annotated[str | None, typer.Option(help="who acted (email, cli:..., scheduler)")] = None,
           output: Annotated[str | None, typer.Option("--output", "-o", help="file (default: stdout)")] = None,
           database_url: DbOpt = None):
    """Write the matching records, oldest first. The export itself is recorded in the log."""
    from onevoice.governance.audit import export_lines, record_export

    if fmt not in ("jsonl", "csv"):
        raise typer.BadParameter("--format is jsonl or csv")
    filters = {"since": _when(since), "until": _when(until), "action": action, "actor": actor}
    settings = settings_for(database_url)
    out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
    count = 0
    try:
        with session_scope(settings) as session:
            for line in export_lines(session, fmt, **filters):
                out.write(line)
                count += 1
    finally:
        if output:
            out.close()
    with session_scope(settings) as session:
        record_export(session, f"cli:{getpass.getuser()}", fmt, {k: str(v) for k, v in filters.items() if v})
    if output:
        typer.echo(f"wrote {count - (1 if fmt == 'csv' else 0)} record(s) to {output}", err=True)
