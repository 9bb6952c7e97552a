"""The policy guard's rules in the database: the default set, and changes by the coordinator (audited)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.audit import log as audit
from onevoice.auth.permissions import POLICY_OWNERS, require
from onevoice.auth.principal import Principal
from onevoice.db import utcnow
from onevoice.errors import Conflict, InvalidInput, NotFound
from onevoice.governance.guard import RuleSpec, validate_terms
from onevoice.governance.models import RULE_KINDS, SEVERITIES, GuardRule

# Characters per post or reply on each platform.
LENGTH_LIMITS = {"x": 280, "bluesky": 300, "mastodon": 500, "meta": 8000, "reddit": 10000, "email": 100_000,
                 "webhook": 10_000, "sandbox": 500}

DEFAULT_RULES: tuple[RuleSpec, ...] = (
    RuleSpec("banned-terms", "terms", "block", name="Banned terms and phrases",
             terms=("idiot", "stupid customer", "shut up", "scam", "f*ck", "wtf", "moron", "retard"),
             params={"category": "banned"}),
    RuleSpec("profanity", "terms", "block", name="Profanity",
             terms=("fuck", "fucking", "fucked", "shit", "bullshit", "asshole", "bitch", "bastard", "dickhead",
                    "piss off", "screw you", "damn you", "crap"),
             params={"category": "profanity"}),
    # Never said on the organization's behalf, in any context; organizations add their languages' terms.
    RuleSpec("slurs", "terms", "block", name="Slurs and hate terms",
             terms=("retarded", "spaz", "faggot", "fag", "dyke", "tranny", "nigger", "nigga", "kike", "spic",
                    "chink", "gook", "wetback", "raghead", "towelhead"),
             params={"category": "slur"}),
    RuleSpec("watched-terms", "terms", "warn", name="Watched terms (competitors, lawsuits, outages)",
             terms=("lawsuit", "sue", "class action", "outage", "data breach", "recall", "competitor"),
             params={"category": "watched"}),
    RuleSpec("unapproved-claims", "terms", "approval", name="Unapproved claims",
             terms=("guaranteed", "guarantee", "cure", "cures", "risk-free", "100% safe", "no risk",
                    "clinically proven", "miracle", "best in the world", "never fails", "get rich",
                    "double your money", "completely safe", "totally safe", "zero risk", "always works",
                    "100% effective", "100% guaranteed"),
             params={"category": "claim"}),
    # What the organization then owes: someone who may commit its money signs off first.
    RuleSpec("compensation-promises", "terms", "approval", name="Promises of compensation",
             terms=("full refund", "refund you", "we will refund", "we'll refund", "refund in full",
                    "compensate you", "compensation", "reimburse", "reimbursement", "money back",
                    "free replacement", "free of charge", "on the house", "voucher", "gift card",
                    "store credit", "credit your account", "waive the fee"),
             params={"category": "compensation"}),
    RuleSpec("regulated-words", "terms", "approval", name="Regulated financial and health words",
             terms=("investment advice", "investment returns", "interest rate", "APR", "financial advice", "diagnosis",
                    "diagnose", "medical treatment", "prescription", "FDA approved", "medical advice", "side effects"),
             params={"category": "regulated"}),
    RuleSpec("personal-data", "pii", "block", name="Personal data about to be published",
             params={"types": ["email", "phone", "card", "address"], "allow": ["@acme.example"]}),
    RuleSpec("credentials", "pii", "block", name="Passwords, keys and tokens",
             params={"types": ["credential"]}),
    RuleSpec("sponsored-disclosure", "disclosure", "block", name="Sponsored content must say #ad",
             params={"tags": ["#ad", "#sponsored", "#advertisement", "#paidpartnership"]}),
    RuleSpec("length-limits", "length", "block", name="Platform length limits", params={"limits": LENGTH_LIMITS}),
    RuleSpec("tone", "tone", "approval", name="Negative or sarcastic tone",
             params={"negative_below": -0.5, "sarcasm": True}),
)


def seed_fresh_install(session: Session) -> int:
    """The default rules on an install that has never had a guard rule (its first start); 0 otherwise, so
    that rules an organization switched off or changed are never put back. Audited."""
    if session.scalar(select(GuardRule.id).limit(1)) is not None:
        return 0
    added = seed_default_rules(session)
    audit.record(session, "system", "guard.defaults", "guard_rules",
                 {"rules": [spec.key for spec in DEFAULT_RULES]})
    return added


def seed_default_rules(session: Session) -> int:
    """Create the default rules that are missing (safe to call on every start). Returns how many were added."""
    have = set(session.scalars(select(GuardRule.key)))
    added = 0
    for spec in DEFAULT_RULES:
        if spec.key not in have:
            session.add(GuardRule(key=spec.key, name=spec.name, kind=spec.kind, severity=spec.severity,
                                  terms=list(spec.terms), params=dict(spec.params),
                                  channel_kinds=list(spec.channel_kinds), enabled=True))
            added += 1
    session.flush()
    return added


def active_rules(session: Session) -> list[GuardRule]:
    return list(session.scalars(select(GuardRule).where(GuardRule.enabled.is_(True)).order_by(GuardRule.id)))


def list_rules(session: Session) -> list[GuardRule]:
    return list(session.scalars(select(GuardRule).order_by(GuardRule.id)))


def get_rule(session: Session, rule_id: int) -> GuardRule:
    rule = session.get(GuardRule, rule_id)
    if rule is None:
        raise NotFound(f"no guard rule {rule_id}")
    return rule


def _clean(fields: dict) -> dict:
    out = {}
    if "key" in fields:
        key = (fields["key"] or "").strip().lower()
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", key):
            raise InvalidInput("a rule key is 1-64 lowercase letters, digits, - or _")
        out["key"] = key
    if "name" in fields:
        out["name"] = (fields["name"] or "").strip()[:200] or out.get("key", "rule")
    if "kind" in fields:
        if fields["kind"] not in RULE_KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(RULE_KINDS)}")
        out["kind"] = fields["kind"]
    if "severity" in fields:
        if fields["severity"] not in SEVERITIES:
            raise InvalidInput(f"severity must be one of {', '.join(SEVERITIES)}")
        out["severity"] = fields["severity"]
    if "terms" in fields:
        terms = fields["terms"]
        if isinstance(terms, str):
            terms = terms.splitlines() if "\n" in terms else terms.split(",")
        try:
            out["terms"] = validate_terms(terms or [])
        except re.error as exc:
            raise InvalidInput(f"a term does not work as a pattern: {exc}") from None
    if "params" in fields:
        if not isinstance(fields["params"], dict):
            raise InvalidInput("params must be an object")
        out["params"] = fields["params"]
    if "channel_kinds" in fields:
        kinds = fields["channel_kinds"] or []
        if isinstance(kinds, str):
            kinds = kinds.split(",")
        out["channel_kinds"] = sorted({k.strip() for k in kinds if k and k.strip()})
    if "enabled" in fields:
        out["enabled"] = bool(fields["enabled"])
    return out


def create_rule(session: Session, who: Principal, fields: dict, ip: str | None = None) -> GuardRule:
    require(who, POLICY_OWNERS, "change the policy guard's rules")
    data = _clean({"name": "", "severity": "warn", **fields})
    if "key" not in data or "kind" not in data:
        raise InvalidInput("a rule needs a key and a kind")
    if session.scalar(select(GuardRule.id).where(GuardRule.key == data["key"])) is not None:
        raise Conflict(f"a guard rule {data['key']!r} already exists")
    rule = GuardRule(**data, updated_by=who.label, updated_at=utcnow())
    session.add(rule)
    session.flush()
    audit.record(session, who, "guard_rule.create", f"guard_rule:{rule.key}", _snapshot(rule), ip)
    return rule


def update_rule(session: Session, who: Principal, rule_id: int, fields: dict, ip: str | None = None) -> GuardRule:
    require(who, POLICY_OWNERS, "change the policy guard's rules")
    rule = get_rule(session, rule_id)
    data = _clean({k: v for k, v in fields.items() if k != "key"})
    before = _snapshot(rule)
    for name, value in data.items():
        setattr(rule, name, value)
    rule.updated_by, rule.updated_at = who.label, utcnow()
    session.flush()
    after = _snapshot(rule)
    changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    audit.record(session, who, "guard_rule.update", f"guard_rule:{rule.key}", {"changed": changed}, ip)
    return rule


def _snapshot(rule: GuardRule) -> dict:
    return {"name": rule.name, "kind": rule.kind, "severity": rule.severity, "terms": list(rule.terms or []),
            "params": dict(rule.params or {}), "channel_kinds": list(rule.channel_kinds or []),
            "enabled": rule.enabled}
