"""Every query of the reports: reading a case's sources, writing its facts, the upkeep's watermark."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

from sqlalchemy import and_, bindparam, delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from onevoice.advocacy.ranking import recommends
from onevoice.approvals.models import Approval
from onevoice.auth.models import User, UserTeam
from onevoice.cases.models import Case, CaseTeam
from onevoice.contacts.models import Contact
from onevoice.events.models import Event
from onevoice.messages.models import Message
from onevoice.reports.aggregate import COUNT_COLUMN, Deltas
from onevoice.reports.facts import ApprovalRow, CaseRow, CaseSource, Context, EventRow, MessageRow, TeamRow
from onevoice.reports.models import (
    CaseFacts,
    ContactSignals,
    DailyFacts,
    DailyHistogram,
    DailyTeam,
    DailyVolume,
    ReportState,
    TeamFacts,
)
from onevoice.reports.ranking import until
from onevoice.routing.factory import DEFAULT_PLAYBOOK, active_row, default_playbook
from onevoice.routing.playbook import Playbook
from onevoice.teams.models import Team

STATE_KEY = "facts"


def context(session: Session) -> Context:
    """The rules a case's facts are computed under: the active playbook's SLA calendars, who is in which team."""
    row = active_row(session)
    source = row.source if row is not None else DEFAULT_PLAYBOOK.read_text(encoding="utf-8")
    policies, default_policy = _calendars(source)
    user_teams: dict[str, set[int]] = defaultdict(set)
    for email, team_id in session.execute(select(User.email, UserTeam.team_id).join(UserTeam,
                                                                                     UserTeam.user_id == User.id)):
        user_teams[email].add(team_id)
    return Context(policies=policies, default_policy=default_policy,
                   user_teams={k: frozenset(v) for k, v in user_teams.items()},
                   sales_team_id=session.scalar(select(Team.id).where(Team.key == "sales")))


@lru_cache(maxsize=8)
def _calendars(source: str) -> tuple[dict, str | None]:
    """A playbook's SLA policies, parsed once per text (parsing the YAML was half of every upkeep pass)."""
    try:
        book = Playbook.from_yaml(source)
    except Exception:  # noqa: BLE001 - a broken active playbook: the routing falls back the same way
        book = default_playbook()
    return book.sla_policies, book.default_sla


def sources(session: Session, case_ids: Iterable[int]) -> list[CaseSource]:
    """Everything a case's facts are computed from, for many cases with one query per table."""
    ids = sorted(set(case_ids))
    if not ids:
        return []
    out: dict[int, CaseSource] = {}
    for c in session.execute(select(Case.id, Case.status, Case.priority, Case.created_at, Case.lead_team_id,
                                    Case.channel_id, Case.contact_id, Case.intent, Case.topic, Case.tags,
                                    Case.incident_id, Case.sla_policy, Case.first_response_at, Case.resolved_at)
                             .where(Case.id.in_(ids))):
        out[c.id] = CaseSource(CaseRow(*c))
    # Only the triage fields the facts read, extracted by the database (the whole triage document, with its
    # explanations, was most of the upkeep's reading).
    t = Message.triage
    for m in session.execute(select(Message.case_id, Message.direction, Message.kind, Message.created_at,
                                    Message.status, t["sentiment"].as_string(), Message.language,
                                    t["products"].as_json(), t["intent"].as_string(),
                                    t["complaint"].as_boolean(), Message.text, Message.deleted_at)
                             .where(Message.case_id.in_(ids))):
        (case_id, direction, kind, created_at, status, sentiment, language, products, intent, complaint, text,
         deleted_at) = m
        if case_id in out:
            inbound = direction == "inbound"
            out[case_id].messages.append(MessageRow(
                direction, kind, created_at, status, sentiment, language,
                list(products or []) if isinstance(products, list) else [], intent=intent,
                complaint=bool(complaint), recommendation=inbound and recommends(text),
                deleted=deleted_at is not None))
    for e in session.execute(select(Event.case_id, Event.kind, Event.actor, Event.created_at, Event.data)
                             .where(Event.case_id.in_(ids))):
        out[e.case_id].events.append(EventRow(e.kind, e.actor, e.created_at, e.data or {}))
    for t in session.execute(select(CaseTeam.case_id, CaseTeam.team_id, CaseTeam.role, CaseTeam.added_at)
                             .where(CaseTeam.case_id.in_(ids))):
        out[t.case_id].teams.append(TeamRow(t.team_id, t.role, t.added_at))
    for a in session.execute(select(Approval.case_id, Approval.approver_team_id, Approval.requested_at,
                                    Approval.decided_at).where(Approval.case_id.in_(ids))):
        out[a.case_id].approvals.append(ApprovalRow(a.approver_team_id, a.requested_at, a.decided_at))
    return [out[i] for i in ids if i in out]


def replace_facts(session: Session, case_ids: list[int], cases: list[dict], teams: list[dict]) -> None:
    """Swap the facts of these cases for freshly computed ones (a deleted case just loses its rows)."""
    for chunk in _chunks(case_ids, 500):
        session.execute(delete(TeamFacts).where(TeamFacts.case_id.in_(chunk)))
        session.execute(delete(CaseFacts).where(CaseFacts.case_id.in_(chunk)))
    # Core executemany: the ORM's bulk insert splits rows by which columns are NULL (one statement each).
    if cases:
        session.execute(CaseFacts.__table__.insert(), cases)
    if teams:
        session.execute(TeamFacts.__table__.insert(), teams)


def clear_facts(session: Session) -> None:
    session.execute(delete(TeamFacts))
    session.execute(delete(CaseFacts))
    for table in AGGREGATES.values():
        session.execute(delete(table))


def analyze(session: Session) -> None:
    """Fresh planner statistics after a rebuild: with none (a new table), PostgreSQL planned the advocacy
    count as a nested loop over every customer, 8 s instead of 30 ms."""
    if session.bind.dialect.name == "postgresql":
        session.execute(text("ANALYZE " + ", ".join(t.name for t in (CaseFacts.__table__, TeamFacts.__table__,
                                                                     *AGGREGATES.values()))))


def stored_facts(session: Session, case_ids: list[int]) -> tuple[list[dict], list[dict]]:
    """The facts rows these cases have now (what their old contribution to the aggregates was)."""
    cases: list[dict] = []
    teams: list[dict] = []
    for chunk in _chunks(case_ids, 500):
        cases.extend(dict(r) for r in session.execute(select(*AGGREGATED_CASE_COLUMNS)
                                                      .where(CaseFacts.case_id.in_(chunk))).mappings())
        teams.extend(dict(r) for r in session.execute(select(TeamFacts.__table__).where(TeamFacts.case_id.in_(chunk)))
                     .mappings())
    return cases, teams


AGGREGATED_CASE_COLUMNS = [CaseFacts.__table__.c[c] for c in (
    "case_id", "opened_day", "lead_team_id", "channel_id", "messages_in", "messages_out", "first_response_met",
    "resolution_met", "resolved", "reopens", "positive", "negative", "recovered", "lead", "lead_handed",
    "lead_outcome", "lead_value", "resolved_public", "kind", "intent", "language", "product",
    "first_response_s", "first_response_bh_s", "resolution_s", "resolution_bh_s", "contact_id", "adv_w", "det_w",
    "adv_n", "det_n", "recommendations")]
AGGREGATES = {"daily": DailyFacts.__table__, "volume": DailyVolume.__table__, "hist": DailyHistogram.__table__,
              "team": DailyTeam.__table__, "contact": ContactSignals.__table__}


def apply_deltas(session: Session, deltas: Deltas) -> None:
    """Add the deltas to the per-day tables (insert or add), then drop the rows whose count fell to 0."""
    by_table: dict[str, list[tuple[tuple, dict]]] = defaultdict(list)
    for (name, *key), values in sorted(deltas.items(), key=lambda kv: tuple(map(str, kv[0]))):
        if any(values.values()):
            by_table[name].append((tuple(key), values))
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    for name, rows in by_table.items():
        table = AGGREGATES[name]
        keys = [c.name for c in table.primary_key.columns]
        values = [c.name for c in table.columns if c.name not in keys]
        params = [{**dict(zip(keys, key, strict=True)), **{v: d.get(v, 0) for v in values}} for key, d in rows]
        stmt = insert(table)
        conn = session.connection()
        conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_={
            v: table.c[v] + stmt.excluded[v] for v in values}), params)
        count = COUNT_COLUMN[name]
        gone = [dict(zip([f"k_{k}" for k in keys], key, strict=True)) for key, d in rows if d.get(count, 0) < 0]
        if gone:
            conn.execute(delete(table).where(and_(*(table.c[k] == bindparam(f"k_{k}") for k in keys)),
                                                table.c[count] <= 0), gone)


def refresh_until(session: Session, contact_ids: Iterable[int | None]) -> None:
    """Recompute these customers' `adv_until` / `det_until` from their kept sums and their followers now
    (after apply_deltas; every customer of a touched case, so a change of followers is caught too)."""
    ids = sorted({i for i in contact_ids if i is not None})
    c = ContactSignals
    stmt = c.__table__.update().where(c.__table__.c.contact_id == bindparam("k")).values(
        adv_until=bindparam("a"), det_until=bindparam("d"))
    for chunk in _chunks(ids, 500):
        rows = session.execute(select(c.contact_id, c.adv_w, c.det_w, Contact.id, Contact.followers)
                               .outerjoin(Contact, Contact.id == c.contact_id).where(c.contact_id.in_(chunk))).all()
        params = [{"k": cid, "a": a, "d": d} for cid, adv, det, known, followers in rows
                  for a, d in [until(adv, det, followers) if known is not None else (None, None)]]
        if params:
            session.connection().execute(stmt, params)


def all_case_ids(session: Session, after: int, limit: int) -> list[int]:
    return list(session.scalars(select(Case.id).where(Case.id > after).order_by(Case.id).limit(limit)))


def watermark(session: Session) -> int:
    return session.scalar(select(ReportState.last_event_id).where(ReportState.key == STATE_KEY)) or 0


def set_watermark(session: Session, event_id: int, now, force: bool = False) -> None:
    state = session.get(ReportState, STATE_KEY, with_for_update=session.bind.dialect.name == "postgresql")
    if state is None:
        session.add(ReportState(key=STATE_KEY, last_event_id=event_id, updated_at=now))
    else:
        state.last_event_id = event_id if force else max(state.last_event_id, event_id)
        state.updated_at = now


def max_event_id(session: Session) -> int:
    return session.scalar(select(func.max(Event.id))) or 0


def touched_cases(session: Session, after_id: int, since, limit: int) -> tuple[set[int], int]:
    """Cases with an event past the watermark (up to `limit` events), plus those with an event since `since`:
    on PostgreSQL an event with a lower id can commit after a higher one, so the last moments are re-read."""
    rows = session.execute(select(Event.id, Event.case_id).where(Event.id > after_id).order_by(Event.id)
                           .limit(limit)).all()
    top = rows[-1].id if rows else after_id
    ids = {cid for _, cid in rows if cid is not None}
    ids |= set(session.scalars(select(Event.case_id).where(Event.created_at >= since, Event.id <= top,
                                                           Event.case_id.is_not(None)).distinct()))
    # Deciding an approval records no case event (a rejected reply leaves none at all): read them directly.
    ids |= set(session.scalars(select(Approval.case_id).where(Approval.decided_at >= since,
                                                              Approval.case_id.is_not(None)).distinct()))
    return ids, top


def last_run(session: Session):
    return session.scalar(select(ReportState.updated_at).where(ReportState.key == STATE_KEY))


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]
