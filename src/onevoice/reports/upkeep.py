"""Keeping the reports' facts current: incrementally from the events since the last run, or rebuilt.

The scheduler runs `upkeep` every few seconds (registered at composition, cli/serving.py: the pipeline
knows nothing of reports). It reads the events past its watermark, recomputes the facts of every case they
touch from that case's source rows, and moves the watermark, all in one transaction, so a crash repeats
the work rather than losing it. Recomputing a case is idempotent, which is what lets it re-read the last
minute of events (PostgreSQL can commit a lower event id after a higher one) without double counting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from onevoice.db import unit_of_work, utcnow
from onevoice.reports import repository as repo
from onevoice.reports.aggregate import contributions
from onevoice.reports.facts import Context, case_facts

BATCH_EVENTS = 20_000
REBUILD_CHUNK = 2_000
# Only PostgreSQL can commit a lower event id after a higher one (SQLite has one writer at a time); a few
# seconds cover a batch's transaction. Each re-read case is recomputed again, so the window is kept short.
OVERLAP = {"postgresql": timedelta(seconds=5)}


@dataclass
class UpkeepResult:
    cases: int
    watermark: int


def refresh_cases(session: Session, case_ids: set[int] | list[int], ctx: Context | None = None,
                  fresh: bool = False) -> int:
    """Recompute the facts of these cases from their sources and move the per-day aggregates by the
    difference (in the caller's transaction). `fresh`: the cases have no facts yet (the rebuild)."""
    ids = sorted(case_ids)
    if not ids:
        return 0
    ctx = ctx or repo.context(session)
    cases, teams = [], []
    for src in repo.sources(session, ids):
        facts, parts = case_facts(src, ctx)
        cases.append(facts)
        teams.extend(parts)
    # The per-day aggregates move by the difference between the cases' old facts and their new ones.
    old_cases, old_teams = repo.stored_facts(session, ids) if not fresh else ([], [])
    deltas = contributions(old_cases, old_teams, -1)
    contributions(cases, teams, 1, deltas)
    repo.replace_facts(session, ids, cases, teams)
    repo.apply_deltas(session, deltas)
    repo.refresh_until(session, [f["contact_id"] for f in (*old_cases, *cases)])
    return len(cases)


def upkeep(session: Session) -> UpkeepResult:
    """One incremental step: the cases touched since the watermark (at most BATCH_EVENTS events)."""
    now = utcnow()
    after = repo.watermark(session)
    since = min(repo.last_run(session) or now, now) - OVERLAP.get(session.bind.dialect.name, timedelta(0))
    touched, top = repo.touched_cases(session, after, since, BATCH_EVENTS)
    n = refresh_cases(session, touched)
    repo.set_watermark(session, top, now)
    return UpkeepResult(n, top)


def upkeep_job(session_factory: sessionmaker[Session]) -> UpkeepResult:
    """The scheduler's job: steps until caught up (each step its own transaction)."""
    total = 0
    while True:
        with unit_of_work(session_factory) as session:
            before = repo.watermark(session)
            result = upkeep(session)
        total += result.cases
        if result.watermark - before < BATCH_EVENTS:
            return UpkeepResult(total, result.watermark)


def rebuild(session_factory: sessionmaker[Session]) -> int:
    """Recompute every case's facts from scratch (`onevoice reports rebuild`). The watermark is taken
    before reading, so events that land meanwhile are picked up by the next upkeep."""
    with unit_of_work(session_factory) as session:
        top = repo.max_event_id(session)
        repo.clear_facts(session)
        ctx = repo.context(session)
        after, done = 0, 0
        while ids := repo.all_case_ids(session, after, REBUILD_CHUNK):
            done += refresh_cases(session, ids, ctx, fresh=True)
            after = ids[-1]
        repo.set_watermark(session, top, utcnow(), force=True)
        repo.analyze(session)
    return done
