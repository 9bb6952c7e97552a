"""`onevoice model ...`: retrain the triage heads from corrections, list and switch versions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from onevoice.cli.common import DbOpt, session_scope, settings_for

app = typer.Typer(help="Triage models: retrain from corrections, list versions, switch one on.",
                  no_args_is_help=True)


TRAIN_HINT = ("training needs the train extra (scikit-learn, scipy): pip install 'onevoice[train]'; "
              "the public data it trains on ships with OneVoice")


@app.command("train")
def train(
    examples: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False, help="your labelled history: text,intent,sentiment,complaint")] = None,
    data: Annotated[Path | None, typer.Option(
        help="public labelled data (default: ONEVOICE_TRAINING_DATA_DIR, else ../shared/data beside a checkout, "
             "else the data packaged with OneVoice)")] = None,
    limit: Annotated[int | None, typer.Option(help="cap each public source (quick runs)")] = None,
    force: Annotated[bool, typer.Option(help="switch the new version on even if it scores lower")] = False,
    all_heads: Annotated[bool, typer.Option(
        help="retrain every head, not only those your labels teach (intent, sentiment, complaint)")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the whole report as JSON")] = False,
    database_url: DbOpt = None,
):
    """Retrain; judge on your held-out labels first and the public sets as a guard; switch on if better."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.triage.service import training_available

    if not training_available():
        typer.secho(TRAIN_HINT, fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.triage.report import format_train_report
    from onevoice.triage.service import dumps, train_model

    settings = settings_for(database_url)
    with session_scope(settings) as session:
        try:
            report = train_model(session, settings.model_dir, examples_csv=examples,
                                 data_dir=data or settings.training_data_dir, limit=limit, force=force,
                                 all_heads=all_heads, log=typer.echo)
        except FileNotFoundError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        typer.echo(dumps(report.to_dict()) if as_json else format_train_report(report.to_dict()))


@app.command("list")
def list_cmd(database_url: DbOpt = None):
    """Model versions, newest first."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.triage.service import dumps, list_versions

    with session_scope(settings_for(database_url)) as session:
        typer.echo(dumps(list_versions(session)))


@app.command("activate")
def activate(version: str, database_url: DbOpt = None):
    """Switch a recorded version on (takes effect when workers rebuild their triager, e.g. on restart)."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.triage.service import activate_version

    with session_scope(settings_for(database_url)) as session:
        row = activate_version(session, version)
        typer.echo(f"model {row.version} is active")
