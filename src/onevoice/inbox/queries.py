"""Which cases a queue shows, in order, a page at a time, through the indexes.

A queue is a union of index ranges (one per team the viewer works in, per status, and per priority when
sorting by priority). Each range is read in index order with a keyset cursor and LIMIT, and the ranges are
merged here: no query ever sorts a whole queue, so a page costs the same with 300 or 300,000 open cases.
Queues that are small by nature (waiting for approval, incidents, search hits) start from their ids.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime

from sqlalchemy import String, and_, cast, exists, or_, select
from sqlalchemy.orm import Session

from onevoice.approvals.models import Approval
from onevoice.auth.principal import Principal
from onevoice.cases.access import partner_case_conditions, visible_ids
from onevoice.cases.models import PRIORITIES, Case, CaseTeam, Incident
from onevoice.channels.models import Channel
from onevoice.errors import InvalidInput
from onevoice.inbox.filters import Filters, check_queue
from onevoice.inbox.search import matching_case_ids
from onevoice.messages.models import Message
from onevoice.teams.models import Team
from onevoice.teams.service import team_id

URGENT_FIRST = tuple(reversed(PRIORITIES))
CANDIDATE_CAP = 2000


def encode_cursor(key: tuple) -> str:
    raw = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()


def decode_cursor(cursor: str | None, sort: str) -> tuple | None:
    if not cursor:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if sort == "priority":
            return raw[0], datetime.fromisoformat(raw[1]), int(raw[2])
        return datetime.fromisoformat(raw[0]), int(raw[1])
    except (ValueError, TypeError, IndexError, json.JSONDecodeError):
        raise InvalidInput("invalid cursor: pass back the next_cursor of the previous page") from None


def sort_key(sort: str, case: Case | tuple) -> tuple:
    """The cursor key of a row: (last_message_at, id), (sla_due_at, id) or (priority, last_message_at, id)."""
    at, due, prio, cid = case if isinstance(case, tuple) else (case.last_message_at, case.sla_due_at,
                                                                case.priority, case.id)
    if sort == "sla":
        return due, cid
    if sort == "priority":
        return prio, at, cid
    return at, cid


def _order(sort: str, key: tuple) -> tuple:
    """A tuple that sorts ascending in display order, for merging ranges."""
    if sort == "sla":
        return key[0].timestamp(), key[1]
    if sort == "priority":
        return URGENT_FIRST.index(key[0]), -key[1].timestamp(), -key[2]
    return -key[0].timestamp(), -key[1]


def _case_filters(session: Session, f: Filters, queue: str, who: Principal, now: datetime) -> list:
    # A partner's queues hold only cases on their granted channels (cases.access has the rule).
    conds = partner_case_conditions(who)
    if f.channel:
        conds.append(Case.channel_id == (session.scalar(select(Channel.id).where(Channel.key == f.channel)) or -1))
    for name in ("intent", "sentiment", "priority"):
        if getattr(f, name):
            conds.append(getattr(Case, name) == getattr(f, name))
    if f.product:
        conds.append(Case.topic == f.product)
    if f.tag:
        conds.append(cast(Case.tags, String).like(f'%"{f.tag.replace("%", "").replace("_", "?")}"%'))
    if f.language:
        conds.append(exists().where(Message.case_id == Case.id, Message.language == f.language))
    if queue == "unassigned":
        conds.append(Case.assignee_id.is_(None))
    if queue == "breaching":
        conds.append(Case.sla_due_at < now)
    return conds


def _ranges(session: Session, who: Principal, queue: str, f: Filters) -> list:
    """(table, equality conditions, priority) for each index range the queue is made of."""
    prios = [f.priority] if f.priority else list(URGENT_FIRST)
    split = prios if f.sort == "priority" else [None]
    if queue == "mine":
        bases = [(Case, [Case.assignee_id == (who.user_id or -1)])]
    elif queue.startswith("team:"):
        key = queue[5:]
        tid = team_id(session, key)
        if tid is None or not (who.sees_all or tid in who.team_ids):
            raise InvalidInput(f"unknown team {key!r}")
        bases = [(CaseTeam, [CaseTeam.team_id == tid])]
    elif who.sees_all:
        bases = [(Case, [])]
    else:
        bases = [(CaseTeam, [CaseTeam.team_id == t]) for t in sorted(who.team_ids)]
    out = []
    for table, conds in bases:
        for status in f.statuses:
            for prio in split:
                extra = [table.status == status] + ([table.priority == prio] if prio else [])
                out.append((table, conds + extra, prio))
    return out


def _keyset(table, sort: str, cursor: tuple | None, prio_of_range: str | None):
    id_col = Case.id if table is Case else CaseTeam.case_id
    at, due = table.last_message_at, table.sla_due_at
    if sort == "sla":
        cond = [due.is_not(None)]
        if cursor:
            cond.append(or_(due > cursor[0], and_(due == cursor[0], id_col > cursor[1])))
        return cond, [due.asc(), id_col.asc()]
    order = [at.desc(), id_col.desc()]
    if cursor is None:
        return [], order
    if sort == "priority":
        cprio, cat, cid = cursor
        rank, crank = URGENT_FIRST.index(prio_of_range), URGENT_FIRST.index(cprio)
        if rank < crank:
            return None, order  # this whole range comes before the cursor
        if rank > crank:
            return [], order
        cursor = (cat, cid)
    return [or_(at < cursor[0], and_(at == cursor[0], id_col < cursor[1]))], order


def _candidates(session: Session, who: Principal, queue: str, f: Filters,
                only: list[int] | None = None) -> list[int] | None:
    """Explicit case ids for queues that are small by nature; None when the queue is read by ranges."""
    sets = [set(only)] if only is not None else []
    if queue == "approval":
        sets.append(set(session.scalars(select(Approval.case_id).where(Approval.status == "pending",
                                                                        Approval.case_id.is_not(None))
                                        .limit(CANDIDATE_CAP))))
    if queue == "incidents":
        sets.append(set(session.scalars(select(Case.id).join(Incident, Incident.id == Case.incident_id)
                                        .where(Incident.status == "open", Case.status.in_(f.statuses))
                                        .order_by(Case.incident_id.desc()).limit(CANDIDATE_CAP))))
    if f.incident:
        sets.append(set(session.scalars(select(Case.id).where(Case.incident_id == int(f.incident),
                                                             Case.status.in_(f.statuses)).limit(CANDIDATE_CAP))))
    if f.q:
        sets.append(set(matching_case_ids(session, f.q)))
    if not sets:
        return None
    ids = set.intersection(*sets)
    return sorted(visible_ids(session, who, list(ids)))


def queue_case_ids(session: Session, who: Principal, queue: str, f: Filters, cursor: str | None,
                   limit: int, now: datetime, only: list[int] | None = None) -> tuple[list[int], str | None]:
    """One page of case ids for this queue and the cursor of the next page (None at the end).

    `only` restricts the answer to these ids: "does this changed case belong in the reader's queue?"
    """
    check_queue(queue)
    limit = max(1, min(limit, 200))
    cur = decode_cursor(cursor, f.sort)
    conds = _case_filters(session, f, queue, who, now)
    candidates = _candidates(session, who, queue, f, only)
    rows: list[tuple] = []
    if candidates is not None:
        if candidates:
            base = [Case.id.in_(candidates), Case.status.in_(f.statuses)]
            if queue == "mine":
                base.append(Case.assignee_id == (who.user_id or -1))
            elif queue.startswith("team:"):
                base.append(exists().where(CaseTeam.case_id == Case.id, Team.id == CaseTeam.team_id,
                                           Team.key == queue[5:]))
                if not (who.sees_all or queue[5:] in who.team_keys):
                    raise InvalidInput(f"unknown team {queue[5:]!r}")
            rows += _read(session, Case, base + conds, f.sort, cur, None, limit)
    else:
        for table, rconds, prio in _ranges(session, who, queue, f):
            rows += _read(session, table, rconds, f.sort, cur, prio, limit, conds)
    rows.sort(key=lambda r: _order(f.sort, r))
    page, seen = [], set()
    for r in rows:
        if r[-1] not in seen:
            seen.add(r[-1])
            page.append(r)
    more = len(page) > limit
    page = page[:limit]
    return [r[-1] for r in page], encode_cursor(page[-1]) if more and page else None


def _read(session, table, conds, sort, cur, prio, limit, case_conds=()) -> list[tuple]:
    if sort == "priority" and prio is None:
        # The candidates path: sort by priority rank in Python after reading the small set.
        q = select(Case.priority, Case.last_message_at, Case.id).where(*conds)
        return [tuple(r) for r in session.execute(q)
                if cur is None or _order("priority", tuple(r)) > _order("priority", cur)]
    keyset, order = _keyset(table, sort, cur, prio)
    if keyset is None:
        return []
    id_col = Case.id if table is Case else CaseTeam.case_id
    cols = {"sla": [table.sla_due_at, id_col], "priority": [table.priority, table.last_message_at, id_col]}
    q = select(*cols.get(sort, [table.last_message_at, id_col]))
    if table is CaseTeam and case_conds:
        q = q.join(Case, Case.id == CaseTeam.case_id)
    q = q.where(*conds, *case_conds, *keyset).order_by(*order).limit(limit + 1)
    return [tuple(r) for r in session.execute(q)]
