"""Keeping the reports' facts current: incrementally from the events since the last run, or rebuilt.

The scheduler runs `upkeep_job` every few seconds (registered at composition, cli/serving.py: the pipeline
knows nothing of reports). A pass reads the events past its watermark and folds what they brought (new
messages, the pipeline's and people's actions) into the stored facts of their cases (`fold.fold_case`);
a case the fold cannot decide from its stored row (a reply, an edit, an outcome, an approval decided, a
late advocacy signal whose floating sum depends on its place...) is recomputed from all its sources
(`facts.case_facts`). The per-day
aggregates move by the difference between each case's old and new facts.

All the reading and computing happens in a read transaction (on SQLite: no write lock, intake goes on);
only the writes take the lock, in a second, short transaction, which first checks that the watermark is
where the read found it (another runner, or a rebuild, may have moved it: then the pass is thrown away and
read again). The facts, the aggregates and the watermark move together, so a crash repeats a pass rather
than losing or doubling it. A fold adds, so each event must be folded once: the recomputation of a case
counts only what the events up to the watermark brought, and on PostgreSQL (which can commit a lower event
id after a higher one) the cases with events of the last seconds under the watermark are recomputed.
"""

from __future__ import annotations

import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from onevoice.db import make_sessionmaker, unit_of_work, utcnow
from onevoice.reports import repository as repo
from onevoice.reports.aggregate import Deltas, contributions
from onevoice.reports.facts import Context, EventRow, case_facts
from onevoice.reports.fold import fold_case
from onevoice.reports.processed import processed_messages

# A step's events: a minute of saturated traffic (~1,400 messages a second, two events each), so that the run
# after a surge (`upkeep_job` waits up to a minute) folds each case once: in steps of 20,000 a case was folded
# again in every step it had a message in (2.5 times per case, bench/bench_upkeep_catchup.py). Memory: the
# step's messages as read and its cases' facts; a pass over 70,000 messages peaked at 316 MB (the process),
# against 310 MB in steps of 20,000 when every event was read as a row.
BATCH_EVENTS = 200_000
REBUILD_CHUNK = 2_000
# Only PostgreSQL can commit a lower event id after a higher one (SQLite has one writer at a time); a few
# seconds cover a batch's transaction. Each re-read case is recomputed again, so the window is kept short.
OVERLAP = {"postgresql": timedelta(seconds=5)}
OPENING = ("case.opened", "case.closed_spam")


@dataclass
class UpkeepResult:
    cases: int
    watermark: int
    folded: int = 0  # of the cases, those folded (the others recomputed from their sources)
    locked_s: float = 0.0  # the longest write transaction of the run (SQLite: write lock held)
    waited: bool = False  # the pipeline was behind: this run left the facts for a later one (`upkeep_job`)


@dataclass
class Pass:
    """What one pass read and computed, to be written if the watermark has not moved meanwhile."""
    after: int
    updated_at: datetime | None
    top: int
    now: datetime
    case_ids: list[int] = field(default_factory=list)
    cases: list[dict] = field(default_factory=list)
    teams: list[dict] = field(default_factory=list)
    old: dict[tuple, dict] = field(default_factory=dict)  # the stored rows, by key (repository.keyed)
    old_teams: dict[tuple, dict] = field(default_factory=dict)
    deltas: Deltas = field(default_factory=dict)
    folded: int = 0
    full: bool = False  # the batch was cut at BATCH_EVENTS: more to read
    # Customers whose advocacy keys must follow their followers besides those of the touched cases: the
    # authors of the messages processed (a reply in another customer's thread brings its author's followers
    # and joins that customer's case) or failed (its batch stored them too), a contact other contacts were
    # linked into, and an erased contact.
    contacts: set[int] = field(default_factory=set)


def refresh_cases(session: Session, case_ids: set[int] | list[int], ctx: Context | None = None,
                  fresh: bool = False, top: int | None = None) -> int:
    """Recompute the facts of these cases from their sources and move the per-day aggregates by the
    difference (in the caller's transaction). `fresh`: the cases have no facts yet (the rebuild); `top`:
    count what the events up to that id brought (the upkeep folds in the rest)."""
    ids = sorted(case_ids)
    if not ids:
        return 0
    ctx = ctx or repo.context(session)
    cases, teams = [], []
    for src in repo.sources(session, ids, top):
        facts, parts = case_facts(src, ctx)
        cases.append(facts)
        teams.extend(parts)
    old, old_teams = repo.stored_facts(session, ids) if not fresh else ({}, {})
    deltas = contributions(list(old.values()), [t for rows in old_teams.values() for t in rows], -1)
    contributions(cases, teams, 1, deltas)
    _store(session, cases, teams, *repo.keyed(old, old_teams), deltas)
    return len(cases)


def _store(session: Session, cases: list[dict], teams: list[dict], old: dict[tuple, dict],
           old_teams: dict[tuple, dict], deltas: Deltas, contacts: Iterable[int] = ()) -> None:
    """Write new facts over the old ones and move the aggregates by the difference; then every customer of a
    touched case, and `contacts`, get their advocacy keys back in step with their sums and their followers now."""
    repo.write_facts(session, cases, teams, old, old_teams)
    repo.apply_deltas(session, deltas)
    repo.refresh_keys(session, [*(f["contact_id"] for f in (*old.values(), *cases)), *contacts])


def plan(session: Session) -> Pass:
    """Read what happened past the watermark and compute the facts it leads to (no writing)."""
    now = utcnow()
    after, updated_at = repo.state(session)
    dialect = session.bind.dialect.name
    since = min(updated_at or now, now) - OVERLAP.get(dialect, timedelta(0))
    top, full = repo.event_top(session, after, BATCH_EVENTS)
    out = Pass(after, updated_at, top, now, full=full)
    linked: set[int] = set()
    erased: set[int] = set()
    # A customer's followers change with their messages (pipeline.normalize), which may be on another
    # customer's case: the authors of the messages processed get their keys refreshed.
    failed: list[int] = []  # messages whose processing failed: their batch stored their author's followers
    # The pipeline's record of each message processed: the message, read with it (repository.MESSAGE_KINDS).
    # Every case named is touched, even if its message is gone.
    messages, authors = processed_messages(session, after, top)
    events: dict[int, list[EventRow]] = defaultdict(list, {case_id: [] for case_id in messages})
    for _id, case_id, message_id, kind, actor, created_at, data in repo.new_events(session, after, top):
        if case_id is None:  # rows unpacked: their attributes cost more
            if kind == "contact.linked" and isinstance((data or {}).get("kept"), int):
                linked.add(data["kept"])
            elif kind == "contact.erased" and isinstance((data or {}).get("contact"), int):
                erased.add(data["contact"])  # followers 0: their keys change, their cases' facts do not
            elif kind == "message.failed" and message_id is not None:
                failed.append(message_id)
            continue
        events[case_id].append(EventRow(kind, actor, created_at, data or {}))
    authors |= repo.authors(session, failed)
    authors.discard(None)
    # Linking moves a contact's cases (no case event) and its followers into another.
    out.contacts = authors | linked | erased
    recompute = repo.late_cases(session, after, since, dialect in OVERLAP) | repo.cases_of(session, linked)
    if dialect in OVERLAP:
        out.contacts |= repo.late_authors(session, after, since)
    ids = sorted(set(events) | recompute)
    if not ids:
        return out
    ctx = repo.context(session)
    old, old_teams = repo.stored_facts(session, ids)
    # A case without facts folds from nothing only when it opened in this batch (all it has is here).
    fold = {i: e for i, e in events.items() if i not in recompute and (i in old or any(
        x.kind in OPENING for x in e))}
    increments = repo.increments(session, fold, messages)
    # A team that joined a case with facts: what its members did before is not in them (read it).
    repo.history(session, {i: src for i, src in increments.items() if i in old and {t.team_id for t in src.teams}
                           - {t["team_id"] for t in old_teams.get(i, [])}}, after, ctx.user_teams)
    for case_id, src in increments.items():
        folded = fold_case(old.get(case_id), old_teams.get(case_id, []), src, ctx)
        if folded is None:
            recompute.add(case_id)
            continue
        out.cases.append(folded[0])
        out.teams.extend(folded[1])
        out.folded += 1
    # A case with events but no row any more (deleted) is in neither: the recomputation drops its facts.
    recompute |= set(events) - {f["case_id"] for f in out.cases}
    for src in repo.sources(session, recompute, out.top):
        facts, parts = case_facts(src, ctx)
        out.cases.append(facts)
        out.teams.extend(parts)
    out.case_ids, (out.old, out.old_teams) = ids, repo.keyed(old, old_teams)
    out.deltas = contributions(list(old.values()), list(out.old_teams.values()), -1)
    contributions(out.cases, out.teams, 1, out.deltas)
    return out


def write(session: Session, step: Pass) -> bool:
    """Store a pass's facts and aggregates and move the watermark, unless another runner (or a rebuild)
    moved it since the pass read: then nothing is written (the caller reads again)."""
    if repo.state(session, lock=True) != (step.after, step.updated_at):
        return False
    if step.case_ids:
        _store(session, step.cases, step.teams, step.old, step.old_teams, step.deltas, step.contacts)
    elif step.contacts:  # only a contact's reach changed (an erasure): their keys, no facts
        repo.refresh_keys(session, list(step.contacts))
    repo.set_watermark(session, step.top, step.now)
    return True


def upkeep(session_factory: sessionmaker[Session]) -> tuple[Pass, bool, float]:
    """One incremental step: computed in a read transaction, written in a short write transaction.
    Returns the step, whether it was written, and how long the write transaction took (seconds: on
    SQLite the time the write lock was held)."""
    with _reader(session_factory)() as session:
        step = plan(session)
    started = time.perf_counter()
    with unit_of_work(session_factory) as session:
        written = write(session, step)
    return step, written, time.perf_counter() - started


_READERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _reader(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Read-only sessions on the same database (on SQLite a deferred transaction: it never takes the lock)."""
    if session_factory not in _READERS:
        _READERS[session_factory] = make_sessionmaker(session_factory.kw["bind"], readonly=True)
    return _READERS[session_factory]


def upkeep_job(session_factory: sessionmaker[Session], busy: Callable[[], bool] | None = None,
               wait_at_most: timedelta = timedelta(0)) -> UpkeepResult:
    """The scheduler's job: steps until caught up (each step its own pair of transactions).

    `busy` (registered at composition: the pipeline is behind, pipeline/backlog.py): while it says so, the run
    leaves the facts for a later one, so that during a surge the cores and SQLite's write lock go to the
    messages first, and the upkeep then folds the whole surge in fewer, larger passes. Never for longer than
    `wait_at_most` since the last pass: however long a surge lasts, the figures are at most that far behind
    (then a run catches up in full, as any run does)."""
    if busy is not None and wait_at_most > timedelta(0) and _may_wait(session_factory, wait_at_most) and busy():
        return UpkeepResult(0, 0, waited=True)
    result, lost = UpkeepResult(0, 0), 0
    while lost < 3:  # a runner that keeps losing the race to another (which does the work) stops
        step, written, locked = upkeep(session_factory)
        result.locked_s = max(result.locked_s, locked)
        result.watermark = step.top
        if not written:
            lost += 1
            continue
        result.cases += len(step.case_ids)
        result.folded += step.folded
        if not step.full:
            break
    return result


def _may_wait(session_factory: sessionmaker[Session], wait_at_most: timedelta) -> bool:
    """Whether the last pass is recent enough for this run to be skipped (a pass writes when it read)."""
    with _reader(session_factory)() as session:
        _, updated_at = repo.state(session)
    return updated_at is not None and utcnow() - updated_at < wait_at_most


def rebuild(session_factory: sessionmaker[Session]) -> int:
    """Recompute every case's facts from scratch (`onevoice reports rebuild`). The watermark is taken
    before reading, and only what the events up to it brought is counted: those that land meanwhile are
    folded in by the next upkeep."""
    with unit_of_work(session_factory) as session:
        repo.state(session, lock=True)  # an upkeep pass writing meanwhile would write into the cleared tables
        top = repo.max_event_id(session)
        repo.clear_facts(session)
        ctx = repo.context(session)
        after, done = 0, 0
        while ids := repo.all_case_ids(session, after, REBUILD_CHUNK):
            done += refresh_cases(session, ids, ctx, fresh=True, top=top)
            after = ids[-1]
        repo.set_watermark(session, top, utcnow(), force=True)
        repo.analyze(session)
    return done
