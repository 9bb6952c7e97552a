"""Thread: put each message into its conversation and into the case that covers it.

A reply joins its parent's conversation and open case; a reply that arrives before its parent starts
the conversation under the parent's id, so the parent joins it when it lands (out-of-order delivery).
A new message from a contact with an open case on the same topic joins that case; otherwise a case opens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from onevoice.cases.models import OPEN_STATUSES, PRIORITIES, Case, CaseTeam, Conversation
from onevoice.cases.queue import queue_fields, sync_queue
from onevoice.messages.models import Message
from onevoice.routing.types import Decision
from onevoice.triage.types import TriageResult

RANK = {p: i for i, p in enumerate(PRIORITIES)}


def case_topic(triage: TriageResult, decision: Decision) -> str:
    """What a case is about, for joining later messages: the product named, else the lead team."""
    if triage.products:
        return str(triage.products[0])[:100]
    if decision.close_as_spam:
        return "spam"
    return decision.lead_team or "general"


@dataclass
class Placement:
    case: Case
    conversation: Conversation
    new_case: bool
    joined_by: str  # "reply", "contact-topic" or "new"
    teams_added: list[str] = field(default_factory=list)
    priority_raised: bool = False


class Threader:
    """Holds what one batch needs to know about existing conversations and open cases."""

    def __init__(self, session: Session, messages: list[Message], contact_ids: set[int],
                 team_ids: dict[str, int]) -> None:
        self.session = session
        self.team_ids = team_ids
        roots = {(m.channel_id, m.in_reply_to) for m in messages if m.in_reply_to}
        roots |= {(m.channel_id, m.external_id) for m in messages}
        # Where each parent message already lives (its conversation).
        parents = [(m.channel_id, m.in_reply_to) for m in messages if m.in_reply_to]
        self.parent_conv: dict[tuple[int, str], int] = {}
        for start in range(0, len(parents), 400):
            chunk = parents[start:start + 400]
            for ch, ext, conv in session.execute(
                select(Message.channel_id, Message.external_id, Message.conversation_id)
                .where(tuple_(Message.channel_id, Message.external_id).in_(chunk))
                .where(Message.conversation_id.is_not(None))
            ):
                self.parent_conv[(ch, ext)] = conv
        self.conv_by_root: dict[tuple[int, str], Conversation] = {}
        self.conv_by_id: dict[int, Conversation] = {}
        root_list = list(roots)
        for start in range(0, len(root_list), 400):
            chunk = root_list[start:start + 400]
            for conv in session.scalars(
                select(Conversation).where(tuple_(Conversation.channel_id, Conversation.root_external_id).in_(chunk))
            ):
                self._remember_conv(conv)
        missing_convs = set(self.parent_conv.values()) - set(self.conv_by_id)
        if missing_convs:
            for conv in session.scalars(select(Conversation).where(Conversation.id.in_(missing_convs))):
                self._remember_conv(conv)
        case_ids = {c.case_id for c in self.conv_by_id.values() if c.case_id}
        self.cases: dict[int, Case] = {}
        if case_ids:
            self.cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(case_ids)))}
        self.open_by_contact: dict[int, list[Case]] = {}
        if contact_ids:
            for case in session.scalars(
                select(Case).where(Case.contact_id.in_(contact_ids), Case.status.in_(OPEN_STATUSES))
                .order_by(Case.last_message_at.desc())
            ):
                case = self.cases.setdefault(case.id, case)
                self.open_by_contact.setdefault(case.contact_id, []).append(case)
        touched = list(self.cases)
        self.case_teams: set[tuple[int, int]] = set()
        if touched:
            self.case_teams = set(session.execute(
                select(CaseTeam.case_id, CaseTeam.team_id).where(CaseTeam.case_id.in_(touched))
            ).all())
        self._pending_teams: list[tuple[Case, int, str]] = []
        # Existing cases changed by this batch: their queue entries must follow.
        self.touched: set[Case] = set()
        self._pending_keys: set[tuple[int, int]] = set()

    def _remember_conv(self, conv: Conversation) -> None:
        self.conv_by_root[(conv.channel_id, conv.root_external_id)] = conv
        if conv.id is not None:
            self.conv_by_id[conv.id] = conv

    def _conversation_for(self, m: Message, contact_id: int) -> Conversation:
        if m.in_reply_to:
            known = self.parent_conv.get((m.channel_id, m.in_reply_to))
            if known and known in self.conv_by_id:
                return self.conv_by_id[known]
            root = (m.channel_id, m.in_reply_to)
        else:
            root = (m.channel_id, m.external_id)
        conv = self.conv_by_root.get(root)
        if conv is None:
            conv = Conversation(channel_id=m.channel_id, root_external_id=root[1], contact_id=contact_id)
            self.session.add(conv)
            self.conv_by_root[root] = conv
        # Later messages of this batch replying to this one find the same conversation.
        self.conv_by_root.setdefault((m.channel_id, m.external_id), conv)
        return conv

    def _case_of(self, conv: Conversation) -> Case | None:
        case = getattr(conv, "_case", None)
        if case is None and conv.case_id:
            case = self.cases.get(conv.case_id)
            if case is None:
                case = self.session.get(Case, conv.case_id)
                self.cases[case.id] = case
        return case

    def place(self, m: Message, contact_id: int, triage: TriageResult, decision: Decision,
              now: datetime) -> Placement:
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
        conv._case = case
        self.touched.add(case)
        placement = Placement(case=case, conversation=conv, new_case=False, joined_by=joined_by)
        case.message_count = (case.message_count or 0) + 1
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
        case = Case(
            status="closed_spam" if decision.close_as_spam else "open", priority=decision.priority,
            subject=(m.text or "").strip().replace("\n", " ")[:300], topic=topic, intent=triage.intent,
            sentiment=triage.sentiment, tags=list(decision.tags),
            lead_team_id=self.team_ids.get(decision.lead_team) if decision.lead_team else None,
            contact_id=contact_id, channel_id=m.channel_id, requires_approval=decision.requires_approval,
            sla_policy=decision.sla_policy, sla_due_at=None if decision.close_as_spam else decision.sla_due_at,
            message_count=1, last_message_at=m.created_at, created_at=now, updated_at=now,
        )
        self.session.add(case)
        conv._case = case
        if not decision.close_as_spam:
            self.open_by_contact.setdefault(contact_id, []).insert(0, case)
        placement = Placement(case=case, conversation=conv, new_case=True, joined_by="new")
        if case.lead_team_id is not None:
            self._pending_keys.add((id(case), case.lead_team_id))
            self._pending_teams.append((case, case.lead_team_id, "lead"))
        for key in decision.collaborators:
            self._add_team(case, key, placement, case.lead_team_id)
        return placement

    def _add_team(self, case: Case, key: str, placement: Placement, lead_id: int | None) -> None:
        team_id = self.team_ids.get(key)
        if team_id is None or team_id == lead_id:
            return
        marker = (id(case), team_id)
        if (case.id is not None and (case.id, team_id) in self.case_teams) or marker in self._pending_keys:
            return
        self._pending_keys.add(marker)
        self._pending_teams.append((case, team_id, "collaborator"))
        placement.teams_added.append(key)
        self.touched.add(case)

    def finish(self) -> None:
        """After the flush that gave new cases their ids: link conversations, add case teams."""
        for conv in self.conv_by_root.values():
            case = getattr(conv, "_case", None)
            if case is not None and conv.case_id != case.id:
                conv.case_id = case.id
        rows = [{"case_id": c.id, "team_id": t, "role": role, **queue_fields(c)}
                for c, t, role in self._pending_teams if (c.id, t) not in self.case_teams]
        sync_queue(self.session, [c for c in self.touched if c.id is not None])
        if rows:
            self.session.execute(CaseTeam.__table__.insert(), rows)
            self.case_teams.update((r["case_id"], r["team_id"]) for r in rows)
        self._pending_teams.clear()
        self._pending_keys.clear()
        self.touched.clear()
