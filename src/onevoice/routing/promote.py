"""What a coordinator does with a learned rule: promote it into the playbook, or dismiss it.

Promoting writes the rule into the active playbook's YAML as its first rule (a learned rule is specific:
intent, subject, channel kind), keeping the rest of the text and its comments as they are, saves that as
a new version and activates it. Dismissing says routing was right after all. Both are audited, and both
end the learned rule: the corrections up to now no longer count for that context (learning.compute).
"""

from __future__ import annotations

import re

import yaml
from sqlalchemy.orm import Session

from onevoice.audit import log as audit
from onevoice.auth.principal import Principal
from onevoice.db import utcnow
from onevoice.errors import InvalidInput
from onevoice.routing import learning, service
from onevoice.routing.models import LearnedRoute

_RULES = re.compile(r"^rules:[ \t]*(#.*)?$", re.M)
_ITEM = re.compile(r"^([ \t]*)- ", re.M)


def list_learned(session: Session, who: Principal) -> list[dict]:
    service.require_editor(who)
    return [r.to_dict() for r in learning.compute(session, utcnow())]


def _find(session: Session, intent: str, subject: str, channel_kind: str, team: str) -> learning.LearnedRule:
    ctx = learning.Context(intent, subject or "", channel_kind or "")
    for rule in learning.compute(session, utcnow()):
        if rule.context == ctx and rule.team == team:
            return rule
    raise InvalidInput(f"no learned rule sends {ctx.describe()} to {team} (it may have been decided on already)")


def _decide(session: Session, who: Principal, rule: learning.LearnedRule, status: str) -> None:
    c = rule.context
    session.add(LearnedRoute(intent=c.intent, subject=c.subject, channel_kind=c.channel_kind, team=rule.team,
                             status=status, corrections=rule.corrections, decided_by=who.label,
                             decided_at=utcnow()))
    session.flush()


def with_rule_first(source: str, rule_yaml: str) -> str:
    """The playbook text with one more rule at the top of `rules:`, comments and layout kept."""
    m = _RULES.search(source)
    if m is not None:
        item = _ITEM.search(source, m.end())
        indent = item.group(1) if item else "  "
        block = "".join(indent + line[2:] + "\n" for line in rule_yaml.splitlines())
        at = m.end() + 1 if m.end() < len(source) else m.end()
        head = source[:at] if source[:at].endswith("\n") else source[:at] + "\n"
        return head + block + source[at:]
    # `rules: [...]` written inline: no layout to keep.
    data = yaml.safe_load(source)
    data["rules"] = [*yaml.safe_load(rule_yaml), *data["rules"]]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def promote(session: Session, who: Principal, intent: str, subject: str, channel_kind: str, team: str,
            ip: str | None = None) -> dict:
    """Write the learned rule into the active playbook as a new, active version."""
    service.require_editor(who)
    rule = _find(session, intent, subject, channel_kind, team)
    current = service.active(session, who)
    source = with_rule_first(current.source, rule.to_yaml())
    saved = service.save(session, who, source, note=f"promoted {rule.name}: {rule.why}", activate=True, ip=ip)
    _decide(session, who, rule, "promoted")
    audit.record(session, who, "learned_route.promote", f"playbook:{saved.name}",
                 {"rule": rule.name, "team": rule.team, "corrections": rule.corrections,
                  "version": saved.version}, ip)
    return {"playbook": saved, "rule": rule.to_dict()}


def dismiss(session: Session, who: Principal, intent: str, subject: str, channel_kind: str, team: str,
            ip: str | None = None) -> dict:
    """Stop applying a learned rule (routing was right); audited."""
    service.require_editor(who)
    rule = _find(session, intent, subject, channel_kind, team)
    _decide(session, who, rule, "dismissed")
    audit.record(session, who, "learned_route.dismiss", f"learned:{rule.name}",
                 {"team": rule.team, "corrections": rule.corrections}, ip)
    return rule.to_dict()
