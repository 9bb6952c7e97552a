"""Score the triage on any labelled CSV: the engine behind `onevoice triage eval`."""

from __future__ import annotations

import csv
from pathlib import Path

from onevoice.errors import InvalidInput
from onevoice.triage.metrics import score
from onevoice.triage.types import TriageInput

TASKS = ("sentiment", "intent", "complaint")
_YES = {"complaint", "1", "yes", "true"}


def parse_map(spec: str | None) -> dict[str, str]:
    """'0=negative,1=neutral' -> {'0': 'negative', '1': 'neutral'}; the file's labels on the left."""
    out: dict[str, str] = {}
    for pair in (spec or "").split(","):
        if pair.strip():
            theirs, sep, ours = pair.partition("=")
            if not sep:
                raise InvalidInput(f"--map takes label=ours pairs, got {pair!r}")
            out[theirs.strip()] = ours.strip()
    return out


def _prediction(task: str, result) -> str:
    if task == "sentiment":
        return result.sentiment
    if task == "intent":
        return result.intent
    # The complaint signal (triage/complaint.py), which the complaint-type intents follow.
    return "complaint" if result.complaint else "not_complaint"


def eval_file(triager, path: Path, task: str, text_col: str, label_col: str,
              mapping: dict[str, str] | None = None, batch: int = 2000) -> dict:
    """Accuracy, macro-F1, per-class scores and confusion of `triager` on the file's labelled rows.

    Rows whose label maps to an empty string are skipped (a way to leave out classes we do not have).
    """
    if task not in TASKS:
        raise InvalidInput(f"task must be one of {TASKS}")
    mapping = mapping or {}
    with Path(path).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = {text_col, label_col} - set(reader.fieldnames or [])
        if missing:
            raise InvalidInput(f"{path}: no column(s) {sorted(missing)}; columns are {reader.fieldnames}")
        rows = [(r[text_col] or "", mapping.get(r[label_col].strip(), r[label_col].strip())) for r in reader]
    rows = [(t, lab) for t, lab in rows if lab]
    if task == "complaint":
        rows = [(t, "complaint" if lab.lower() in _YES else "not_complaint") for t, lab in rows]
    gold = [lab for _, lab in rows]
    pred: list[str] = []
    for i in range(0, len(rows), batch):
        results = triager.triage_batch([TriageInput(text=t) for t, _ in rows[i:i + batch]])
        pred += [_prediction(task, r) for r in results]
    out = score(gold, pred)
    out.update(task=task, file=str(path), model_version=getattr(triager, "model_version", None))
    return out


def format_report(s: dict) -> str:
    lines = [f"{s['file']}  task={s['task']}  model={s['model_version']}  n={s['n']}",
             f"accuracy {s['accuracy']:.3f}   macro-F1 {s['macro_f1']:.3f}   macro-recall {s['macro_recall']:.3f}",
             "", f"{'class':<16}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}"]
    for lab, c in s["per_class"].items():
        lines.append(f"{lab:<16}{c['precision']:>10.3f}{c['recall']:>10.3f}{c['f1']:>10.3f}{c['support']:>10}")
    width = max(8, *(len(lab) for lab in s["labels"])) + 1
    lines += ["", "confusion (rows: true, columns: predicted)",
              " " * width + "".join(f"{lab[:width - 1]:>{width}}" for lab in s["labels"])]
    for lab, row in zip(s["labels"], s["confusion"], strict=True):
        lines.append(f"{lab:<{width}}" + "".join(f"{v:>{width}}" for v in row))
    return "\n".join(lines)
