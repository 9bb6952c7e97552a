"""`onevoice contact find | export | erase`: a person's rights of access and erasure, from the command line."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from onevoice.cli.common import DbOpt, factories, session_scope, settings_for
from onevoice.cli.user import operator

app = typer.Typer(help="Contacts: find one, export everything held about them, erase them.", no_args_is_help=True)
RefOpt = Annotated[str, typer.Option("--reference", help="the request's own number (a ticket), never the person's "
                                                         "name: it is kept in the audit log")]


@app.command("find")
def find(query: str, database_url: DbOpt = None):
    """Contacts whose name, handle or platform id contains QUERY (or whose id it is)."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.privacy.erasure import find_contacts

    with session_scope(settings_for(database_url)) as session:
        for c in find_contacts(session, operator(), query):
            ids = ", ".join(dict.fromkeys(i["external_id"] for i in c["identities"]))  # one id on several channels
            state = f"erased {c['erased_at']:%Y-%m-%d}" if c["erased_at"] else f"{c['message_count']} message(s)"
            typer.echo(f"{c['id']}\t{c['name'] or ''}\t{c['handle'] or ''}\t{ids}\t{state}")


@app.command("export")
def export(contact_id: int, reference: RefOpt = "", database_url: DbOpt = None,
           output: Annotated[Path | None, typer.Option("-o", "--output", help="file (default: stdout)")] = None):
    """Everything held about a contact as one JSON document (recorded as an access request, audited)."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.db import unit_of_work
    from onevoice.privacy.access import export as export_contact
    from onevoice.privacy.erasure import store_received

    settings = settings_for(database_url)
    with factories(settings) as (write, _read):
        with _intake(settings, write) as (journal, step):
            waiting = store_received(journal, step)
        with unit_of_work(write) as session:
            doc = export_contact(session, operator(), contact_id, reference, waiting=waiting)
    text = json.dumps(doc, ensure_ascii=False, indent=2, default=str)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {output}: {len(doc['messages'])} message(s), {len(doc['cases'])} case(s)", err=True)


@app.command("erase")
def erase(contact_id: int, reference: RefOpt = "", database_url: DbOpt = None,
          yes: Annotated[bool, typer.Option("--yes", help="do it (without: show what would be erased)")] = False):
    """Erase a contact's personal data everywhere (docs/privacy.md). Without --yes, only counts what it would touch."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.privacy import erasure

    if not yes:
        with session_scope(settings_for(database_url)) as session:
            p = erasure.preview(session, operator(), contact_id)
            waiting = f" ({p['pending']} not processed yet)" if p["pending"] else ""
            typer.echo(f"contact {contact_id}: {p['messages']} message(s) written{waiting}, {p['cases']} case(s) "
                       f"({p['case_messages']} message(s) in them)")
            for where, n in sorted(p["elsewhere"].items()):
                typer.echo(f"  also mentioned in {where}: {n} row(s)")
            if p["audit_mentions"]:
                typer.echo(f"  {p['audit_mentions']} audit record(s) mention them (the audit log is never changed)")
            typer.echo("nothing changed: run again with --yes to erase")
            return
    settings = settings_for(database_url)
    with factories(settings) as (write, read), _intake(settings, write) as (journal, step):
        result = erasure.erase_contact(write, read, operator(), contact_id, reference, journal=journal, ingest=step)
    typer.echo(f"erased contact {contact_id} (request {result['request_id']}): {result['messages']} message(s), "
               f"{result['cases']} case(s), {result['events']} history event(s), {result['identities']} identity(ies), "
               f"{result['elsewhere']} mention(s) elsewhere")


@contextmanager
def _intake(settings, write):
    """The server's intake journal, if its file is there, and the step that stores its deliveries as messages
    (what the server's worker does), closed after: an erasure or export from here must see what was received a
    moment ago. (None, None) without a journal."""
    # heavy (SQLAlchemy, the connectors): loaded only by the command that runs
    from onevoice.pipeline.ingest import ingest
    from onevoice.pipeline.journal import IntakeJournal, journal_path

    path = journal_path(settings.database_url)
    if path is None or not Path(path).is_file():
        yield None, None
        return
    journal = IntakeJournal(path)
    secret = settings.secret_key.get_secret_value()
    try:
        yield journal, lambda limit: ingest(journal, write, secret, settings.max_text_chars, limit)
    finally:
        journal.close()
