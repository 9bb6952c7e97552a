"""Every query of the reports: reading a case's sources, writing its facts, the upkeep's watermark."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache
from types import SimpleNamespace

from sqlalchemy import String, and_, bindparam, case, delete, func, null, select, text, type_coerce, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from onevoice.approvals.models import Approval
from onevoice.auth.models import User, UserTeam
from onevoice.cases.models import Case, CaseTeam
from onevoice.contacts.models import Contact
from onevoice.db import chunks, executemany, select_rows
from onevoice.events.models import Event
from onevoice.messages.models import Message
from onevoice.reports.aggregate import COUNT_COLUMN, Deltas
from onevoice.reports.facts import (
    ApprovalRow,
    CaseRow,
    CaseSource,
    Context,
    EventRow,
    MessageRow,
    TeamRow,
    recommended,
)
from onevoice.reports.models import (
    CaseFacts,
    ContactDay,
    DailyFacts,
    DailyHistogram,
    DailyTeam,
    DailyVolume,
    DayHistogram,
    MonthHistogram,
    ReportState,
    TeamContactDay,
    TeamFacts,
)
from onevoice.reports.ranking import days
from onevoice.reports.team_customers import team_days
from onevoice.routing.factory import DEFAULT_PLAYBOOK, active_source, default_playbook
from onevoice.routing.playbook import Playbook
from onevoice.teams.models import Team

STATE_KEY = "facts"
# The events whose data the upkeep reads.
EVENT_DATA_KINDS = ("case.status", "case.outcome", "contact.linked", "contact.erased")
# The pipeline's record that a message was processed into a case, new or existing (pipeline/processor.py):
# half the events and more. Nothing in a case's facts comes from them but the message they name, which
# `reports.processed` reads with the events in one join; the upkeep reads the other events as rows.
MESSAGE_KINDS = ("message.processed", "case.message_added")


def context(session: Session) -> Context:
    """The rules a case's facts are computed under: the active playbook's SLA calendars, who is in which team."""
    source = active_source(session)
    policies, default_policy, dues = _calendars(source if source is not None else
                                                DEFAULT_PLAYBOOK.read_text(encoding="utf-8"))
    user_teams: dict[str, set[int]] = defaultdict(set)
    for email, team_id in _core(session, _q().user_teams):
        user_teams[email].add(team_id)
    return Context(policies=policies, default_policy=default_policy, dues=dues,
                   user_teams={k: frozenset(v) for k, v in user_teams.items()},
                   sales_team_id=_core(session, _q().sales).scalar())


@lru_cache(maxsize=8)
def _calendars(source: str) -> tuple[dict, str | None, dict]:
    """A playbook's SLA policies, parsed once per text (parsing the YAML was half of every upkeep pass),
    and the due times counted under them (kept while the text is the same: a policy is known by its name)."""
    try:
        book = Playbook.from_yaml(source)
    except Exception:  # noqa: BLE001 - a broken active playbook: the routing falls back the same way
        book = default_playbook()
    return book.sla_policies, book.default_sla, {}


def sources(session: Session, case_ids: Iterable[int], top: int | None = None) -> list[CaseSource]:
    """Everything a case's facts are computed from, for many cases with one query per table. `top`: only
    what the events up to that id brought (a message whose processing event comes later is folded in by
    the next upkeep pass, which would otherwise count it twice)."""
    ids = sorted(set(case_ids))
    if not ids:
        return []
    out = cases_by_id(session, ids)
    where = Message.case_id.in_(ids)
    if top is not None:
        where = and_(where, Message.id.not_in(select(Event.message_id).where(
            Event.id > top, Event.kind == "message.processed", Event.message_id.is_not(None))))
    for case_id, row in _messages(session, _message_columns().where(where)):
        if case_id in out:
            out[case_id].messages.append(row)
    for case_id, e in _events(session, ids, top):
        out[case_id].events.append(e)
    _teams(session, out)
    _approvals(session, out)
    return [out[i] for i in ids if i in out]


def _events(session: Session, ids: list[int], top: int | None) -> Iterable[tuple[int, EventRow]]:
    query, params = (_q().events, {"ids": ids}) if top is None else (_q().events_upto, {"ids": ids, "top": top})
    for case_id, kind, actor, created_at, data in _rows(session, query, params):  # unpacked: attributes cost more
        yield case_id, EventRow(kind, actor, created_at, data or {})


def _approvals(session: Session, out: dict[int, CaseSource]) -> None:
    for case_id, team_id, requested_at, decided_at in _rows(session, _q().approvals, {"ids": list(out)}):
        out[case_id].approvals.append(ApprovalRow(team_id, requested_at, decided_at))


def history(session: Session, out: dict[int, CaseSource], after: int, actors: Iterable[str]) -> None:
    """For cases a team joined (a fold must then count what its members did before): the events already
    folded into their facts (up to the watermark) and their approvals, added to their increments. Only the
    events of `actors` (the teams' members: a team's part counts nothing else, facts.team_rows), without
    their data (it reads none): a case a team joins has the pipeline's events of every message before."""
    if not out:
        return
    for src in out.values():
        src.history = []
    if actors := sorted(actors):
        for case_id, kind, actor, created_at in _rows(session, _q().history, {"ids": sorted(out), "top": after,
                                                                             "actors": actors}):
            out[case_id].history.append(EventRow(kind, actor, created_at))
    _approvals(session, out)


def cases_by_id(session: Session, ids: list[int]) -> dict[int, CaseSource]:
    """The cases' rows (what a fold reads again every time), each with no messages or events yet."""
    return {c[0]: CaseSource(CaseRow(*c[:9], _json(c[9]), *c[10:])) for c in _rows(session, _q().cases, {"ids": ids})}


def _json(value):
    """A JSON value the select reads as text (`_as_text`): decoded here unless it is the usual empty list
    (decoding '[]' for every case's tags and message's products was a fifth of reading the increments), and
    each text once (a catch-up pass reads tens of thousands of messages naming a few products: decoding
    each was a tenth of it). Lists come as a new list each time (the decoded value is shared: not to be
    changed in place). PostgreSQL's driver gives it decoded already."""
    if value.__class__ is not str:
        return value
    if value == "[]":
        return []
    decoded = _decoded(value)
    return list(decoded) if decoded.__class__ is list else decoded


@lru_cache(maxsize=4096)
def _decoded(text: str):
    return json.loads(text)


def _as_text(column):
    return type_coerce(column, String)


def _teams(session: Session, out: dict[int, CaseSource]) -> None:
    for case_id, team_id, role, added_at in _rows(session, _q().teams, {"ids": list(out)}):
        out[case_id].teams.append(TeamRow(team_id, role, added_at))


def _message_columns():
    # Only the triage fields the facts read, extracted by the database (the whole triage document, with its
    # explanations, was most of the upkeep's reading).
    t = Message.triage
    return select(Message.case_id, Message.direction, Message.kind, Message.created_at, Message.status,
                  t["sentiment"].as_string(), Message.language, _as_text(t["products"].as_json()),
                  t["intent"].as_string(), t["complaint"].as_boolean(), Message.text, Message.deleted_at, Message.id)


def _messages(session: Session, query, params: dict | None = None) -> Iterable[tuple[int, MessageRow]]:
    for m in _core(session, query, params):  # built per call (`sources`): not a cached plan
        yield m[0], _message(*m[1:])


def _message(direction, kind, created_at, status, sentiment, language, products, intent, complaint, text,
             deleted_at, mid) -> MessageRow:
    # Arguments by position (a recomputation builds one per message of its cases): cheaper than by keyword.
    return MessageRow(direction, kind, created_at, status, sentiment, language,
                      products if (products := _json(products)).__class__ is list else [],
                      intent, bool(complaint), recommended(direction, sentiment, intent, text),
                      deleted_at is not None, mid)


def increments(session: Session, events: dict[int, list[EventRow]], messages: dict[int, list[MessageRow]]
               ) -> dict[int, CaseSource]:
    """What happened to these cases since their facts were stored: each case's row and teams as they are
    now, with the given events and the messages they processed (the case's other messages are not read)."""
    out = cases_by_id(session, sorted(events))
    for case_id, src in out.items():
        src.events.extend(events[case_id])
        src.messages.extend(messages.get(case_id, ()))
    if out:
        _teams(session, out)
    return out


def write_facts(session: Session, cases: list[dict], teams: list[dict], old: dict[tuple, dict],
                old_teams: dict[tuple, dict]) -> None:
    """Store these cases' new facts in place of their old ones (keyed by case id, and case and team id):
    a row that is new is inserted, one that is gone (a deleted case, a team removed) deleted, one that
    changed updated in the columns that changed (an unchanged column leaves its indexes alone)."""
    _write_rows(session, CaseFacts.__table__, {(f["case_id"],): f for f in cases}, old)
    _write_rows(session, TeamFacts.__table__, {(t["case_id"], t["team_id"]): t for t in teams}, old_teams)


def _write_rows(session: Session, table, rows: dict[tuple, dict], old: dict[tuple, dict]) -> None:
    keys, where = _by_key(table.name)
    gone = [dict(zip([f"k_{k}" for k in keys], key, strict=True)) for key in old if key not in rows]
    if gone:
        session.execute(delete(table).where(where), gone)
    changed = [(key, row) for key, row in rows.items() if key in old and row != old[key]]
    # The columns that changed in any row, from the rows' items (in C: comparing each column in Python was a
    # tenth of a catch-up pass). Every value of a facts row is hashable, and both rows have every column.
    differ: set[str] = set()
    for key, row in changed:
        differ.update(k for k, _ in row.items() - old[key].items())
    columns = tuple(sorted(differ))
    if changed and columns:
        # Straight to the driver as the inserts (its plan is kept per set of columns: a handful in practice).
        executemany(session, f"reports.{table.name}.update", _update(table.name, columns),
                    [{**{f"k_{k}": v for k, v in zip(keys, key, strict=True)}, **{c: row[c] for c in columns}}
                     for key, row in changed], shared_times=False)
    inserted = [row for key, row in rows.items() if key not in old]
    if inserted:
        insert_rows(session, table, inserted)


FACTS_TABLES = {t.name: t for t in (CaseFacts.__table__, TeamFacts.__table__)}


@lru_cache(maxsize=4)
def _by_key(name: str) -> tuple[list[str], object]:
    """A facts table's key columns and its row-by-key condition (`k_<column>` parameters), built once."""
    table = FACTS_TABLES[name]
    keys = [c.name for c in table.primary_key.columns]
    return keys, and_(*(table.c[k] == bindparam(f"k_{k}") for k in keys))


@lru_cache(maxsize=256)
def _update(name: str, columns: tuple[str, ...]):
    """The update of these columns of a facts row by its key, built once per set of columns."""
    return update(FACTS_TABLES[name]).where(_by_key(name)[1]).values({c: bindparam(c) for c in columns})


def insert_rows(session: Session, table, rows: list[dict], stmt=None) -> None:
    """Insert rows of `table` (`stmt`: an upsert of them built once; else `table.insert()`), straight to the
    driver on SQLite (db.executemany: SQLAlchemy's handling of each row's parameters cost twice the insert
    itself, 36 us of CPU per facts row)."""
    name = f"reports.{table.name}" + (".insert" if stmt is None else ".upsert")
    executemany(session, name, table.insert() if stmt is None else stmt, rows, shared_times=False)


def clear_facts(session: Session) -> None:
    session.execute(delete(TeamFacts))
    session.execute(delete(CaseFacts))
    session.execute(delete(ContactDay))
    session.execute(delete(TeamContactDay))
    for table in AGGREGATES.values():
        session.execute(delete(table))


def analyze(session: Session) -> None:
    """Fresh planner statistics after a rebuild: with none (a new table), PostgreSQL planned the advocacy
    count as a nested loop over every customer, 8 s instead of 30 ms."""
    if session.bind.dialect.name == "postgresql":
        session.execute(text("ANALYZE " + ", ".join(t.name for t in (CaseFacts.__table__, TeamFacts.__table__,
                                                                     ContactDay.__table__, TeamContactDay.__table__,
                                                                     *AGGREGATES.values()))))


def stored_facts(session: Session, case_ids: list[int]) -> tuple[dict[int, dict], dict[int, list[dict]]]:
    """The facts rows these cases have now: what a fold starts from, and their old part of the aggregates."""
    cases: dict[int, dict] = {}
    teams: dict[int, list[dict]] = defaultdict(list)
    for chunk in chunks(case_ids, 500):
        # Each row zipped with its columns' names (a mapping per row, then a dict of it, cost twice as much).
        names, rows = select_rows(session, _q().facts, {"ids": chunk})
        cases.update((r[0], dict(zip(names, r, strict=True))) for r in rows)
        names, rows = select_rows(session, _q().team_facts, {"ids": chunk})
        for r in rows:
            teams[r[0]].append(dict(zip(names, r, strict=True)))
    return cases, teams


def keyed(cases: dict[int, dict], teams: dict[int, list[dict]]) -> tuple[dict[tuple, dict], dict[tuple, dict]]:
    """The stored rows by primary key (what `write_facts` compares the new ones with)."""
    return ({(i,): f for i, f in cases.items()},
            {(t["case_id"], t["team_id"]): t for rows in teams.values() for t in rows})


AGGREGATES = {"daily": DailyFacts.__table__, "volume": DailyVolume.__table__, "hist": DailyHistogram.__table__,
              "day_hist": DayHistogram.__table__, "month_hist": MonthHistogram.__table__,
              "team": DailyTeam.__table__}


def apply_deltas(session: Session, deltas: Deltas) -> None:
    """Add the deltas to the per-day tables (insert or add), then drop the rows whose count fell to 0."""
    by_table: dict[str, list[tuple[tuple, dict]]] = defaultdict(list)
    # Sorted so that two writers on PostgreSQL take the rows' locks in the same order.
    for (name, *key), values in sorted(deltas.items(), key=lambda kv: tuple(map(str, kv[0]))):
        if any(values.values()):
            by_table[name].append((tuple(key), values))
    conn = session.connection()
    for name, rows in by_table.items():
        keys, values, upsert, drop = _upsert(session.bind.dialect.name, name)
        zeros = (0,) * len(values)  # every value column, 0 where nothing moved (read in C: map, zip)
        insert_rows(session, AGGREGATES[name], [{**dict(zip(keys, key, strict=True)),
                                                 **dict(zip(values, map(d.get, values, zeros), strict=True))}
                                                for key, d in rows], upsert)
        count = COUNT_COLUMN[name]
        gone = [dict(zip([f"k_{k}" for k in keys], key, strict=True)) for key, d in rows if d.get(count, 0) < 0]
        if gone:
            conn.execute(drop, gone)


@lru_cache(maxsize=32)
def _upsert(dialect: str, name: str) -> tuple[list[str], list[str], object, object]:
    """A per-day table's key and value columns, its add-or-insert and its drop-if-empty statements, built
    once (building them on every pass was a sixth of the writing)."""
    table = AGGREGATES[name]
    keys = [c.name for c in table.primary_key.columns]
    values = [c.name for c in table.columns if c.name not in keys]
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    upsert = stmt.on_conflict_do_update(index_elements=keys, set_={v: table.c[v] + stmt.excluded[v] for v in values})
    drop = delete(table).where(and_(*(table.c[k] == bindparam(f"k_{k}") for k in keys)),
                               table.c[COUNT_COLUMN[name]] <= 0)
    return keys, values, upsert, drop


def refresh_keys(session: Session, contact_ids: Iterable[int | None]) -> None:
    """Recompute these customers' rows by day (report_contact_days) from their case facts and their followers
    now (after write_facts; every customer of a touched case and every author of a message folded, so a change
    of followers is caught too). Only the rows that changed are written."""
    ids, q = sorted({i for i in contact_ids if i is not None}), _q()
    for chunk in chunks(ids, 500):
        cases: dict[int, list] = defaultdict(list)
        followers: dict[int, int | None] = {}
        for cid, day, adv, det, team, channel, known, reach in _rows(session, q.contact_cases, {"ids": chunk}):
            cases[cid].append((day, adv, det, team, channel))
            followers[cid] = reach if known is not None else None
        # Per customer and day (report_contact_days), and per team, customer and day (report_team_contact_days,
        # reports/team_customers.py).
        _write_changed(session, "reports.contact_days.update", ContactDay.__table__, DAY_KEY, DAY_VALUES,
                       {(r[0], r[1]): tuple(r[2:]) for r in _rows(session, q.contact_days, {"ids": chunk})},
                       {(cid, r["from_day"]): tuple(r[c] for c in DAY_VALUES) for cid, rows_ in cases.items()
                        for r in days(rows_, followers.get(cid))}, q.contact_day_drop, q.contact_day_update)
        _write_changed(session, "reports.team_contact_days.update", TeamContactDay.__table__, TEAM_DAY_KEY,
                       TEAM_DAY_VALUES, {(r[0], r[1], r[2]): tuple(r[3:]) for r in
                                         _rows(session, q.team_days, {"ids": chunk})},
                       {(cid, r["team_id"], r["from_day"]): (r["to_day"], r["first_day"])
                        for cid, rows_ in cases.items() for r in team_days((c[0], c[3]) for c in rows_)},
                       q.team_day_drop, q.team_day_update)


def _write_changed(session: Session, name: str, table, key: tuple[tuple[str, str], ...], values: tuple[str, ...],
                   old: dict[tuple, tuple], new: dict[tuple, tuple], drop, update) -> None:
    """Write `new` over `old` (both {key values: the other columns' values}, `old` as stored): rows gone dropped,
    rows that differ updated, new rows inserted; an unchanged row is not written. `key` pairs each key column with
    the bind parameter `drop` and `update` find the row by."""
    params = [p for _, p in key]
    gone = [dict(zip(params, k, strict=True)) for k in old if k not in new]
    if gone:
        session.connection().execute(drop, gone)
    changed = [{**dict(zip(params, k, strict=True)), **dict(zip(values, v, strict=True))}
               for k, v in new.items() if k in old and old[k] != v]
    if changed:
        executemany(session, name, update, changed)
    columns = [c for c, _ in key]
    inserted = [{**dict(zip(columns, k, strict=True)), **dict(zip(values, v, strict=True))}
                for k, v in new.items() if k not in old]
    if inserted:
        insert_rows(session, table, inserted)


# report_contact_days' key (each column with the bind parameter its statements find a row by) and columns past it
DAY_KEY = (("contact_id", "k_c"), ("from_day", "k_d"))
DAY_VALUES = ("to_day", "adv_w", "det_w", "adv_until", "det_until", "keys_last", "keys_next")
# report_team_contact_days' the same
TEAM_DAY_KEY = (("contact_id", "k_c"), ("team_id", "k_t"), ("from_day", "k_d"))
TEAM_DAY_VALUES = ("to_day", "first_day")


def all_case_ids(session: Session, after: int, limit: int) -> list[int]:
    return list(session.scalars(select(Case.id).where(Case.id > after).order_by(Case.id).limit(limit)))


def state(session: Session, lock: bool = False) -> tuple[int, object]:
    """(the last event id the facts include, when the upkeep last read). `lock`: held to the end of the
    transaction on PostgreSQL, so that two upkeep runners (every web node has one) take turns writing."""
    row = _core(session, _q().state_lock if lock and session.bind.dialect.name == "postgresql" else _q().state).first()
    return (row[0], row[1]) if row else (0, None)


def set_watermark(session: Session, event_id: int, now, force: bool = False) -> None:
    """Move the watermark to `event_id` (never back, unless `force`). One UPDATE on the connection: through
    the ORM (get, then a flush with its hooks at commit) it cost a tenth of a pass's writing."""
    done = _core(session, _q().watermark_force if force else _q().watermark, {"e": event_id, "now": now})
    if done.rowcount == 0:
        session.add(ReportState(key=STATE_KEY, last_event_id=event_id, updated_at=now))


def max_event_id(session: Session) -> int:
    return session.scalar(select(func.max(Event.id))) or 0


def event_top(session: Session, after_id: int, limit: int) -> tuple[int, bool]:
    """The last event id a pass reads: the `limit`-th past `after_id`, or the last there is; and whether
    that cut the events short (more are left for another step)."""
    last = _core(session, _q().last_event, {"after": after_id}).scalar()
    if last is None:
        return after_id, False
    # Event ids are distinct integers: fewer than `limit` of them lie in (after_id, last] when that range is
    # shorter, so the `limit`-th is not looked for. It is found by walking the index past the watermark (every
    # event of a catch-up pass, ~100,000, a few hundredths of a second of its CPU); the last id is one seek.
    if last - after_id < limit:
        return last, False
    top = _core(session, _q().nth_event, {"after": after_id, "offset": limit - 1}).scalar()
    return (top, True) if top is not None else (last, False)


def new_events(session: Session, after_id: int, top: int) -> list:
    """The events in (after_id, top], oldest first (id, case id, message id, kind, actor, time, data), but for
    those that only say a message was processed into a case (`reports.processed` reads those, with their
    messages): they are most of the events and change nothing else in a case's facts."""
    return _rows(session, _q().new_events, {"after": after_id, "top": top})


def late_cases(session: Session, after_id: int, since, overlap: bool) -> set[int]:
    """Cases to recompute whatever the events say: on PostgreSQL an event with a lower id can commit after
    a higher one (`overlap`: those of the last moments, at or under the watermark, are read again), and
    deciding an approval records no case event (a rejected reply leaves none at all)."""
    ids: set[int] = set()
    if overlap:
        ids |= set(_core(session, _q().late_events, {"since": since, "after": after_id}).scalars())
    ids |= set(_core(session, _q().decided, {"since": since}).scalars())
    return ids


def authors(session: Session, message_ids: list[int]) -> set[int]:
    """The contacts who wrote these messages (those of the messages that failed: few)."""
    out: set[int] = set()
    for chunk in chunks(sorted(message_ids), 500):
        out.update(_core(session, _q().authors, {"ids": chunk}).scalars())
    out.discard(None)
    return out


def late_authors(session: Session, after_id: int, since) -> set[int]:
    """The authors of the messages whose processing events are of the last moments at or under the
    watermark (PostgreSQL: the late cases' authors, see `late_cases`)."""
    out = set(_core(session, _q().late_authors, {"since": since, "after": after_id}).scalars())
    out.discard(None)
    return out


def cases_of(session: Session, contact_ids: Iterable[int]) -> set[int]:
    """Every case of these contacts."""
    ids = sorted(contact_ids)
    return set(_core(session, _q().cases_of, {"ids": ids}).scalars()) if ids else set()


def _core(session: Session, query, params: dict | None = None):
    """Run a select of columns on the session's connection: the rows as Core gives them (through the ORM's
    result handling, each row cost about twice as much; a pass reads a few rows per case)."""
    return session.connection().execute(query, params)


def _rows(session: Session, query, params: dict | None = None) -> list:
    """The rows of one of `_q()`'s selects that returns many (db.select_rows: on SQLite from the driver's
    cursor, each value through its column's processor, rather than SQLAlchemy's result handling)."""
    return select_rows(session, query, params)[1]


@lru_cache(maxsize=1)
def _q() -> SimpleNamespace:
    """The upkeep's statements over a list of ids (`:ids`, expanded when run), built once: building them
    on every pass was a tenth of its work."""
    ids = bindparam("ids", expanding=True)
    r, d, t = ReportState.__table__, ContactDay.__table__, TeamContactDay.__table__
    day_key = and_(*[d.c[c] == bindparam(p) for c, p in DAY_KEY])
    team_key = and_(*[t.c[c] == bindparam(p) for c, p in TEAM_DAY_KEY])
    state = select(ReportState.last_event_id, ReportState.updated_at).where(ReportState.key == STATE_KEY)
    events = select(Event.case_id, Event.kind, Event.actor, Event.created_at, Event.data).where(Event.case_id.in_(ids))
    return SimpleNamespace(
        cases=select(Case.id, Case.status, Case.priority, Case.created_at, Case.lead_team_id, Case.channel_id,
                     Case.contact_id, Case.intent, Case.topic, _as_text(Case.tags), Case.incident_id, Case.sla_policy,
                     Case.first_response_at, Case.resolved_at).where(Case.id.in_(ids)),
        teams=select(CaseTeam.case_id, CaseTeam.team_id, CaseTeam.role, CaseTeam.added_at)
        .where(CaseTeam.case_id.in_(ids)),
        facts=select(CaseFacts.__table__).where(CaseFacts.case_id.in_(ids)),
        team_facts=select(TeamFacts.__table__).where(TeamFacts.case_id.in_(ids)),
        contact_cases=select(CaseFacts.contact_id, CaseFacts.opened_day, CaseFacts.adv_w, CaseFacts.det_w,
                             CaseFacts.lead_team_id, CaseFacts.channel_id, Contact.id, Contact.followers)
        .outerjoin(Contact, Contact.id == CaseFacts.contact_id)
        .where(CaseFacts.contact_id.in_(ids)).order_by(CaseFacts.contact_id, CaseFacts.opened_day, CaseFacts.case_id),
        contact_days=select(d.c.contact_id, d.c.from_day, *[d.c[v] for v in DAY_VALUES]).where(d.c.contact_id.in_(ids)),
        contact_day_drop=d.delete().where(day_key),
        contact_day_update=d.update().where(day_key).values({v: bindparam(v) for v in DAY_VALUES}),
        team_days=select(*[t.c[c] for c, _ in TEAM_DAY_KEY], *[t.c[v] for v in TEAM_DAY_VALUES])
        .where(t.c.contact_id.in_(ids)),
        team_day_drop=t.delete().where(team_key),
        team_day_update=t.update().where(team_key).values({v: bindparam(v) for v in TEAM_DAY_VALUES}),
        events=events, events_upto=events.where(Event.id <= bindparam("top")),
        history=select(Event.case_id, Event.kind, Event.actor, Event.created_at)
        .where(Event.case_id.in_(ids), Event.id <= bindparam("top"),
               Event.actor.in_(bindparam("actors", expanding=True))),
        approvals=select(Approval.case_id, Approval.approver_team_id, Approval.requested_at, Approval.decided_at)
        .where(Approval.case_id.in_(ids)),
        # The data only of the kinds the facts read it from (decoding every event's JSON was a tenth of a pass).
        new_events=select(Event.id, Event.case_id, Event.message_id, Event.kind, Event.actor, Event.created_at,
                          type_coerce(case((Event.kind.in_(EVENT_DATA_KINDS), Event.data), else_=null()),
                                      Event.data.type).label("data"))
        .where(Event.id > bindparam("after"), Event.id <= bindparam("top"), Event.kind.not_in(MESSAGE_KINDS))
        .order_by(Event.id),
        nth_event=select(Event.id).where(Event.id > bindparam("after")).order_by(Event.id).limit(1)
        .offset(bindparam("offset")),
        last_event=select(func.max(Event.id)).where(Event.id > bindparam("after")),
        authors=select(Message.contact_id).where(Message.id.in_(ids)).distinct(),
        late_authors=select(Message.contact_id).join(Event, Event.message_id == Message.id)
        .where(Event.created_at >= bindparam("since"), Event.id <= bindparam("after"),
               Event.kind.in_(("message.processed", "message.failed"))).distinct(),
        cases_of=select(Case.id).where(Case.contact_id.in_(ids)),
        late_events=select(Event.case_id).where(Event.created_at >= bindparam("since"),
                                                Event.id <= bindparam("after"), Event.case_id.is_not(None)).distinct(),
        state=state, state_lock=state.with_for_update(),
        watermark=r.update().where(r.c.key == STATE_KEY).values(
            last_event_id=case((r.c.last_event_id > bindparam("e"), r.c.last_event_id), else_=bindparam("e")),
            updated_at=bindparam("now")),
        watermark_force=r.update().where(r.c.key == STATE_KEY).values(last_event_id=bindparam("e"),
                                                                     updated_at=bindparam("now")),
        user_teams=select(User.email, UserTeam.team_id).join(UserTeam, UserTeam.user_id == User.id),
        sales=select(Team.id).where(Team.key == "sales"),
        decided=select(Approval.case_id).where(Approval.decided_at >= bindparam("since"),
                                               Approval.case_id.is_not(None)).distinct(),
    )
