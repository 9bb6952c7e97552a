"""`onevoice user ...`: people who sign in to the pages."""

from __future__ import annotations

from typing import Annotated

import typer

from onevoice.auth.principal import Principal
from onevoice.cli.common import DbOpt, _os_user, session_scope, settings_for

app = typer.Typer(help="Users who sign in to the pages.", no_args_is_help=True)


def operator():
    """Who acts from the command line: an admin named after the login name (`cli:<name>` in the audit log)."""
    label = f"cli:{_os_user()}"
    return Principal(user_id=None, email=label, name=label, role="admin")


@app.command("create")
def create(email: str,
           name: Annotated[str | None, typer.Option(help="display name (default: from the email)")] = None,
           team: Annotated[list[str] | None, typer.Option("--team", help="team key, repeatable")] = None,
           role: Annotated[str, typer.Option(help="admin, coordinator, manager, responder, contributor, "
                                                  "viewer or partner")] = "responder",
           password: Annotated[str | None, typer.Option(help="asked for when not given")] = None,
           database_url: DbOpt = None):
    """Create a user; asks for the password when --password is not given."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.auth.users import create_user

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with session_scope(settings_for(database_url)) as session:
        user = create_user(session, email, name or "", password, role, team or [])
        typer.echo(f"user {user.email} ({user.role}) created in {', '.join(team or []) or 'no team'}")


@app.command("list")
def list_(database_url: DbOpt = None):
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.auth.users import every_user, principal_for

    with session_scope(settings_for(database_url)) as session:
        for user in every_user(session):
            p = principal_for(session, user)
            state = "active" if user.active else "disabled"
            typer.echo(f"{user.email}\t{user.name}\t{user.role}\t{','.join(p.team_keys)}\t{state}")


@app.command("reset-password")
def reset_password(email: str,
                   password: Annotated[str | None, typer.Option(help="asked for when not given")] = None,
                   database_url: DbOpt = None):
    """Set a new password for a user and sign them out everywhere."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.governance.people import reset_password as reset

    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with session_scope(settings_for(database_url)) as session:
        user = reset(session, operator(), email, password)
        typer.echo(f"password of {user.email} reset; their sessions were signed out")


@app.command("deactivate")
def deactivate(email: str, database_url: DbOpt = None):
    """Remove a user's access at once: sign-in sessions revoked, their API tokens refused."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.governance.people import set_active

    with session_scope(settings_for(database_url)) as session:
        set_active(session, operator(), email, False)
    typer.echo(f"{email} deactivated")


@app.command("activate")
def activate(email: str, database_url: DbOpt = None):
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.governance.people import set_active

    with session_scope(settings_for(database_url)) as session:
        set_active(session, operator(), email, True)
    typer.echo(f"{email} activated")
