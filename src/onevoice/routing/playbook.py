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

from onevoice.routing.conditions import URGENCIES, ConditionError, compile_when, names
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
        if isinstance(name, (list, dict)):
            raise PlaybookError(f"rule {i + 1}: a rule's name is a word or phrase, not {name!r}")
        name = str(name)
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
        then = _then(then, name)
        if then.get("priority") and then["priority"] not in PRIORITIES:
            raise PlaybookError(f"rule {name}: priority must be one of {PRIORITIES}")
        if then.get("sla") and then["sla"] not in policies:
            raise PlaybookError(f"rule {name}: sla {then['sla']!r} is not one of the sla_policies")
        if r.get("stop") is not None and not isinstance(r["stop"], bool):
            raise PlaybookError(f"rule {name}: stop is true or false, not {r['stop']!r}")
        if r.get("why") is not None and not isinstance(r["why"], str):
            raise PlaybookError(f"rule {name}: why is a sentence, not {r['why']!r}")
        rule = Rule(name=name, when=when, then=then, stop=bool(r.get("stop")), why=r.get("why"))
        _compiled(None, rule)  # every value usable, or refused now rather than on every message routed
        return rule

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
            known = self._matchers[id(rule)] = (rule, rule.when, _compiled(self, rule))
        return known[2]

    def _calendar(self, policy: SlaPolicy) -> DueCalendar:
        """One DueCalendar per policy: the same due times as the policy's walk, without walking the days."""
        known = self._calendars.get(policy.name)
        if known is None or known.policy is not policy:
            known = self._calendars[policy.name] = DueCalendar(policy)
        return known


def _then(then: dict, name: str) -> dict:
    """The actions with values the router and the pages can use: one team (or policy, priority) where one is
    meant, names where names are meant (numbers read as names, as in conditions), true or false for switches.
    A list where one team is meant (`lead: [support]`) once failed the playbook's check with a 500."""
    out = dict(then)
    for key, one in (("lead", "one team"), ("priority", "one priority"), ("sla", "one SLA policy")):
        if out.get(key) is not None:
            if isinstance(out[key], (list, dict, bool)):
                raise PlaybookError(f"rule {name}: {key} names {one}, not {out[key]!r}")
            out[key] = str(out[key])
    for key in ("collaborators", "tags"):
        if out.get(key) is not None:
            try:
                out[key] = list(names(out[key]))
            except ConditionError:
                raise PlaybookError(f"rule {name}: {key} is a name or a list of names, not {out[key]!r}") from None
    for key in ("require_approval", "close_as_spam"):
        if out.get(key) is not None and not isinstance(out[key], bool):
            raise PlaybookError(f"rule {name}: {key} is true or false, not {out[key]!r}")
    return out


def _compiled(playbook: Playbook | None, rule: Rule):
    try:
        return compile_when(playbook, rule, rule.when)
    except ConditionError as exc:
        raise PlaybookError(f"rule {rule.name}: {exc}") from None


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
