"""`onevoice keys rotate`: re-encrypt channel credentials under a new ONEVOICE_SECRET_KEY."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from onevoice.cli.common import DbOpt, session_scope, settings_for

app = typer.Typer(help="The secret key that encrypts channel credentials.", no_args_is_help=True)


@app.command("rotate")
def rotate(old_key: Annotated[str | None, typer.Option("--old-key", envvar="ONEVOICE_OLD_SECRET_KEY",
                                                       help="the current key (asked for when not given)")] = None,
           new_key: Annotated[str | None, typer.Option("--new-key", envvar="ONEVOICE_NEW_SECRET_KEY",
                                                       help="the new key (asked for when not given)")] = None,
           database_url: DbOpt = None):
    """Re-encrypt every channel's secrets under the new key, in one transaction; then set
    ONEVOICE_SECRET_KEY to the new key everywhere and restart (sign-in cookies are signed with it too)."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.governance.keys import rotate_channel_key

    if old_key is None:
        old_key = typer.prompt("Current secret key", hide_input=True)
    if new_key is None:
        new_key = typer.prompt("New secret key", hide_input=True, confirmation_prompt=True)
    with session_scope(settings_for(database_url)) as session:
        count = rotate_channel_key(session, f"cli:{getpass.getuser()}", old_key, new_key)
    typer.echo(f"re-encrypted the secrets of {count} channel(s); now set ONEVOICE_SECRET_KEY to the new key "
               "on every node and restart")
