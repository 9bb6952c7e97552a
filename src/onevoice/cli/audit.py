"""`onevoice audit verify | checkpoint | new-key | export`: check the audit log against its anchors outside
the database, write a checkpoint of its head, make an audit key, take a copy of the log."""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from onevoice.cli.common import DbOpt, session_scope, settings_for
from onevoice.errors import DomainError, InvalidInput

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
def verify(key_file: Annotated[list[Path] | None, typer.Option(
               "--key-file", help="a retired audit key too, to check the MACs made with it (repeatable)")] = None,
           checkpoints: Annotated[Path | None, typer.Option(
               help="the checkpoint file (default: ONEVOICE_AUDIT_CHECKPOINT_PATH, or audit-checkpoints.jsonl "
                    "in the data directory)")] = None,
           database_url: DbOpt = None):
    """Walk the chain, check each record's MAC under the audit key and every checkpoint; say what that proved.
    Exit 1 and name the first broken record when the log was tampered with."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.audit.anchor import read_key_file
    from onevoice.audit.log import verify as verify_chain

    settings = settings_for(database_url)
    with session_scope(settings) as session:
        extra = [read_key_file(path) for path in key_file or []]
        result = verify_chain(session, keys=extra, **({"checkpoint_path": checkpoints} if checkpoints else {}))
    for line in result.findings():
        typer.secho(line, fg=None if result.ok else typer.colors.RED, err=not result.ok)
    if not result.ok:
        raise typer.Exit(1)


@app.command("checkpoint")
def checkpoint(database_url: DbOpt = None):
    """Append the log's head (seq and hash, signed with the audit key) to the checkpoint file and the logs
    now; the scheduler does it every ONEVOICE_AUDIT_CHECKPOINT_MINUTES."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.audit.anchor import anchor_of, write_checkpoint
    with session_scope(settings_for(database_url)) as session:
        anchor = anchor_of(session)
        try:
            row = write_checkpoint(session, anchor)
        except OSError as exc:
            raise InvalidInput(f"cannot write the checkpoint file {anchor.checkpoint_path}: {exc}") from None
    if row is None:
        typer.echo(f"nothing to do: the log is empty or its head is already checkpointed in {anchor.checkpoint_path}")
        return
    typer.echo(f"checkpoint: record {row['seq']} hash {row['hash']} "
               f"({'signed with key ' + row['key_id'] if row['key_id'] else 'unsigned: no audit key'}) "
               f"appended to {anchor.checkpoint_path}")


@app.command("new-key")
def new_key(output: Annotated[Path, typer.Option("--output", "-o", help="the key file to create (never overwritten)")]):
    """Make a random audit key in a new file only its owner can read; point ONEVOICE_AUDIT_KEY_FILE at it on
    every node and restart (docs/security.md says how to rotate it)."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.audit.anchor import write_new_key
    try:
        key = write_new_key(output)
    except (DomainError, OSError) as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote a new audit key (id {key.id}) to {output}; set ONEVOICE_AUDIT_KEY_FILE={output}")


@app.command("export")
def export(fmt: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
           since: Annotated[str | None, typer.Option(help="from this date/time (ISO 8601, UTC if no zone)")] = None,
           until: Annotated[str | None, typer.Option(help="before this date/time")] = None,
           action: Annotated[str | None, typer.Option(help="an action (channel.add) or a prefix (channel)")] = None,
           actor: Annotated[str | None, typer.Option(help="who acted (email, cli:..., scheduler)")] = None,
           output: Annotated[str | None, typer.Option("--output", "-o", help="file (default: stdout)")] = None,
           database_url: DbOpt = None):
    """Write the matching records, oldest first. The export itself is recorded in the log."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.audit.log import export_lines, record_export

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
