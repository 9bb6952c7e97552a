"""`onevoice reports rebuild | upkeep`: recompute the reports' facts from scratch, or catch up incrementally."""

from __future__ import annotations

import time

import typer

from onevoice.cli.common import DbOpt, factories, settings_for

app = typer.Typer(help="The reports' aggregates (docs/metrics.md).", no_args_is_help=True)


@app.command("rebuild")
def rebuild(database_url: DbOpt = None) -> None:
    """Recompute every case's facts from the events, cases and messages (safe while the service runs)."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.reports.upkeep import rebuild as run

    started = time.perf_counter()
    # `factories` checks the schema first (a new SQLite file is set up; an unmigrated database is a clear error)
    with factories(settings_for(database_url)) as (write, _):
        n = run(write)
    typer.echo(f"rebuilt the facts of {n} cases in {time.perf_counter() - started:.1f} s")


@app.command("upkeep")
def upkeep(database_url: DbOpt = None) -> None:
    """One incremental pass (what the scheduler does every few seconds)."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.reports.upkeep import upkeep_job

    with factories(settings_for(database_url)) as (write, _):
        result = upkeep_job(write)
    typer.echo(f"refreshed {result.cases} cases; events read up to id {result.watermark}")
