"""`onevoice triage ...`: triage one text, or score the model on a labelled file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from onevoice.cli.common import DbOpt, session_scope, settings_for
from onevoice.cli.user import operator
from onevoice.errors import InvalidInput

app = typer.Typer(help="Triage: what a message is about, and how well the model does.", no_args_is_help=True)

ModelOpt = Annotated[Path | None, typer.Option("--model-dir", help="a model version directory (default: active)")]


def _triager(database_url: str | None, model_dir: Path | None):
    settings = settings_for(database_url)
    if model_dir is not None:
        # That version as the pipeline would run it: with its escalation heads when escalation is on.
        # heavy (SQLAlchemy, the services): loaded only by the command that runs
        from onevoice.triage.factory import with_escalation
        from onevoice.triage.triager import FastTriager

        fast = FastTriager(model_dir=model_dir)
        return (with_escalation(fast, model_dir, settings.triage_sentiment_transformer)
                if settings.triage_escalation else fast)
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.triage.factory import build_triager

    return build_triager(settings)


@app.command("classify")
def classify(text: str, followers: Annotated[int, typer.Option(help="the author's followers")] = 0,
             prior_messages: Annotated[int, typer.Option(help="earlier messages from this contact")] = 0,
             database_url: DbOpt = None, model_dir: ModelOpt = None):
    """Print the full triage of one text as JSON."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.triage.types import TriageInput

    result = _triager(database_url, model_dir).triage_batch(
        [TriageInput(text=text, author_followers=followers, prior_messages=prior_messages)])[0]
    typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))


@app.command("eval")
def eval_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a labelled CSV")],
    task: Annotated[str, typer.Option(
        help="sentiment, intent or complaint (the complaint signal; labels complaint/1/yes/true vs anything else)")
    ] = "intent",
    text_col: Annotated[str, typer.Option(help="the column with the text")] = "text",
    label_col: Annotated[str, typer.Option(help="the column with the label")] = "label",
    map_: Annotated[str | None, typer.Option("--map", help="their=ours,...; map to '' to skip a label")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    database_url: DbOpt = None, model_dir: ModelOpt = None,
):
    """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix on a labelled CSV."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.triage.evaluate import eval_file, format_report, parse_map

    try:
        report = eval_file(_triager(database_url, model_dir), file, task, text_col, label_col, parse_map(map_))
    except InvalidInput as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(report, indent=2) if as_json else format_report(report))


vocabulary_app = typer.Typer(help="The organization's vocabulary: products, competitors and terms that shape triage.",
                             no_args_is_help=True)
app.add_typer(vocabulary_app, name="vocabulary")


def _cli_actor():
    return operator()


@vocabulary_app.command("add")
def vocabulary_add(
    key: str,
    name: Annotated[str, typer.Option(help="how it is written (matched case-, hashtag- and typo-tolerantly)")],
    kind: Annotated[str, typer.Option(help="product, competitor or term")] = "term",
    alias: Annotated[list[str] | None, typer.Option(help="another way it is written (repeat)")] = None,
    intent: Annotated[str | None, typer.Option(help="triage leans toward this intent when it is named")] = None,
    team: Annotated[str | None, typer.Option(help="routing hands messages naming it to this team")] = None,
    database_url: DbOpt = None,
):
    """Add an entry, or replace the one with this key."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.triage.vocabulary import save_entry

    try:
        with session_scope(settings_for(database_url)) as session:
            entry = save_entry(session, _cli_actor(), key, name, kind, alias or [], intent, team)
    except InvalidInput as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(entry.model_dump(), ensure_ascii=False))


@vocabulary_app.command("list")
def vocabulary_list(database_url: DbOpt = None):
    """Every entry, with the intent and team it carries."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.triage.vocabulary import list_entries

    with session_scope(settings_for(database_url)) as session:
        entries = [e.model_dump() for e in list_entries(session, _cli_actor())]
    typer.echo(json.dumps(entries, indent=2, ensure_ascii=False))


@vocabulary_app.command("remove")
def vocabulary_remove(key: str, database_url: DbOpt = None):
    """Remove an entry."""
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.triage.vocabulary import remove_entry

    with session_scope(settings_for(database_url)) as session:
        existed = remove_entry(session, _cli_actor(), key)
    if not existed:
        typer.secho(f"error: no vocabulary entry {key!r}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo(f"removed {key}")
