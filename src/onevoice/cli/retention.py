"""`onevoice retention list | set | remove | run | runs`: how long message content is kept."""

from __future__ import annotations

from typing import Annotated

import typer

from onevoice.cli.common import DbOpt, factories, session_scope, settings_for
from onevoice.cli.user import operator
from onevoice.errors import Conflict

app = typer.Typer(help="Retention of message content (text, payloads, attachments).", no_args_is_help=True)


@app.command("list")
def list_rules(database_url: DbOpt = None):
    """Every rule: channel, kind, days, action."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.privacy.retention import list_rules as rules

    with session_scope(settings_for(database_url)) as session:
        found = rules(session)
        for r in found:
            state = "" if r.enabled else "\tdisabled"
            typer.echo(f"{r.id}\t{r.channel or '*'}\t{r.kind or '*'}\t{r.days} days\t{r.action}{state}")
        if not found:
            typer.echo("no retention rule: message content is kept until a contact is erased")


@app.command("set")
def set_rule(days: int,
             channel: Annotated[str | None, typer.Option(help="channel key (default: every channel)")] = None,
             kind: Annotated[str | None, typer.Option(help="post, comment, mention, direct or review")] = None,
             action: Annotated[str, typer.Option(help="anonymize (keep the figures) or delete")] = "anonymize",
             disabled: Annotated[bool, typer.Option("--disabled", help="keep the rule but do not apply it")] = False,
             database_url: DbOpt = None):
    """Create or replace the rule for a channel / kind: content older than DAYS is anonymized or deleted."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.privacy.retention import set_rule as set_

    with session_scope(settings_for(database_url)) as session:
        r = set_(session, operator(), channel, kind, days, action, not disabled)
    typer.echo(f"rule {r.id}: {r.channel or 'every channel'}, {r.kind or 'every kind'}: "
               f"{r.action} after {r.days} days")


@app.command("remove")
def remove(rule_id: int, database_url: DbOpt = None):
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.privacy.retention import remove_rule

    with session_scope(settings_for(database_url)) as session:
        remove_rule(session, operator(), rule_id)
    typer.echo(f"rule {rule_id} removed")


@app.command("run")
def run(database_url: DbOpt = None):
    """Apply the rules now (the server does it every hour), in batches; prints what it did."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.privacy.retention import run as run_rules

    with factories(settings_for(database_url)) as (write, _read):
        try:
            r = run_rules(write, operator())
        except Conflict as exc:  # a run is under way (the server's hourly pass, another node's)
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
    typer.echo(f"run {r['id']}: {r['anonymized']} anonymized, {r['deleted']} deleted "
               f"({r['attachments']} with attachments, {r['raw_payloads']} with payloads), {r['rules']} rule(s)")


@app.command("runs")
def runs(database_url: DbOpt = None, limit: int = 20):
    """The latest runs: when, by whom, how many."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.privacy.retention import runs as latest

    with session_scope(settings_for(database_url)) as session:
        for r in latest(session, limit):
            typer.echo(f"{r.id}\t{r.started_at:%Y-%m-%d %H:%M}\t{r.actor}\tanonymized {r.anonymized}\t"
                       f"deleted {r.deleted}\tattachments {r.attachments}\tpayloads {r.raw_payloads}")
