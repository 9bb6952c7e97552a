"""The `onevoice` command: each command parses its input and calls one service."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from onevoice import __version__
from onevoice.cli import audit as audit_cli
from onevoice.cli import backup as backup_cli
from onevoice.cli import contact as contact_cli
from onevoice.cli import keys as keys_cli
from onevoice.cli import model as model_cli
from onevoice.cli import reports as reports_cli
from onevoice.cli import retention as retention_cli
from onevoice.cli import triage as triage_cli
from onevoice.cli import user as user_cli
from onevoice.cli.common import DbOpt, RedisOpt, parse_pairs, session_scope, settings_for
from onevoice.cli.user import operator

app = typer.Typer(help="OneVoice: every conversation in one place, answered with one voice.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
team_app = typer.Typer(help="Teams.", no_args_is_help=True)
channel_app = typer.Typer(help="Channels (the organization's accounts).", no_args_is_help=True)
messages_app = typer.Typer(help="Inbound messages.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(team_app, name="team")
app.add_typer(channel_app, name="channel")
app.add_typer(messages_app, name="messages")

# Each group of commands lives in its own module under onevoice.cli; they are all added here, once.
for _name, _commands in (("triage", triage_cli), ("model", model_cli), ("user", user_cli), ("audit", audit_cli),
                         ("keys", keys_cli), ("reports", reports_cli), ("contact", contact_cli),
                         ("retention", retention_cli)):
    app.add_typer(_commands.app, name=_name)
backup_cli.register(app)


@db_app.command("upgrade")
def db_upgrade(database_url: DbOpt = None):
    """Apply the schema migrations."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.migrate import upgrade

    settings = settings_for(database_url)
    upgrade(settings.database_url, secret_key=settings.secret_key.get_secret_value())
    typer.echo("database is up to date")


@token_app.command("create")
def token_create(name: str, database_url: DbOpt = None,
                 expires_in_days: Annotated[int, typer.Option(
                     help="lifetime in days (1-365); 0 = never expires (operator tokens only)")] = 90,
                 scope: Annotated[list[str] | None, typer.Option(
                     "--scope", help="repeatable, e.g. messages:write, cases:read, governance:* (default: *)")] = None,
                 user: Annotated[str | None, typer.Option(help="email of the user the token acts as")] = None):
    """Create an API token; the token is printed once, as the last line."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.governance.people import issue_token

    with session_scope(settings_for(database_url)) as session:
        token, plaintext = issue_token(session, operator(), name, scope or None, expires_in_days or None, user)
        expires = f"expires {token.expires_at:%Y-%m-%d}" if token.expires_at else "never expires"
        typer.echo(f"created token {token.id} ({token.name}, {', '.join(token.scopes or [])}, {expires}); "
                   "keep it secret, it is shown only once:")
    typer.echo(plaintext)


@token_app.command("list")
def token_list(database_url: DbOpt = None):
    """Every token: id, prefix, name, who it acts as, scopes, state, last used, expiry (never the token)."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.governance.people import list_tokens

    with session_scope(settings_for(database_url)) as session:
        for t in list_tokens(session, operator()):
            fields = [t.id, f"{t.prefix}…", t.name, t.user or "operator", ",".join(t.scopes or []),
                      t.state, f"last used {t.last_used_at or 'never'}", f"expires {t.expires_at or 'never'}"]
            typer.echo("\t".join(str(f) for f in fields))


@token_app.command("revoke")
def token_revoke(token_id: int, database_url: DbOpt = None):
    """Revoke a token: it stops working at once (audited)."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.governance.people import revoke_token

    with session_scope(settings_for(database_url)) as session:
        revoke_token(session, operator(), token_id)
    typer.echo(f"token {token_id} revoked")


@team_app.command("add")
def team_add(key: str, name: Annotated[str | None, typer.Option(help="display name")] = None,
             database_url: DbOpt = None):
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.teams.service import add_team

    with session_scope(settings_for(database_url)) as session:
        team = add_team(session, key, name)
        typer.echo(f"team {team.key} ({team.name}) created")


@team_app.command("list")
def team_list(database_url: DbOpt = None):
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.teams.service import list_teams

    with session_scope(settings_for(database_url)) as session:
        for t in list_teams(session):
            typer.echo(f"{t.key}\t{t.name}")


@channel_app.command("add")
def channel_add(key: str, kind: Annotated[str, typer.Option("--kind", help="connector kind, e.g. sandbox")],
                name: Annotated[str | None, typer.Option(help="display name")] = None,
                config: Annotated[list[str] | None, typer.Option("--config", help="key=value, repeatable")] = None,
                owner: Annotated[str | None, typer.Option(help="owner team key")] = None,
                database_url: DbOpt = None):
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.channels.service import add_channel

    settings = settings_for(database_url)
    with session_scope(settings) as session:
        channel = add_channel(session, key, kind, name, parse_pairs(config), owner,
                              secret_key=settings.secret_key.get_secret_value())
        typer.echo(f"channel {channel.key} ({channel.kind}) created")


@channel_app.command("test")
def channel_test(key: str, database_url: DbOpt = None):
    """Check the channel's credentials with the platform; records its health."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.channels.service import test_channel

    settings = settings_for(database_url)
    with session_scope(settings) as session:
        result = test_channel(session, key, settings.secret_key.get_secret_value())
    typer.echo(f"{key}: {result.get('status')} - {result.get('detail')}")
    if result.get("status") not in ("connected", "expiring"):
        raise typer.Exit(1)


@channel_app.command("remove")
def channel_remove(key: str, database_url: DbOpt = None):
    """Disable a channel; its messages and cases are kept."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.channels.service import remove_channel

    with session_scope(settings_for(database_url)) as session:
        remove_channel(session, key)
    typer.echo(f"channel {key} removed (disabled; history kept)")


@channel_app.command("list")
def channel_list(database_url: DbOpt = None):
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.channels.service import list_channels

    with session_scope(settings_for(database_url)) as session:
        for c in list_channels(session):
            state = "enabled" if c.enabled else "disabled"
            typer.echo(f"{c.key}\t{c.kind}\t{c.name}\t{state}\thealth={c.health}")


@app.command("import")
def import_file(path: Annotated[str, typer.Argument(help="a .jsonl or .csv file of messages")],
                database_url: DbOpt = None, redis_url: RedisOpt = None,
                batch: Annotated[int, typer.Option(help="messages per transaction")] = 500,
                process: Annotated[bool, typer.Option(help="process here when no Redis worker pool")] = True):
    """Load messages through the intake path; prints accepted, duplicate and rejected counts."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.cli.importer import run_import

    run_import(settings_for(database_url, redis_url), path, batch, process)


@messages_app.command("retry")
def messages_retry(ids: Annotated[list[int] | None, typer.Argument(help="message ids (default: all failed)")] = None,
                   database_url: DbOpt = None, redis_url: RedisOpt = None,
                   process: Annotated[bool, typer.Option(help="process here when no Redis worker pool")] = True):
    """Send failed messages through the pipeline again."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.cli.importer import drain
    from onevoice.messages.service import retry_failed
    from onevoice.runtime import build_runtime

    settings = settings_for(database_url, redis_url)
    with session_scope(settings) as session:
        retried = retry_failed(session, ids or None)
    typer.echo(f"retrying {len(retried)} message(s)")
    runtime = build_runtime(settings)
    if settings.redis_url:
        runtime.queue.enqueue(retried)
    elif process:
        outcome = drain(runtime)
        typer.echo(f"processed {len(outcome.processed)}, failed again {len(outcome.failed)}")


@messages_app.command("failed")
def messages_failed(database_url: DbOpt = None, limit: int = 50):
    """List failed messages with their errors."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.messages.service import list_messages

    with session_scope(settings_for(database_url)) as session:
        for m in list_messages(session, "failed", None, limit).items:
            typer.echo(f"{m.id}\t{m.channel}\t{m.external_id}\tattempts={m.attempts}\t{m.error}")


@app.command("serve")
def serve(database_url: DbOpt = None, redis_url: RedisOpt = None,
          host: Annotated[str, typer.Option(envvar="ONEVOICE_HOST")] = "127.0.0.1",
          port: Annotated[int, typer.Option(envvar="ONEVOICE_PORT")] = 8000,
          poll: Annotated[bool, typer.Option(help="poll channels that can be polled (embedded mode)")] = True):
    """Run the web server (embedded: with its worker and scheduler; with Redis: a stateless web node)."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.cli.serving import run_server

    run_server(settings_for(database_url, redis_url), host, port, poll=poll)


@app.command("worker")
def worker(database_url: DbOpt = None, redis_url: RedisOpt = None,
           name: Annotated[str | None, typer.Option(help="consumer name (default host-pid)")] = None):
    """Run a worker: with Redis, one consumer of the shared stream; without, drain the database queue."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.cli.serving import run_worker

    run_worker(settings_for(database_url, redis_url), name)


@app.command("demo")
def demo(data_dir: Annotated[str, typer.Option(envvar="ONEVOICE_DATA_DIR")] = "./data",
         host: str = "127.0.0.1", port: int = 8000,
         traffic: Annotated[bool, typer.Option(help="simulated inbound traffic")] = True):
    """Start OneVoice on SQLite with the demo organization and simulated channels."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.cli.serving import run_demo

    run_demo(settings_for(data_dir=data_dir), host, port, traffic)


@app.command("version")
def version():
    typer.echo(json.dumps({"onevoice": __version__}))


if __name__ == "__main__":
    app()
