"""Thread: put each message into its conversation and into the case that covers it.

A reply joins its parent's conversation and open case; a reply that arrives before its parent starts
the conversation under the parent's id, so the parent joins it when it lands (out-of-order delivery).
A new message from a contact with an open case on the same topic joins that case; otherwise a case opens.

A batch works on plain rows: a few queries load every conversation and case it can touch, placing is
decided in memory, and `write` stores the result with one executemany statement per table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from onevoice.cases.models import OPEN_STATUSES, PRIORITIES, Case, CaseTeam, Conversation
from onevoice.cases.queue import QUEUE_FIELDS, queue_fields, sync_queue
from onevoice.db import chunks, executemany
from onevoice.messages.models import Message
from onevoice.pipeline.rows import insert_ids
from onevoice.routing.types import Decision
from onevoice.triage.types import TriageResult

RANK = {p: i for i, p in enumerate(PRIORITIES)}
CASE_COLUMNS = ("id", "status", "priority", "topic", "lead_team_id", "contact_id", "channel_id", "incident_id",
                "requires_approval", "sla_due_at", "message_count", "last_message_at", "tags")
# Columns a batch may change on an existing case (message_count is added to, not overwritten); each is written
# only where it changed (CaseRow.stored).
CASE_CHANGES = ("status", "priority", "sla_due_at", "last_message_at", "requires_approval", "tags", "incident_id",
                "updated_at")


def case_topic(triage: TriageResult, decision: Decision) -> str:
    """What a case is about, for joining later messages: the product named, else the lead team."""
    if triage.products:
        return str(triage.products[0])[:100]
    if decision.close_as_spam:
        return "spam"
    return decision.lead_team or "general"


@dataclass(slots=True, eq=False)
class CaseRow:
    """A case as processing sees it. Hooks (the surge detector) may change priority and incident_id."""

    id: int | None
    status: str
    priority: str
    topic: str | None
    lead_team_id: int | None
    contact_id: int | None
    channel_id: int | None
    incident_id: int | None
    requires_approval: bool
    sla_due_at: datetime | None
    message_count: int
    last_message_at: datetime
    tags: list
    updated_at: datetime | None = None
    added: int = 0  # messages this batch added to an existing case
    opening: dict | None = None  # the rest of the row, for a case this batch opens
    # CASE_CHANGES' values as the database has them (updated_at is not loaded: a touched case always writes it).
    stored: tuple = ()

    def values(self) -> tuple:
        return tuple([getattr(self, name) for name in CASE_CHANGES])

    def changes(self) -> tuple[tuple[str, ...], tuple]:
        """The CASE_CHANGES columns that differ from what is stored, and every column's value now."""
        values = self.values()
        return tuple([name for name, old, new in zip(CASE_CHANGES, self.stored, values, strict=True)
                      if old != new]), values


@dataclass(slots=True, eq=False)
class ConversationRow:
    id: int | None
    channel_id: int
    root_external_id: str
    contact_id: int | None
    case_id: int | None
    case: CaseRow | None = None  # the case this batch put the conversation's latest message in


@dataclass
class Placement:
    case: CaseRow
    conversation: ConversationRow
    new_case: bool
    joined_by: str  # "reply", "contact-topic" or "new"
    teams_added: list[str] = field(default_factory=list)
    priority_raised: bool = False


def _case_row(row) -> CaseRow:
    case = CaseRow(*row, updated_at=None)
    case.stored = case.values()
    return case


def _by_pairs(session: Session, query, channel_col, id_col, pairs: set[tuple[int, str]], at: tuple[int, int]):
    """Rows of `query` whose (channel, external id) is one of `pairs`.

    Two plain IN lists bind far fewer values than a list of pairs, and the unique
    (channel_id, external id) index still answers; the exact pairs (at these positions of a row) are
    picked here.
    """
    channels = list({channel for channel, _ in pairs})
    for chunk in chunks(list({ext for _, ext in pairs})):
        for row in session.execute(query.where(channel_col.in_(channels), id_col.in_(chunk))):
            if (row[at[0]], row[at[1]]) in pairs:
                yield row


class Threader:
    """Holds what one batch needs to know about existing conversations and open cases."""

    def __init__(self, session: Session, messages: list, team_ids: dict[str, int],
                 topics: set[tuple[int, str]]) -> None:
        """`topics`: the (contact id, case topic) pairs this batch's messages may join an open case on."""
        self.session = session
        self.team_ids = team_ids
        self.conv_by_root: dict[tuple[int, str], ConversationRow] = {}
        # Where each parent message already lives (its conversation).
        self.parent_conv: dict[tuple[int, str], ConversationRow] = {}
        self._load_conversations(messages)
        self.cases: dict[int, CaseRow] = {}
        self.open_by_contact: dict[int, list[CaseRow]] = {}
        self._load_cases(topics)
        self.case_teams: set[tuple[int, int]] = set()
        for chunk in chunks(list(self.cases), 900):
            self.case_teams.update(session.execute(
                select(CaseTeam.case_id, CaseTeam.team_id).where(CaseTeam.case_id.in_(chunk))).all())
        self.new_cases: list[CaseRow] = []
        self._pending_teams: list[tuple[CaseRow, int, str]] = []
        self._pending_keys: set[tuple[int, int]] = set()
        # Existing cases changed by this batch: their row and queue entries must follow.
        self.touched: set[CaseRow] = set()

    def _load_conversations(self, messages: list) -> None:
        conv = Conversation.__table__.c
        cols = (conv.id, conv.channel_id, conv.root_external_id, conv.contact_id, conv.case_id)
        parents = {(m.channel_id, m.in_reply_to) for m in messages if m.in_reply_to}
        roots = parents | {(m.channel_id, m.external_id) for m in messages}
        for row in _by_pairs(self.session, select(*cols), conv.channel_id, conv.root_external_id, roots, (1, 2)):
            self.conv_by_root[(row.channel_id, row.root_external_id)] = ConversationRow(*row)
        by_id = {c.id: c for c in self.conv_by_root.values()}
        msg = Message.__table__.c
        query = select(msg.channel_id, msg.external_id, *cols).join_from(
            Message, Conversation, conv.id == msg.conversation_id)
        for row in _by_pairs(self.session, query, msg.channel_id, msg.external_id, parents, (0, 1)):
            c = by_id.get(row[2]) or ConversationRow(*row[2:])
            by_id[c.id] = c
            self.parent_conv[(row[0], row[1])] = c

    def _load_cases(self, topics: set[tuple[int, str]]) -> None:
        """The cases of these conversations and the open cases these contacts have on these topics."""
        case_ids = list({c.case_id for c in [*self.conv_by_root.values(), *self.parent_conv.values()]
                         if c.case_id})
        if not case_ids and not topics:
            return
        t = Case.__table__.c
        conds = []
        if case_ids:
            conds.append(t.id.in_(case_ids))
        if topics:
            # A superset the (contact_id, status) index answers; the exact pairs are picked below.
            conds.append(t.contact_id.in_({c for c, _ in topics}) & t.status.in_(OPEN_STATUSES)
                         & t.topic.in_({topic for _, topic in topics}))
        query = select(*[t[name] for name in CASE_COLUMNS]).where(or_(*conds))
        for row in self.session.execute(query.order_by(t.last_message_at.desc(), t.id.desc())):
            case = self.cases.setdefault(row.id, _case_row(row))
            if case.status in OPEN_STATUSES and (case.contact_id, case.topic) in topics:
                self.open_by_contact.setdefault(case.contact_id, []).append(case)

    def _conversation_for(self, m, contact_id: int) -> ConversationRow:
        if m.in_reply_to:
            known = self.parent_conv.get((m.channel_id, m.in_reply_to))
            if known is not None:
                # A reply to this reply later in the batch must find the same conversation.
                self.conv_by_root.setdefault((m.channel_id, m.external_id), known)
                return known
            root = (m.channel_id, m.in_reply_to)
        else:
            root = (m.channel_id, m.external_id)
        conv = self.conv_by_root.get(root)
        if conv is None:
            conv = ConversationRow(None, m.channel_id, root[1], contact_id, None)
            self.conv_by_root[root] = conv
        # Later messages of this batch replying to this one find the same conversation.
        self.conv_by_root.setdefault((m.channel_id, m.external_id), conv)
        return conv

    def _case_of(self, conv: ConversationRow) -> CaseRow | None:
        if conv.case is not None:
            return conv.case
        return self.cases.get(conv.case_id) if conv.case_id else None

    def place(self, m, contact_id: int, triage: TriageResult, decision: Decision, now: datetime) -> Placement:
        conv = self._conversation_for(m, contact_id)
        topic = case_topic(triage, decision)
        case = self._case_of(conv)
        joined_by = "reply"
        if case is None or case.status not in OPEN_STATUSES:
            case, joined_by = None, "contact-topic"
            if not decision.close_as_spam:
                for candidate in self.open_by_contact.get(contact_id, []):
                    if candidate.topic == topic and candidate.status in OPEN_STATUSES:
                        case = candidate
                        break
        if case is None:
            return self._open(m, conv, contact_id, topic, triage, decision, now)
        conv.case = case
        if case.id is not None:
            self.touched.add(case)
        placement = Placement(case=case, conversation=conv, new_case=False, joined_by=joined_by)
        case.message_count += 1
        case.added += 1
        if m.created_at > case.last_message_at:
            case.last_message_at = m.created_at
        case.updated_at = now
        if case.status == "pending_customer":
            case.status = "open"
        if RANK.get(decision.priority, 1) > RANK.get(case.priority, 1):
            case.priority = decision.priority
            placement.priority_raised = True
            if decision.sla_due_at and (case.sla_due_at is None or decision.sla_due_at < case.sla_due_at):
                case.sla_due_at = decision.sla_due_at
        case.requires_approval = case.requires_approval or decision.requires_approval
        new_tags = [t for t in decision.tags if t not in (case.tags or [])]
        if new_tags:
            case.tags = list(case.tags or []) + new_tags
        lead_id = case.lead_team_id
        wanted = list(decision.collaborators)
        if decision.lead_team and self.team_ids.get(decision.lead_team) != lead_id:
            wanted.insert(0, decision.lead_team)
        for key in wanted:
            self._add_team(case, key, placement, lead_id)
        return placement

    def _open(self, m, conv, contact_id, topic, triage, decision, now) -> Placement:
        spam = decision.close_as_spam
        case = CaseRow(
            id=None, status="closed_spam" if spam else "open", priority=decision.priority, topic=topic,
            lead_team_id=self.team_ids.get(decision.lead_team) if decision.lead_team else None,
            contact_id=contact_id, channel_id=m.channel_id, incident_id=None,
            requires_approval=decision.requires_approval, sla_due_at=None if spam else decision.sla_due_at,
            message_count=1, last_message_at=m.created_at, tags=list(decision.tags), updated_at=now,
            opening={"subject": (m.text or "").strip().replace("\n", " ")[:300], "intent": triage.intent,
                     "sentiment": triage.sentiment, "sla_policy": decision.sla_policy, "created_at": now},
        )
        self.new_cases.append(case)
        conv.case = case
        if not spam:
            self.open_by_contact.setdefault(contact_id, []).insert(0, case)
        placement = Placement(case=case, conversation=conv, new_case=True, joined_by="new")
        if case.lead_team_id is not None:
            self._pending_keys.add((id(case), case.lead_team_id))
            self._pending_teams.append((case, case.lead_team_id, "lead"))
        for key in decision.collaborators:
            self._add_team(case, key, placement, case.lead_team_id)
        return placement

    def _add_team(self, case: CaseRow, key: str, placement: Placement, lead_id: int | None) -> None:
        team_id = self.team_ids.get(key)
        if team_id is None or team_id == lead_id:
            return
        marker = (id(case), team_id)
        if (case.id is not None and (case.id, team_id) in self.case_teams) or marker in self._pending_keys:
            return
        self._pending_keys.add(marker)
        self._pending_teams.append((case, team_id, "collaborator"))
        placement.teams_added.append(key)
        if case.id is not None:
            self.touched.add(case)

    def write(self) -> None:
        """Store the batch: new cases, conversations, changed cases, and the teams' queue entries."""
        ids = insert_ids(self.session, Case.__table__, [
            {**{name: getattr(c, name) for name in CASE_COLUMNS[1:]}, **c.opening, "updated_at": c.updated_at}
            for c in self.new_cases])
        for case, cid in zip(self.new_cases, ids, strict=True):
            case.id, case.opening, case.added = cid, None, 0
            case.stored = case.values()
        convs = {id(c): c for c in self.conv_by_root.values()}.values()
        fresh = [c for c in convs if c.id is None]
        ids = insert_ids(self.session, Conversation.__table__, [
            {"channel_id": c.channel_id, "root_external_id": c.root_external_id, "contact_id": c.contact_id,
             "case_id": c.case.id if c.case else None} for c in fresh])
        for conv, cid in zip(fresh, ids, strict=True):
            conv.id, conv.case_id = cid, conv.case.id if conv.case else None
        moved = [{"cid": c.id, "case": c.case.id} for c in [*convs, *self.parent_conv.values()]
                 if c.id is not None and c.case is not None and c.case_id != c.case.id]
        if moved:
            t = Conversation.__table__
            executemany(self.session, "thread.moved", update(t).where(t.c.id == bindparam("cid"))
                        .values(case_id=bindparam("case")), list({m["cid"]: m for m in moved}.values()))
            for c in [*convs, *self.parent_conv.values()]:
                if c.case is not None:
                    c.case_id = c.case.id
        self.update_cases(list(self.touched))
        rows = [{"case_id": c.id, "team_id": t, "role": role, **queue_fields(c)}
                for c, t, role in self._pending_teams if (c.id, t) not in self.case_teams]
        if rows:
            executemany(self.session, "thread.case_teams", CaseTeam.__table__.insert(), rows)
            self.case_teams.update((r["case_id"], r["team_id"]) for r in rows)
        self._pending_teams.clear()
        self._pending_keys.clear()
        self.touched.clear()

    def update_cases(self, cases: list[CaseRow]) -> None:
        """Write changed existing cases (and anything hooks changed) and keep their queue entries in step, each
        with only the columns that changed: SQLite rewrites the entries of every index holding a column a
        statement sets, changed or not (the case's status is in six of its seven indexes, and most touches
        change only the last message's time and the counts). One statement per set of changed columns."""
        by_changes: dict[tuple[str, ...], list[tuple[CaseRow, tuple]]] = {}
        for c in cases:
            changed, values = c.changes()
            if changed or c.added:
                by_changes.setdefault(changed, []).append((c, values))
        t = Case.__table__
        for changed, group in by_changes.items():
            executemany(
                self.session, "thread.cases", update(t).where(t.c.id == bindparam("cid")).values(
                    message_count=t.c.message_count + bindparam("added"),
                    **{name: bindparam("v_" + name) for name in changed}),
                [{"cid": c.id, "added": c.added, **{"v_" + name: getattr(c, name) for name in changed}}
                 for c, _ in group])
            sync_queue(self.session, [c for c, _ in group], tuple(n for n in QUEUE_FIELDS if n in changed))
            for c, values in group:
                c.added, c.stored = 0, values
