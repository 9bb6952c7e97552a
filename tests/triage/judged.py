"""How the judgment tests read a labelled set (tests/triage/devsets/): triage every post, route it with the
default playbook, and score complaint, sentiment and lead + collaborators as bench/bench_judgment.py does."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from onevoice.routing.factory import default_playbook
from onevoice.routing.types import RouteInput
from onevoice.triage.metrics import score
from onevoice.triage.types import TriageInput

DEVSETS = Path(__file__).parent / "devsets"
TUESDAY = datetime(2026, 11, 17, 11, 0, tzinfo=UTC)


def rows(name: str) -> list[dict]:
    with (DEVSETS / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def route(triage, text: str, book=None):
    return (book or default_playbook()).route(RouteInput(text=text, kind="mention", channel="c", created_at=TUESDAY,
                                                         triage=triage, channel_kind="x"))


def set_figures(triager, name: str) -> tuple[dict, dict, int, int]:
    """(complaint scores, sentiment scores, posts with the right lead and collaborators, posts) for one set."""
    posts = rows(name)
    results = triager.triage_batch([TriageInput(text=r["text"]) for r in posts])
    complaint = score([r["complaint"] == "1" for r in posts], [x.complaint for x in results])
    sentiment = score([r["sentiment"] for r in posts], [x.sentiment for x in results])
    book, right = default_playbook(), 0
    for r, t in zip(posts, results, strict=True):
        d, want = route(t, r["text"], book), set(filter(None, r["collaborators"].split("|")))
        right += (d.lead_team or "") == r["lead"] and set(d.collaborators) == want
    return complaint, sentiment, right, len(posts)
