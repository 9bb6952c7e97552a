"""Learned routing: when responders keep moving the same kind of message to the same team, route it there.

A team correction (the case page's "wrong team", or `POST /api/v1/messages/{id}/corrections` with field
`team`) is remembered with the corrected message's triage context: its intent, its subject (first product,
else first specific topic, else none) and the kind of channel it came on. When the latest THRESHOLD or more
corrections in one context all name the same team (a correction to another team in between resets the
count), routing applies it after the playbook as a learned rule, recorded among the fired rules as
"learned from N corrections by ...". A coordinator sees these on the playbook page and promotes one into
the playbook (it then lives in the YAML) or dismisses it; either way the corrections up to that moment no
longer count for that context.

Corrections are human actions (a few a day), so the rules are recomputed from them whenever the router's
cheap generation check sees a new one, not stored.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.channels.models import Channel
from onevoice.messages.models import Message
from onevoice.routing.models import LearnedRoute
from onevoice.routing.types import Decision, RouteInput
from onevoice.triage.models import TriageCorrection

THRESHOLD = 3
# Older corrections describe how the organization used to work.
LOOKBACK = timedelta(days=120)
# Too broad to say where a message belongs (every second message mentions the app).
BROAD_TOPICS = frozenset({"app", "customer_service"})


@dataclass(frozen=True)
class Context:
    intent: str
    subject: str  # "" when the message names no product or specific topic
    channel_kind: str  # "" when unknown

    def describe(self) -> str:
        about = f" about {self.subject}" if self.subject else " with no product or topic"
        on = f" on {self.channel_kind}" if self.channel_kind else ""
        return f"{self.intent}{about}{on}"


def context_of(intent: str | None, products, topics, channel_kind: str | None) -> Context:
    subject = next(iter(products or []), None) or next((t for t in topics or [] if t not in BROAD_TOPICS), "")
    return Context(intent or "other", subject, channel_kind or "")


def context_for(item: RouteInput) -> Context:
    t = item.triage
    return context_of(t.intent, t.products, t.topics, item.channel_kind)


@dataclass
class LearnedRule:
    context: Context
    team: str
    corrections: int
    actors: list[str] = field(default_factory=list)
    from_teams: list[str] = field(default_factory=list)
    message_ids: list[int] = field(default_factory=list)
    last_at: datetime | None = None

    @property
    def name(self) -> str:
        c = self.context
        return "learned-" + "-".join(p for p in (c.intent, c.subject, c.channel_kind, "to", self.team) if p)

    @property
    def why(self) -> str:
        was = f" (routing said {', '.join(self.from_teams)})" if self.from_teams else ""
        return (f"learned from {self.corrections} corrections by {', '.join(self.actors)}: "
                f"{self.context.describe()} goes to {self.team}{was}")

    def to_dict(self) -> dict:
        c = self.context
        return {"name": self.name, "intent": c.intent, "subject": c.subject, "channel_kind": c.channel_kind,
                "team": self.team, "corrections": self.corrections, "actors": self.actors,
                "from_teams": self.from_teams, "message_ids": self.message_ids,
                "last_at": self.last_at.isoformat() if self.last_at else None, "why": self.why,
                "yaml": self.to_yaml()}

    def to_yaml(self) -> str:
        """The playbook rule that says the same thing (what "promote" inserts)."""
        c = self.context
        when = [f"intent: {c.intent}"]
        if c.subject:
            when.append(f"any: [{{products: [{c.subject}]}}, {{topics: [{c.subject}]}}]")
        if c.channel_kind:
            when.append(f"channel_kind: {c.channel_kind}")
        return (f"  - name: {self.name}\n"
                f"    why: promoted from {self.corrections} team corrections by {', '.join(self.actors)}\n"
                f"    when: {{{', '.join(when)}}}\n"
                f"    then: {{lead: {self.team}}}\n")


def compute(session: Session, now: datetime, threshold: int = THRESHOLD) -> list[LearnedRule]:
    """The learned rules in force now: consistent recent team corrections, minus those decided on."""
    rows = session.execute(
        select(TriageCorrection.id, TriageCorrection.message_id, TriageCorrection.old_value,
               TriageCorrection.new_value, TriageCorrection.actor, TriageCorrection.created_at,
               Message.triage, Channel.kind)
        .join(Message, Message.id == TriageCorrection.message_id)
        .join(Channel, Channel.id == Message.channel_id)
        .where(TriageCorrection.field == "team", TriageCorrection.created_at >= now - LOOKBACK)
        .order_by(TriageCorrection.id)).all()
    decided: dict[Context, datetime] = {}
    for d in session.scalars(select(LearnedRoute)):
        ctx = Context(d.intent, d.subject, d.channel_kind)
        decided[ctx] = max(decided.get(ctx, d.decided_at), d.decided_at)
    # The latest correction of each message only (a message corrected twice is one opinion).
    latest: dict[int, tuple] = {}
    for row in rows:
        latest.pop(row.message_id, None)
        latest[row.message_id] = row
    by_context: dict[Context, list] = defaultdict(list)
    for row in latest.values():
        triage = row.triage or {}
        ctx = context_of(triage.get("intent"), triage.get("products"), triage.get("topics"), row.kind)
        if ctx in decided and row.created_at <= decided[ctx]:
            continue
        by_context[ctx].append(row)
    rules = []
    for ctx, items in by_context.items():
        items.sort(key=lambda r: r.id)
        team = items[-1].new_value
        streak = []
        for row in reversed(items):
            if row.new_value != team:
                break  # a contrary correction more recent than these: not (yet) consistent
            streak.append(row)
        if len(streak) < threshold:
            continue
        streak.reverse()
        rules.append(LearnedRule(
            context=ctx, team=team, corrections=len(streak),
            actors=list(dict.fromkeys(r.actor for r in streak)),
            from_teams=list(dict.fromkeys(r.old_value for r in streak if r.old_value and r.old_value != team)),
            message_ids=[r.message_id for r in streak], last_at=streak[-1].created_at))
    rules.sort(key=lambda r: (r.context.intent, r.context.subject, r.context.channel_kind))
    return rules


def apply(decision: Decision, item: RouteInput, rules: dict[Context, LearnedRule]) -> Decision:
    """After the playbook: a learned rule for this message's context sets the lead team, and says why."""
    if not rules or decision.close_as_spam:
        return decision
    rule = rules.get(context_for(item))
    if rule is None or decision.lead_team == rule.team:
        return decision
    decision.lead_team = rule.team
    if rule.team in decision.collaborators:
        decision.collaborators.remove(rule.team)
    decision.rules.append({"rule": rule.name, "why": rule.why})
    return decision
