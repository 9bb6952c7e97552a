"""Retention: message content older than a rule's days is anonymized or deleted, on a schedule, in batches.

A rule covers a channel, a message kind, both, or everything (neither). For each message the most specific
enabled rule decides: channel and kind, then channel, then kind, then the default rule. No rule at all: content
is kept (retention is opt-in; docs/privacy.md gives the defaults we advise).

* anonymize: the text, the platform's payload, attachments, link and author fields are emptied and the triage
  is cut down to its labels; the row stays with its channel, kind, times, status, case, contact and sentiment,
  intent and urgency labels, so every report still counts it.
* delete: the row goes, with its routing decision, its own history events, triage corrections, approval and
  outbox job. Cases keep their counters and times (case reports hold), message-level counts drop.

Each run works in batches of BATCH messages, one transaction each (a large backlog never holds a long lock
on SQLite's only writer), and ends with a `retention_runs` row and an audit record with the counts.
Messages still waiting to be processed are never touched.

Every node's scheduler starts the job; one run at a time holds the lock `retention` (db.exclusive: an
advisory lock on PostgreSQL, shared by the nodes; a file lock beside a SQLite database). The scheduler's pass
on another node finds it held and skips (the next hour's pass comes); a run asked for by a person is refused
with "already under way".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, not_, select, true, update
from sqlalchemy.orm import Session, sessionmaker

from onevoice.approvals.models import Approval
from onevoice.audit import log as audit
from onevoice.auth.permissions import POLICY_OWNERS, require
from onevoice.auth.principal import Principal
from onevoice.channels.models import Channel
from onevoice.db import exclusive, unit_of_work, utcnow
from onevoice.errors import Conflict, InvalidInput, NotFound
from onevoice.events.models import Event
from onevoice.messages.models import KINDS, Message, RoutingDecision
from onevoice.outbox.models import OutboxJob
from onevoice.privacy.erasure import TRIAGE_KEPT
from onevoice.privacy.models import RETENTION_ACTIONS, RetentionRule, RetentionRun
from onevoice.privacy.schemas import RetentionRuleOut
from onevoice.triage.models import TriageCorrection

BATCH = 500
MAX_DAYS = 36_500
LOCK = "retention"
log = logging.getLogger(__name__)


def require_retention_owner(who: Principal) -> None:
    require(who, POLICY_OWNERS, "change retention rules")


# Rules -----------------------------------------------------------------------------------------------------

def describe_rule(rule: RetentionRule, channels: dict[int, str]) -> RetentionRuleOut:
    """The rule with its channel's key (the row has the channel's id)."""
    return RetentionRuleOut(id=rule.id, channel=channels.get(rule.channel_id) if rule.channel_id else None,
                            kind=rule.kind, days=rule.days, action=rule.action, enabled=rule.enabled,
                            updated_by=rule.updated_by, updated_at=rule.updated_at.isoformat())


def list_rules(session: Session) -> list[RetentionRuleOut]:
    channels = dict(session.execute(select(Channel.id, Channel.key)).all())
    rules = session.scalars(select(RetentionRule))
    return sorted((describe_rule(r, channels) for r in rules), key=lambda r: (r.channel or "", r.kind or "", r.id))


def set_rule(session: Session, who: Principal, channel: str | None, kind: str | None, days: int,
             action: str = "anonymize", enabled: bool = True, ip: str | None = None) -> RetentionRuleOut:
    """Create or replace the rule for (channel, kind); audited as retention.set."""
    require_retention_owner(who)
    channel, kind = (channel or "").strip() or None, (kind or "").strip() or None
    if kind is not None and kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)} (or empty for every kind)")
    if action not in RETENTION_ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(RETENTION_ACTIONS)}")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days must be a whole number from 1 to {MAX_DAYS}")
    channel_id = None
    if channel is not None:
        channel_id = session.scalar(select(Channel.id).where(Channel.key == channel))
        if channel_id is None:
            raise InvalidInput(f"no channel {channel!r}")
    rule = session.scalar(select(RetentionRule).where(
        RetentionRule.channel_id.is_(None) if channel_id is None else RetentionRule.channel_id == channel_id,
        RetentionRule.kind.is_(None) if kind is None else RetentionRule.kind == kind))
    before = None if rule is None else {"days": rule.days, "action": rule.action, "enabled": rule.enabled}
    if rule is None:
        rule = RetentionRule(channel_id=channel_id, kind=kind, days=days)
        session.add(rule)
    rule.days, rule.action, rule.enabled = days, action, enabled
    rule.updated_by, rule.updated_at = who.label, utcnow()
    session.flush()
    audit.record(session, who, "retention.set", f"retention:{channel or '*'}/{kind or '*'}",
                 {"days": days, "action": action, "enabled": enabled, "before": before}, ip)
    return describe_rule(rule, {channel_id: channel} if channel_id else {})


def remove_rule(session: Session, who: Principal, rule_id: int, ip: str | None = None) -> None:
    require_retention_owner(who)
    rule = session.get(RetentionRule, rule_id)
    if rule is None:
        raise NotFound(f"no retention rule {rule_id}")
    channel = session.scalar(select(Channel.key).where(Channel.id == rule.channel_id)) if rule.channel_id else None
    audit.record(session, who, "retention.remove", f"retention:{channel or '*'}/{rule.kind or '*'}",
                 {"days": rule.days, "action": rule.action}, ip)
    session.delete(rule)
    session.flush()


# Runs ------------------------------------------------------------------------------------------------------

def _scope(rule: RetentionRule):
    return and_(Message.channel_id == rule.channel_id if rule.channel_id is not None else true(),
                Message.kind == rule.kind if rule.kind is not None else true())


def _specificity(rule: RetentionRule) -> int:
    return 2 * (rule.channel_id is not None) + (rule.kind is not None)


def _within(inner: RetentionRule, outer: RetentionRule) -> bool:
    return ((outer.channel_id is None or inner.channel_id == outer.channel_id)
            and (outer.kind is None or inner.kind == outer.kind))


def due_condition(rule: RetentionRule, rules: list[RetentionRule], now: datetime):
    """The messages this rule decides for and whose time has come."""
    narrower = [r for r in rules if r is not rule and _specificity(r) > _specificity(rule) and _within(r, rule)]
    cond = and_(_scope(rule), Message.created_at < now - timedelta(days=rule.days), Message.status != "accepted",
                *(not_(_scope(r)) for r in narrower))
    if rule.action == "anonymize":
        cond = and_(cond, Message.redacted_at.is_(None))
    return cond


@dataclass
class RunReport:
    anonymized: int = 0
    deleted: int = 0
    attachments: int = 0
    raw_payloads: int = 0

    def as_dict(self) -> dict:
        return {"anonymized": self.anonymized, "deleted": self.deleted, "attachments": self.attachments,
                "raw_payloads": self.raw_payloads}


def _count_content(session: Session, ids: list[int], report: RunReport) -> list:
    # JSON columns may hold SQL NULL or JSON null: what was there is judged in Python.
    rows = session.execute(select(Message.id, Message.triage, Message.attachments, Message.raw)
                           .where(Message.id.in_(ids))).all()
    report.attachments += sum(1 for r in rows if r.attachments)
    report.raw_payloads += sum(1 for r in rows if r.raw)
    return rows


def _anonymize(session: Session, ids: list[int], report: RunReport, now: datetime) -> None:
    rows = _count_content(session, ids, report)
    for mid, triage, _attachments, _raw in rows:
        kept = {k: triage[k] for k in TRIAGE_KEPT if k in triage} if isinstance(triage, dict) else None
        session.execute(update(Message).where(Message.id == mid).values(
            text="", author={}, raw=None, url=None, attachments=None, error=None, triage=kept, redacted_at=now))
    # A message's own history (an edit's text before, a deletion) goes with its text.
    session.execute(update(Event).where(Event.message_id.in_(ids)).values(data={}))
    session.execute(update(TriageCorrection).where(TriageCorrection.message_id.in_(ids)).values(text=""))
    report.anonymized += len(rows)


def _delete(session: Session, ids: list[int], report: RunReport) -> None:
    _count_content(session, ids, report)
    for column in (RoutingDecision.message_id, Event.message_id, TriageCorrection.message_id, Approval.message_id,
                   OutboxJob.message_id):
        session.execute(delete(column.class_).where(column.in_(ids)))
    # A reply we sent stays on record when what it answered goes.
    session.execute(update(OutboxJob).where(OutboxJob.parent_message_id.in_(ids)).values(parent_message_id=None))
    report.deleted += session.execute(delete(Message).where(Message.id.in_(ids))).rowcount or 0


def run(factory: sessionmaker, actor: Principal | str = "scheduler", now: datetime | None = None,
        batch: int = BATCH, progress: Callable[[RunReport], None] | None = None) -> dict:
    """Apply every enabled rule; one transaction per batch, then the run's record and its audit entry.
    Raises Conflict while another run (this node's or another's) is under way."""
    with exclusive(factory.kw["bind"], LOCK) as mine:
        if not mine:
            raise Conflict("a retention run is already under way (on this or another node); try again later")
        return _run(factory, actor, now, batch, progress)


def _run(factory: sessionmaker, actor: Principal | str, now: datetime | None, batch: int,
         progress: Callable[[RunReport], None] | None) -> dict:
    now = now or utcnow()
    started = utcnow()
    report = RunReport()
    with factory() as session:
        rules = list(session.scalars(select(RetentionRule).where(RetentionRule.enabled.is_(True))))
        for r in rules:
            session.expunge(r)
    for rule in sorted(rules, key=_specificity, reverse=True):
        cond = due_condition(rule, rules, now)
        last_id = 0
        while True:
            with unit_of_work(factory) as session:
                # Keyset by id: a deleted or anonymized batch is never selected again, and a message that
                # cannot be (none today) would not make the loop spin.
                ids = list(session.scalars(select(Message.id).where(cond, Message.id > last_id)
                                           .order_by(Message.id).limit(batch)))
                if not ids:
                    break
                if rule.action == "delete":
                    _delete(session, ids, report)
                else:
                    _anonymize(session, ids, report, now)
                last_id = ids[-1]
            if progress:
                progress(report)
    with unit_of_work(factory) as session:
        label = audit.actor_label(actor)
        entry = RetentionRun(started_at=started, finished_at=utcnow(), actor=label, detail=f"{len(rules)} rule(s)",
                             **report.as_dict())
        session.add(entry)
        session.flush()
        if report.anonymized or report.deleted:
            audit.record(session, actor, "retention.run", f"retention_run:{entry.id}", report.as_dict())
        return {"id": entry.id, "rules": len(rules), **report.as_dict()}


def runs(session: Session, limit: int = 20) -> list[RetentionRun]:
    return list(session.scalars(select(RetentionRun).order_by(RetentionRun.id.desc()).limit(limit)))


def job(factory: sessionmaker) -> dict | None:
    """The scheduler's pass: only when some rule exists (nothing is recorded on an organization without)."""
    with factory() as session:
        if session.scalar(select(RetentionRule.id).where(RetentionRule.enabled.is_(True)).limit(1)) is None:
            return None
    try:
        return run(factory, "scheduler")
    except Conflict:  # another node's pass is running it now
        log.info("retention: a run is already under way elsewhere; this pass skips")
        return None
