"""Playbooks: ordered, readable routing rules over triage output, channel, author, keywords and time.

Semantics, chosen so a coordinator can predict the result by reading the file top to bottom:
- every rule whose `when` holds fires, in order, until one says `stop: true`;
- `lead` is set by the first firing rule that names one (put specific rules above general ones);
- collaborators and tags add up; `priority` only ever raises; `sla` is the first one named;
- `require_approval` and `close_as_spam` stick once set;
- each fired rule is recorded with a reason built from the conditions that matched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from onevoice.routing.conditions import URGENCIES, compile_when, keyword_pattern
from onevoice.routing.sla import DAYS, DueCalendar, SlaPolicy
from onevoice.routing.types import Decision, RouteInput
from onevoice.triage.types import INTENTS, SENTIMENTS

PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_FOR_URGENCY = {"low": "low", "normal": "normal", "high": "high", "critical": "urgent"}
CONDITIONS = {"intent", "intent_not", "confidence_at_least", "sentiment", "urgency", "urgency_at_least",
              "language", "language_not", "channel", "kind", "followers_at_least", "vip", "repeat_at_least",
              "keywords", "topics", "products", "flags", "outside_business_hours", "weekdays", "always",
              "unassigned", "any", "not", "channel_kind", "complaint", "complaint_at_least", "terms", "mark"}
# Conditions whose values come from a closed list: a typo ("complain") would otherwise never match, silently.
CLOSED_VALUES = {"intent": INTENTS, "intent_not": INTENTS, "sentiment": SENTIMENTS, "urgency": URGENCIES,
                 "urgency_at_least": URGENCIES}
# The marks a customer can carry (set on the Advocates page); a typo would never match, so it is refused.
MARKS = ("advocate", "vip", "detractor_watch")
RULE_KEYS = {"name", "why", "when", "then", "stop"}
ACTIONS = {"lead", "collaborators", "priority", "sla", "tags", "require_approval", "close_as_spam"}


class PlaybookError(ValueError):
    """The playbook text is not a valid playbook; the message says where."""


def _list(v) -> list:
    return v if isinstance(v, list) else [v]


@dataclass
class Rule:
    name: str
    when: dict
    then: dict
    stop: bool = False
    why: str | None = None


@dataclass
class Playbook:
    name: str
    version: str
    rules: list[Rule]
    sla_policies: dict[str, SlaPolicy]
    default_sla: str | None = None
    business_hours: str | None = None  # the policy whose calendar "outside_business_hours" reads
    meta: dict = field(default_factory=dict)
    # Worked out on first use: each rule's conditions (routing/conditions.py), each policy's due-time calendar.
    _matchers: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _calendars: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def from_yaml(cls, text: str, version: str | None = None) -> Playbook:
        try:
            d = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise PlaybookError(f"not valid YAML: {exc}") from exc
        except RecursionError:
            raise PlaybookError("not valid YAML: nested too deeply") from None
        if not isinstance(d, dict) or not isinstance(d.get("rules"), list):
            raise PlaybookError("a playbook is a mapping with a list of rules")
        policies = cls._policies(d.get("sla_policies"))
        rules = [cls._rule(i, r, policies) for i, r in enumerate(d["rules"])]
        default_sla = d.get("default_sla")
        if default_sla and default_sla not in policies:
            raise PlaybookError(f"default_sla {default_sla!r} is not one of the sla_policies")
        return cls(name=d.get("name", "playbook"), version=version or f"{d.get('name', 'playbook')}-"
                   f"{d.get('version', 1)}", rules=rules, sla_policies=policies, default_sla=default_sla,
                   business_hours=d.get("business_hours_policy", default_sla), meta=d)

    @staticmethod
    def _policies(spec) -> dict[str, SlaPolicy]:
        if spec is None:
            return {}
        if not isinstance(spec, dict):
            raise PlaybookError("sla_policies must be a mapping of policy name to policy")
        out = {}
        for name, p in spec.items():
            out[name] = sla_policy(name, p)
        return out

    @staticmethod
    def _rule(i: int, r: dict, policies: dict) -> Rule:
        if not isinstance(r, dict):
            raise PlaybookError(f"rule {i + 1} must be a mapping with name, when and then")
        name = r.get("name") or f"rule-{i + 1}"
        extra = set(r) - RULE_KEYS
        if extra:
            raise PlaybookError(f"rule {name}: unknown key(s) {sorted(extra)}; a rule has {sorted(RULE_KEYS)}")
        when, then = r.get("when") or {"always": True}, r.get("then") or {}
        if not isinstance(then, dict):
            raise PlaybookError(f"rule {name}: `then` must be a mapping of actions")
        _check(when, name)
        unknown = set(then) - ACTIONS
        if unknown:
            raise PlaybookError(f"rule {name}: unknown action(s) {sorted(unknown)}; known: {sorted(ACTIONS)}")
        if then.get("priority") and then["priority"] not in PRIORITIES:
            raise PlaybookError(f"rule {name}: priority must be one of {PRIORITIES}")
        if then.get("sla") and then["sla"] not in policies:
            raise PlaybookError(f"rule {name}: sla {then['sla']!r} is not one of the sla_policies")
        return Rule(name=name, when=when, then=then, stop=bool(r.get("stop")), why=r.get("why"))

    # -- evaluation -------------------------------------------------------------------------------------

    def route(self, item: RouteInput) -> Decision:
        d = Decision(lead_team=None, playbook_version=self.version)
        priority: str | None = None
        triage = item.triage
        for rule in self.rules:
            reasons = self._matcher(rule)(item, triage, d)
            if reasons is None:
                continue
            t = rule.then
            if t.get("lead") and d.lead_team is None:
                d.lead_team = t["lead"]
            for team in _list(t.get("collaborators") or []):
                if team not in d.collaborators:
                    d.collaborators.append(team)
            if t.get("priority") and (priority is None or PRIORITIES.index(t["priority"]) > PRIORITIES.index(priority)):
                priority = t["priority"]
            if t.get("sla") and d.sla_policy is None:
                d.sla_policy = t["sla"]
            for tag in _list(t.get("tags") or []):
                if tag not in d.tags:
                    d.tags.append(tag)
            d.requires_approval = d.requires_approval or bool(t.get("require_approval"))
            d.close_as_spam = d.close_as_spam or bool(t.get("close_as_spam"))
            why = "; ".join(reasons) or "always"
            d.rules.append({"rule": rule.name, "why": f"{rule.why} ({why})" if rule.why else why})
            if rule.stop:
                break
        if d.lead_team in d.collaborators:
            d.collaborators.remove(d.lead_team)
        d.priority = priority or PRIORITY_FOR_URGENCY.get(item.triage.urgency, "normal")
        d.sla_policy = None if d.close_as_spam else d.sla_policy or self.default_sla
        policy = self.sla_policies.get(d.sla_policy or "")
        if policy is not None:
            d.sla_due_at = policy.due(item.created_at, d.priority, calendar=self._calendar(policy))
        return d

    def _matcher(self, rule: Rule):
        """The rule's compiled `when` (conditions.compile_when), compiled again if the rule's `when` was replaced."""
        known = self._matchers.get(id(rule))
        if known is None or known[0] is not rule or known[1] is not rule.when:
            known = self._matchers[id(rule)] = (rule, rule.when, compile_when(self, rule, rule.when))
        return known[2]

    def _calendar(self, policy: SlaPolicy) -> DueCalendar:
        """One DueCalendar per policy: the same due times as the policy's walk, without walking the days."""
        known = self._calendars.get(policy.name)
        if known is None or known.policy is not policy:
            known = self._calendars[policy.name] = DueCalendar(policy)
        return known

    def _match(self, rule: Rule, when: dict, item: RouteInput, d: Decision) -> list[str] | None:
        """The reasons each condition holds, or None as soon as one does not."""
        t = item.triage
        reasons: list[str] = []
        for key, want in when.items():
            why = self._condition(rule, key, want, item, t, d)
            if why is None:
                return None
            if why:
                reasons.append(why)
        return reasons

    def _condition(self, rule: Rule, key: str, want, item: RouteInput, t, d: Decision) -> str | None:
        if key == "always":
            return "" if want else None
        if key == "unassigned":
            return ("no earlier rule chose a lead" if d.lead_team is None else "") \
                if (d.lead_team is None) == bool(want) else None
        if key == "intent":
            return f"intent is {t.intent} ({t.intent_confidence:.0%})" if t.intent in _list(want) else None
        if key == "intent_not":
            return "" if t.intent not in _list(want) else None
        if key == "confidence_at_least":
            return "" if t.intent_confidence >= float(want) else None
        if key == "complaint":
            # The triage's complaint flag: a breach of expectations however phrased (a question, sarcasm...).
            p = getattr(t, "complaint_probability", 0.0)
            flag = bool(getattr(t, "complaint", False))
            if flag != bool(want):
                return None
            return f"a complaint ({p:.0%})" if flag else f"not a complaint ({p:.0%})"
        if key == "complaint_at_least":
            p = getattr(t, "complaint_probability", 0.0)
            return f"complaint probability {p:.0%} (>= {float(want):.0%})" if p >= float(want) else None
        if key == "sentiment":
            return f"sentiment {t.sentiment} ({t.sentiment_score:+.2f})" if t.sentiment in _list(want) else None
        if key == "urgency":
            return f"urgency {t.urgency}" if t.urgency in _list(want) else None
        if key == "urgency_at_least":
            return f"urgency {t.urgency}" if URGENCIES.index(t.urgency) >= URGENCIES.index(want) else None
        if key == "language":
            return f"language {t.language}" if t.language in _list(want) else None
        if key == "language_not":
            return f"language {t.language}" if t.language not in _list(want) else None
        if key == "channel":
            return f"channel {item.channel}" if item.channel in _list(want) else None
        if key == "kind":
            return f"kind {item.kind}" if item.kind in _list(want) else None
        if key == "channel_kind":
            return f"a {item.channel_kind} channel" if item.channel_kind in _list(want) else None
        if key == "followers_at_least":
            n = item.author_followers
            return f"author has {n:,} followers (>= {int(want):,})" if n >= int(want) else None
        if key == "vip":
            return ("author is on the VIP list" if item.author_vip else "") if item.author_vip == bool(want) else None
        if key == "mark":
            # Marks people put on the customer (the Advocates page): an advocate's complaint can be raised.
            found = [m for m in _list(want) if m in item.author_marks]
            return f"customer marked {', '.join(found)}" if found else None
        if key == "repeat_at_least":
            n = item.prior_messages
            return f"customer wrote {n} times before" if n >= int(want) else None
        if key == "keywords":
            m = keyword_pattern(tuple(_list(want))).search(item.text or "")
            return f"mentions '{m.group(0)}'" if m else None
        if key == "topics":
            found = [x for x in t.topics if x in _list(want)]
            return f"topic {', '.join(found)}" if found else None
        if key == "products":
            found = t.products if want is True else [p for p in t.products if p in _list(want)]
            return f"product {', '.join(found)}" if found else None
        if key == "terms":
            # Entries of the organization's vocabulary (competitors, its own terms) the message names.
            keys = [x["key"] for x in getattr(t, "terms", None) or []]
            found = keys if want is True else [k for k in keys if k in _list(want)]
            return f"names {', '.join(found)}" if found else None
        if key == "flags":
            missing = [f for f in _list(want) if not t.flags.get(f)]
            return None if missing else "flagged " + ", ".join(_list(want))
        if key == "outside_business_hours":
            policy = self.sla_policies.get(self.business_hours or "")
            outside = policy is not None and not policy.is_open(item.created_at)
            return ("outside business hours" if outside else "") if outside == bool(want) else None
        if key == "weekdays":
            day = item.created_at.strftime("%a").lower()
            return f"on {day}" if day in [w.lower()[:3] for w in _list(want)] else None
        if key == "any":
            for sub in want:
                got = self._match(rule, sub, item, d)
                if got is not None:
                    return "; ".join(got)
            return None
        if key == "not":
            return "" if self._match(rule, want, item, d) is None else None
        raise PlaybookError(f"rule {rule.name}: unknown condition {key!r}")


def _check(when: dict, name: str) -> None:
    if not isinstance(when, dict):
        raise PlaybookError(f"rule {name}: `when` must be a mapping of conditions")
    unknown = set(when) - CONDITIONS
    if unknown:
        raise PlaybookError(f"rule {name}: unknown condition(s) {sorted(unknown)}; known: {sorted(CONDITIONS)}")
    for key, allowed in CLOSED_VALUES.items():
        if key in when:
            wrong = [v for v in _list(when[key]) if v not in allowed]
            if wrong:
                raise PlaybookError(f"rule {name}: {key} {wrong[0]!r} is not one of {', '.join(allowed)}")
    if "mark" in when:
        wrong = [v for v in _list(when["mark"]) if v not in MARKS]
        if wrong:
            raise PlaybookError(f"rule {name}: mark {wrong[0]!r} is not one of {', '.join(MARKS)}")
    if "complaint" in when and not isinstance(when["complaint"], bool):
        raise PlaybookError(f"rule {name}: complaint is true or false, not {when['complaint']!r}")
    for key in ("confidence_at_least", "followers_at_least", "repeat_at_least", "complaint_at_least"):
        if key in when:
            try:
                float(when[key])
            except (TypeError, ValueError):
                raise PlaybookError(f"rule {name}: {key} needs a number, not {when[key]!r}") from None
    if "any" in when and not isinstance(when["any"], list):
        raise PlaybookError(f"rule {name}: `any` must be a list of condition mappings")
    for sub in when.get("any", []):
        _check(sub, name)
    if "not" in when:
        _check(when["not"], name)



def sla_policy(name: str, spec) -> SlaPolicy:
    """One SLA policy from the playbook, with a message naming it when a value does not read."""
    if not isinstance(spec, dict):
        raise PlaybookError(f"sla policy {name}: must be a mapping (first_response, business_hours...)")
    hours = spec.get("business_hours", "always")
    if isinstance(hours, dict):  # name the day and the value that does not read
        for day, span in hours.items():
            if str(day).lower()[:3] not in DAYS:
                raise PlaybookError(f"sla policy {name}: business_hours: {day!r} is not a weekday (mon..sun)")
            try:
                start, end = (time.fromisoformat(x.strip()) for x in str(span).split("-"))
            except ValueError as exc:
                raise PlaybookError(f"sla policy {name}: business_hours {day}: {span!r} is not like "
                                    f"\"09:00-18:00\" ({exc})") from None
            if start >= end:
                raise PlaybookError(f"sla policy {name}: business_hours {day}: {span!r} closes before it opens")
    elif hours != "always":
        raise PlaybookError(f"sla policy {name}: business_hours is a mapping of weekday to hours, or always")
    try:
        policy = SlaPolicy.from_dict(name, spec)
        ZoneInfo(policy.timezone)
        return policy
    except ZoneInfoNotFoundError:
        raise PlaybookError(f"sla policy {name}: unknown timezone {spec.get('timezone')!r} "
                            "(use an IANA name such as Europe/Madrid)") from None
    except (ValueError, TypeError, AttributeError) as exc:
        hint = "" if "duration" in str(exc) else " (business hours look like mon: \"09:00-18:00\", or always)"
        raise PlaybookError(f"sla policy {name}: {exc}{hint}") from None
