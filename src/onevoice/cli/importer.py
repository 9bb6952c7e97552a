"""`onevoice import`: JSONL or CSV files through the intake path, with a progress bar."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import typer

from onevoice.pipeline.intake import accept_batch
from onevoice.pipeline.processor import Outcome
from onevoice.process import Runtime
from onevoice.runtime import build_runtime
from onevoice.settings import Settings

AUTHOR_COLUMNS = ("external_id", "handle", "name", "followers")


def read_items(path: Path) -> Iterator[object]:
    """Yield one item per line/row; a line that is not JSON yields a marker the intake rejects clearly."""
    if path.suffix.lower() == ".csv":
        csv.field_size_limit(sys.maxsize)
        with path.open(newline="", encoding="utf-8", errors="replace") as fh:
            for row in csv.DictReader(fh):
                yield csv_row(row)
        return
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                yield _BadLine(f"line {number} is not valid JSON: {exc.msg}")


class _BadLine(str):
    pass


def csv_row(row: dict) -> dict:
    item: dict = {"author": {}}
    for column, value in row.items():
        if column is None or value is None or value == "":
            continue
        column = column.strip()
        for prefix in ("author.", "author_"):
            if column.startswith(prefix) and column[len(prefix):] in AUTHOR_COLUMNS:
                field = column[len(prefix):]
                item["author"][field] = int(value) if field == "followers" and value.isdigit() else value
                break
        else:
            item[column] = value
    return item


def drain(runtime: Runtime, batch: int = 500) -> Outcome:
    # heavy (SQLAlchemy, the services): loaded only by the command that runs
    from onevoice.worker.runner import EmbeddedWorker

    worker = EmbeddedWorker(runtime.processor, runtime.session_factory, runtime.broker.publish, batch)
    total = Outcome()
    while True:
        outcome = worker.run_once()
        if not outcome.processed and not outcome.failed:
            return total
        total.merge(outcome)


def run_import(settings: Settings, path_str: str, batch: int, process: bool) -> None:
    path = Path(path_str)
    if not path.is_file():
        typer.secho(f"error: no file {path}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    if path.suffix.lower() not in (".jsonl", ".json", ".ndjson", ".csv"):
        typer.secho("error: import takes a .jsonl or .csv file", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    runtime = build_runtime(settings)
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    problems: list[str] = []
    line = 0
    with path.open("rb") as fh:
        total = sum(1 for _ in fh)
    with typer.progressbar(length=max(1, total), label=f"importing {path.name}", file=sys.stderr) as bar:
        chunk: list = []
        for item in read_items(path):
            chunk.append(item)
            if len(chunk) >= batch:
                line = _flush(runtime, chunk, counts, problems, line)
                bar.update(len(chunk))
                chunk = []
        if chunk:
            line = _flush(runtime, chunk, counts, problems, line)
            bar.update(len(chunk))
    for problem in problems[:20]:
        typer.echo(f"  rejected {problem}", err=True)
    if len(problems) > 20:
        typer.echo(f"  ... and {len(problems) - 20} more", err=True)
    typer.echo(f"accepted {counts['accepted']}, duplicate {counts['duplicate']}, rejected {counts['rejected']}")
    if process and not settings.redis_url:
        outcome = drain(runtime)
        typer.echo(f"processed {len(outcome.processed)}, failed {len(outcome.failed)}")
    runtime.dispose()


def _flush(runtime: Runtime, chunk: list, counts: dict, problems: list, offset: int) -> int:
    items = [{} if isinstance(i, _BadLine) else i for i in chunk]
    with runtime.session_factory.begin() as session:
        result = accept_batch(session, items, runtime.settings.max_text_chars, max_batch=len(items))
    for r in result.rejected:
        bad = chunk[r["index"]]
        problems.append(f"item {offset + r['index'] + 1}: {bad if isinstance(bad, _BadLine) else r['error']}")
    counts["rejected"] += len(result.rejected)
    fresh = result.new_ids
    counts["accepted"] += len(fresh)
    counts["duplicate"] += len(result.accepted) - len(fresh)
    runtime.queue.enqueue(fresh)
    return offset + len(chunk)
