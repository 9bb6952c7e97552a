"""`onevoice model ...`: retrain the triage heads from corrections, list and switch versions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from onevoice.cli.common import DbOpt, session_scope, settings_for

app = typer.Typer(help="Triage models: retrain from corrections, list versions, switch one on.",
                  no_args_is_help=True)


@app.command("train")
def train(
    examples: Annotated[Path | None, typer.Option(exists=True, dir_okay=False,
                                                  help="your labelled history: text,intent,sentiment")] = None,
    data: Annotated[Path | None, typer.Option(help="public labelled data (default: settings/../shared/data)")] = None,
    limit: Annotated[int | None, typer.Option(help="cap each public source (quick runs)")] = None,
    force: Annotated[bool, typer.Option(help="switch the new version on even if it scores lower")] = False,
    database_url: DbOpt = None,
):
    """Retrain from public data + seed set + corrections; switch on only if quality is not worse."""
    try:
        import sklearn  # noqa: F401
    except ModuleNotFoundError:
        typer.secho("training needs the train extra: pip install 'onevoice[train]'", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    from onevoice.triage.service import dumps, train_model

    settings = settings_for(database_url)
    with session_scope(settings) as session:
        report = train_model(session, settings.model_dir, examples_csv=examples,
                             data_dir=data or settings.training_data_dir, limit=limit, force=force,
                             log=typer.echo)
        typer.echo(dumps({k: v for k, v in report.to_dict().items() if k != "metrics"}))
        verdict = "switched on" if report.activated else "kept off (quality is lower than the active version)"
        typer.echo(f"model {report.version}: quality {report.quality:.4f} vs {report.baseline_quality:.4f} "
                   f"({report.baseline_version}): {verdict}")


@app.command("list")
def list_cmd(database_url: DbOpt = None):
    """Model versions, newest first."""
    from onevoice.triage.service import dumps, list_versions

    with session_scope(settings_for(database_url)) as session:
        typer.echo(dumps(list_versions(session)))


@app.command("activate")
def activate(version: str, database_url: DbOpt = None):
    """Switch a recorded version on (takes effect when workers rebuild their triager, e.g. on restart)."""
    from onevoice.triage.service import activate_version

    with session_scope(settings_for(database_url)) as session:
        row = activate_version(session, version)
        typer.echo(f"model {row.version} is active")
