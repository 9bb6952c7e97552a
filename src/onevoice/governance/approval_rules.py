"""Risk-based approval: which outgoing texts need sign-off, from which team, how fast, and who is next.

Routine replies and posts go straight out: only a matching rule (or a guard finding that asks for approval,
or the playbook's flag) holds a text. Rules are tried in `position` order and the first match decides. A rule
can be limited to what is sent (`kinds`: "reply" on a case, "post" on a channel's own account); case
conditions (intent, priority, playbook) never match a post, which has no case.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onevoice.approvals.models import Approval
from onevoice.audit import log as audit
from onevoice.auth.models import User
from onevoice.auth.permissions import POLICY_OWNERS, require
from onevoice.auth.principal import Principal
from onevoice.auth.users import principal_for
from onevoice.cases.models import Case
from onevoice.channels.models import Channel
from onevoice.db import utcnow
from onevoice.errors import InvalidInput, NotFound
from onevoice.governance.guard import Finding
from onevoice.governance.models import ApprovalEscalation, ApprovalRule
from onevoice.governance.schemas import ApprovalRuleOut
from onevoice.messages.models import Message
from onevoice.teams.models import Team
from onevoice.teams.service import team_id, team_keys

LIST_FIELDS = ("kinds", "channels", "channel_kinds", "intents", "priorities", "severities", "finding_rules",
               "author_roles")
KINDS = ("reply", "post")
FLAG_FIELDS = ("partner", "first_time_author", "playbook_requires")
# Escalate when this share of the approval window is left (at 80% of the SLA by default).
ESCALATE_WHEN_LEFT = 0.2
MAX_ESCALATIONS = 3


@dataclass(frozen=True)
class ApprovalRequirement:
    """Who must approve, by when, and who is next if they do not. team_id None: any approver."""

    reason: str
    team_id: int | None
    team_key: str | None
    sla_minutes: int
    due_at: datetime
    escalation_team_id: int | None = None
    escalation_team_key: str | None = None
    rule_id: int | None = None
    rule_name: str | None = None

    def to_dict(self) -> dict:
        return {"reason": self.reason, "team": self.team_key, "sla_minutes": self.sla_minutes,
                "due_at": self.due_at, "escalation_team": self.escalation_team_key, "rule_id": self.rule_id,
                "rule": self.rule_name}


@dataclass(frozen=True)
class Context:
    """What the rules look at, gathered once."""

    kind: str  # "reply" or "post"
    channel_key: str | None
    channel_kind: str | None
    intent: str | None
    priority: str | None
    playbook_requires: bool
    severities: frozenset[str]
    finding_rules: frozenset[str]
    role: str
    partner: bool
    first_time: bool


def _principal(session: Session, author) -> Principal:
    if isinstance(author, Principal):
        return author
    if isinstance(author, User):
        return principal_for(session, author)
    raise InvalidInput("author must be a user or a principal")


def first_time_author(session: Session, who: Principal) -> bool:
    """Nothing sent on any channel by this person before."""
    return session.scalar(select(Message.id).where(Message.direction == "outbound", Message.sent_by == who.label,
                                                   Message.status == "sent").limit(1)) is None


def context_for(session: Session, case: Case | None, who: Principal, findings: Iterable[Finding],
                channel: Channel | None = None, kind: str | None = None) -> Context:
    findings = list(findings)
    kind = kind or ("reply" if case is not None else "post")
    if channel is None and case is not None and case.channel_id is not None:
        channel = session.get(Channel, case.channel_id)
    return Context(kind=kind, channel_key=channel.key if channel else None,
                   channel_kind=channel.kind if channel else None,
                   intent=case.intent if case else None, priority=case.priority if case else None,
                   playbook_requires=bool(case and case.requires_approval),
                   severities=frozenset(f.severity for f in findings),
                   finding_rules=frozenset(f.rule for f in findings),
                   role=who.role, partner=who.role == "partner", first_time=first_time_author(session, who))


def matches(rule: ApprovalRule, ctx: Context) -> bool:
    def within(values, value) -> bool:
        return not values or value in values

    return (within(rule.kinds, ctx.kind)
            and within(rule.channels, ctx.channel_key) and within(rule.channel_kinds, ctx.channel_kind)
            and within(rule.intents, ctx.intent) and within(rule.priorities, ctx.priority)
            and within(rule.author_roles, ctx.role)
            and (not rule.severities or bool(ctx.severities & set(rule.severities)))
            and (not rule.finding_rules or bool(ctx.finding_rules & set(rule.finding_rules)))
            and (rule.partner is None or rule.partner == ctx.partner)
            and (rule.first_time_author is None or rule.first_time_author == ctx.first_time)
            and (rule.playbook_requires is None or rule.playbook_requires == ctx.playbook_requires))


def _team_keys(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    return dict(session.execute(select(Team.id, Team.key).where(Team.id.in_(ids))).all()) if ids else {}


def approval_needed(session: Session, text: str, case: Case | None, author_user, findings: Iterable[Finding],
                    *, channel: Channel | None = None, now: datetime | None = None,
                    kind: str | None = None) -> ApprovalRequirement | None:
    """None when the text may go straight out; otherwise who must approve it and by when.

    Block findings are not handled here: a blocked text must not be sent or queued for approval at all.
    A guard finding of severity "approval", or the case's playbook flag, always holds the text, even when
    no rule names a team (then any approver may decide).
    """
    who = _principal(session, author_user)
    findings = list(findings)
    ctx = context_for(session, case, who, findings, channel, kind)
    now = now or utcnow()
    rules = session.scalars(select(ApprovalRule).where(ApprovalRule.enabled.is_(True))
                            .order_by(ApprovalRule.position, ApprovalRule.id))
    for rule in rules:
        if matches(rule, ctx):
            keys = _team_keys(session, (rule.approver_team_id, rule.escalation_team_id))
            why = [f"rule '{rule.name}'"] + [f.message for f in findings if f.severity == "approval"][:3]
            return ApprovalRequirement("; ".join(why), rule.approver_team_id, keys.get(rule.approver_team_id),
                                       rule.sla_minutes, now + timedelta(minutes=rule.sla_minutes),
                                       rule.escalation_team_id, keys.get(rule.escalation_team_id), rule.id, rule.name)
    held = [f.message for f in findings if f.severity == "approval"]
    if ctx.playbook_requires:
        held.insert(0, "the playbook requires approval for this case")
    if held:
        return ApprovalRequirement("; ".join(held[:4]), None, None, 60, now + timedelta(minutes=60))
    return None


def apply_requirement(approval: Approval, requirement: ApprovalRequirement) -> Approval:
    """Copy the decision onto an approval request: approving team, due time, reason."""
    approval.approver_team_id = requirement.team_id
    approval.due_at = requirement.due_at
    approval.reason = requirement.reason
    return approval


# --- the rules themselves -------------------------------------------------------------------------------

def list_rules(session: Session) -> list[ApprovalRule]:
    return list(session.scalars(select(ApprovalRule).order_by(ApprovalRule.position, ApprovalRule.id)))


def describe(session: Session, rule: ApprovalRule) -> ApprovalRuleOut:
    """The rule with its teams' keys: what the API answers and the pages show; its `model_dump()` is the data
    of the rule's audit records (times kept as datetimes there, as they always were stored)."""
    keys = _team_keys(session, (rule.approver_team_id, rule.escalation_team_id))
    return ApprovalRuleOut(
        id=rule.id, name=rule.name, position=rule.position, enabled=rule.enabled,
        **{f: list(getattr(rule, f) or []) for f in LIST_FIELDS}, **{f: getattr(rule, f) for f in FLAG_FIELDS},
        approver_team=keys.get(rule.approver_team_id), sla_minutes=rule.sla_minutes,
        escalation_team=keys.get(rule.escalation_team_id), updated_by=rule.updated_by, updated_at=rule.updated_at)


def _team_id(session: Session, key: str | None, what: str, required: bool) -> int | None:
    if not key:
        if required:
            raise InvalidInput(f"{what} is required")
        return None
    found = team_id(session, key)
    if found is None:
        raise InvalidInput(f"unknown team {key!r} for {what}")
    return found


def _whole(value, what: str) -> int:
    """A whole number from JSON or a form field; anything else (null, text, 1.5) is the caller's mistake."""
    if isinstance(value, bool) or value is None:
        raise InvalidInput(f"{what} must be a whole number, not {value!r}")
    try:
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInput(f"{what} must be a whole number, not {value!r}") from None
    if number != value and not isinstance(value, str):
        raise InvalidInput(f"{what} must be a whole number, not {value!r}")
    if abs(number) > 2**31 - 1:
        raise InvalidInput(f"{what} is out of range ({number})")
    return number


def _flag(value):
    if value in (None, "", "any"):
        return None
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes", "on")
    return bool(value)


def _clean(session: Session, fields: dict, creating: bool) -> dict:
    out: dict = {}
    if "name" in fields or creating:
        name = (fields.get("name") or "").strip()
        if not name:
            raise InvalidInput("an approval rule needs a name")
        out["name"] = name[:200]
    for f in LIST_FIELDS:
        if f in fields:
            value = fields[f] or []
            if isinstance(value, str):
                value = value.split(",")
            out[f] = sorted({str(v).strip() for v in value if str(v).strip()})
            if f == "kinds" and set(out[f]) - set(KINDS):
                raise InvalidInput(f"kinds are {', '.join(KINDS)}; not {', '.join(sorted(set(out[f]) - set(KINDS)))}")
    for f in FLAG_FIELDS:
        if f in fields:
            out[f] = _flag(fields[f])
    if "position" in fields:
        out["position"] = _whole(fields["position"], "the position")
    if "enabled" in fields:
        if fields["enabled"] is None:  # null would otherwise read as false and silently disable the rule
            raise InvalidInput("enabled is true or false, not empty")
        out["enabled"] = bool(fields["enabled"])
    if "sla_minutes" in fields:
        sla = _whole(fields["sla_minutes"], "the approval SLA (minutes)")
        if not 1 <= sla <= 60 * 24 * 14:
            raise InvalidInput("the approval SLA is between 1 minute and 14 days")
        out["sla_minutes"] = sla
    if "approver_team" in fields or creating:
        out["approver_team_id"] = _team_id(session, fields.get("approver_team"), "the approving team", True)
    if "escalation_team" in fields:
        out["escalation_team_id"] = _team_id(session, fields.get("escalation_team"), "the escalation team", False)
    if out.get("escalation_team_id") and out.get("escalation_team_id") == out.get("approver_team_id"):
        raise InvalidInput("a request cannot escalate to the team that already has it")
    return out


def create_rule(session: Session, who: Principal, fields: dict, ip: str | None = None) -> ApprovalRule:
    require(who, POLICY_OWNERS, "change the approval rules")
    rule = ApprovalRule(**_clean(session, fields, creating=True), updated_by=who.label, updated_at=utcnow())
    session.add(rule)
    session.flush()
    audit.record(session, who, "approval_rule.create", f"approval_rule:{rule.id}", describe(session, rule).model_dump(),
                 ip)
    return rule


def update_rule(session: Session, who: Principal, rule_id: int, fields: dict, ip: str | None = None) -> ApprovalRule:
    require(who, POLICY_OWNERS, "change the approval rules")
    rule = session.get(ApprovalRule, rule_id)
    if rule is None:
        raise NotFound(f"no approval rule {rule_id}")
    before = describe(session, rule).model_dump()
    for name, value in _clean(session, fields, creating=False).items():
        setattr(rule, name, value)
    rule.updated_by, rule.updated_at = who.label, utcnow()
    session.flush()
    after = describe(session, rule).model_dump()
    changed = {k: {"from": before[k], "to": after[k]} for k in after
               if before[k] != after[k] and k not in ("updated_at", "updated_by")}
    audit.record(session, who, "approval_rule.update", f"approval_rule:{rule.id}", {"changed": changed}, ip)
    return rule


DEFAULT_RULES = (
    {"name": "Legal or safety risk goes to Legal", "position": 10, "intents": ["legal_risk", "safety_risk"],
     "approver_team": "legal", "sla_minutes": 60, "escalation_team": "pr"},
    {"name": "Regulated words or claims go to Legal", "position": 20,
     "finding_rules": ["unapproved-claims", "regulated-words"], "approver_team": "legal", "sla_minutes": 60,
     "escalation_team": "pr"},
    {"name": "Press inquiries and urgent cases go to PR", "position": 30, "intents": ["press_inquiry"],
     "approver_team": "pr", "sla_minutes": 30, "escalation_team": "legal"},
    {"name": "Partners are reviewed by PR", "position": 40, "partner": True, "approver_team": "pr",
     "sla_minutes": 120, "escalation_team": "marketing"},
    {"name": "Tone and other guard findings go to PR", "position": 50, "severities": ["approval"],
     "approver_team": "pr", "sla_minutes": 30, "escalation_team": "legal"},
    {"name": "Playbook asks for approval", "position": 60, "playbook_requires": True, "approver_team": "pr",
     "sla_minutes": 60, "escalation_team": "legal"},
    {"name": "A first reply from someone new is reviewed by Support", "position": 70, "first_time_author": True,
     "author_roles": ["responder", "contributor"], "approver_team": "support", "sla_minutes": 30,
     "escalation_team": "pr", "enabled": False},
    {"name": "Posts by managers and responders are reviewed by Marketing", "position": 80, "kinds": ["post"],
     "author_roles": ["manager", "responder"], "approver_team": "marketing", "sla_minutes": 60,
     "escalation_team": "pr", "enabled": False},
)


def seed_default_rules(session: Session) -> int:
    """The default approval rules, when there are none yet and the teams they name exist."""
    if session.scalar(select(func.count(ApprovalRule.id))):
        return 0
    teams = set(team_keys(session))
    added = 0
    for fields in DEFAULT_RULES:
        if fields["approver_team"] in teams and fields.get("escalation_team", "legal") in teams:
            session.add(ApprovalRule(**_clean(session, fields, creating=True), updated_by="system"))
            added += 1
    session.flush()
    return added


# --- escalation and waiting time -----------------------------------------------------------------------

def _next_team(session: Session, team_id: int | None) -> tuple[int, int] | None:
    """(escalation team, its SLA) for requests held by this team, from the first rule that names one."""
    if team_id is None:
        return None
    rule = session.scalars(select(ApprovalRule).where(ApprovalRule.enabled.is_(True),
                                                      ApprovalRule.approver_team_id == team_id,
                                                      ApprovalRule.escalation_team_id.is_not(None))
                           .order_by(ApprovalRule.position, ApprovalRule.id).limit(1)).first()
    if rule is None:
        return None
    nxt = session.scalars(select(ApprovalRule.sla_minutes).where(
        ApprovalRule.enabled.is_(True), ApprovalRule.approver_team_id == rule.escalation_team_id)
        .order_by(ApprovalRule.position).limit(1)).first()
    return rule.escalation_team_id, nxt or rule.sla_minutes


def escalate_overdue(session: Session, now: datetime | None = None) -> list[dict]:
    """Hand every pending request that is near (or past) its due time to the next approving team.

    Safe to run every minute and twice at once: a request escalated gets a new due time, and each step is
    recorded once (unique per approval and level). Returns what moved, for notifications.
    """
    now = now or utcnow()
    q = select(Approval).where(Approval.status == "pending", Approval.due_at.is_not(None))
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    moved = []
    for approval in session.scalars(q.order_by(Approval.due_at)):
        window = approval.due_at - approval.requested_at
        if now < approval.due_at - window * ESCALATE_WHEN_LEFT:
            continue
        steps = list(session.scalars(select(ApprovalEscalation).where(ApprovalEscalation.approval_id == approval.id)
                                     .order_by(ApprovalEscalation.level)))
        if len(steps) >= MAX_ESCALATIONS:
            continue
        nxt = _next_team(session, approval.approver_team_id)
        visited = {s.from_team_id for s in steps} | {approval.approver_team_id}
        if nxt is None or nxt[0] in visited:
            continue
        to_team, sla = nxt
        step = ApprovalEscalation(approval_id=approval.id, level=len(steps) + 1,
                                  from_team_id=approval.approver_team_id, to_team_id=to_team, escalated_at=now)
        session.add(step)
        keys = _team_keys(session, (approval.approver_team_id, to_team))
        info = {"approval_id": approval.id, "case_id": approval.case_id, "post_id": approval.post_id,
                "level": step.level,
                "from_team": keys.get(approval.approver_team_id), "to_team": keys.get(to_team),
                "was_due_at": approval.due_at.isoformat()}
        approval.approver_team_id, approval.due_at = to_team, now + timedelta(minutes=sla)
        session.flush()
        audit.record(session, "scheduler", "approval.escalate", f"approval:{approval.id}", info)
        moved.append(info)
    return moved


def waiting_stats(session: Session, now: datetime | None = None, days: int = 30) -> dict:
    """How long texts wait for sign-off: decided in the last `days` (median, p90, over SLA) and pending now."""
    now = now or utcnow()
    decided = session.execute(select(Approval.requested_at, Approval.decided_at, Approval.due_at).where(
        Approval.decided_at.is_not(None), Approval.decided_at >= now - timedelta(days=days))).all()
    waits = sorted((d - r).total_seconds() / 60 for r, d, _ in decided)
    pending = session.execute(select(Approval.requested_at, Approval.due_at).where(Approval.status == "pending")).all()

    def pct(p: float) -> float | None:
        return round(waits[min(len(waits) - 1, int(p * len(waits)))], 1) if waits else None

    return {"decided": len(waits), "median_minutes": round(statistics.median(waits), 1) if waits else None,
            "p90_minutes": pct(0.9), "decided_late": sum(1 for _, d, due in decided if due and d > due),
            "pending": len(pending),
            "oldest_pending_minutes": round(max(((now - r).total_seconds() / 60 for r, _ in pending),
                                                default=0), 1) if pending else None,
            "pending_overdue": sum(1 for _, due in pending if due and due < now)}
