"""A rule's `when`, worked out once: each condition becomes a function of (message, triage, decision so far).

The playbook reads every rule for every message (~30 conditions a message with the default playbook), and
looking each condition up by name, re-listing its values and re-parsing its numbers cost more than the
comparisons themselves. Here that is done when a rule is first used, and once when the playbook is loaded
(`Playbook._rule`): a value no condition can use (`keywords: [[x]]`, `weekdays: [1]`, `followers_at_least:
"many"`) is refused there, with the rule's name, instead of failing the routing of every message later.
This module is the only place a condition is evaluated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import lru_cache

# (route input, its triage, the decision so far) -> the reason the condition holds ("" for none), or None
Condition = Callable[[object, object, object], str | None]
Match = Callable[[object, object, object], list[str] | None]

URGENCIES = ("low", "normal", "high", "critical")


@lru_cache(maxsize=512)
def keyword_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """Any of these words or phrases, whole, in any case."""
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.I)


def compile_when(playbook, rule, when: dict) -> Match:
    """The reasons each condition of `when` holds, in order, or None as soon as one does not."""
    conditions = [_condition(playbook, rule, key, want) for key, want in when.items()]

    def match(item, t, d) -> list[str] | None:
        reasons: list[str] = []
        for condition in conditions:
            why = condition(item, t, d)
            if why is None:
                return None
            if why:
                reasons.append(why)
        return reasons
    return match


class ConditionError(ValueError):
    """A condition's value cannot be used (routing.playbook turns it into a PlaybookError naming the rule)."""


def _condition(playbook, rule, key: str, want) -> Condition:
    built = _BUILDERS.get(key)
    if built is None:
        raise ConditionError(f"unknown condition {key!r}")
    try:
        return built(playbook, rule, want)
    except ConditionError as exc:
        raise ConditionError(f"{key}: {exc}") from None
    except (TypeError, ValueError, OverflowError):
        raise ConditionError(f"{key}: cannot use {_shown(want)}") from None


def _shown(want) -> str:
    text = repr(want)
    return text if len(text) <= 60 else text[:57] + "..."


def names(want) -> tuple:
    """A name or a list of names, as text: `keywords: [404, error]` reads 404 as the word "404" (conditions, and
    the playbook's collaborators and tags)."""
    values = tuple(want) if isinstance(want, list) else (want,)
    if any(v is None or isinstance(v, (list, dict, bool)) for v in values):
        hint = " (quote words YAML reads as true or false: 'yes', 'no', 'on', 'off')" \
            if any(isinstance(v, bool) for v in values) else ""
        raise ConditionError(f"needs a name or a list of names, not {_shown(want)}{hint}")
    return tuple(v if isinstance(v, str) else str(v) for v in values)


def _at_least(want) -> int:
    """A whole-number threshold (followers, earlier messages): 1.5 means 2 or more."""
    if isinstance(want, bool):
        raise ConditionError(f"needs a number, not {_shown(want)}")
    try:
        value = float(want)
    except (TypeError, ValueError):
        raise ConditionError(f"needs a number, not {_shown(want)}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ConditionError(f"needs a number, not {_shown(want)}")
    return math.ceil(value)


def _number(want) -> float:
    if isinstance(want, bool):
        raise ConditionError(f"needs a number, not {_shown(want)}")
    try:
        return float(want)
    except (TypeError, ValueError):
        raise ConditionError(f"needs a number, not {_shown(want)}") from None


def _always(_playbook, _rule, want) -> Condition:
    answer = "" if want else None
    return lambda item, t, d: answer


def _member(attribute: str, on_triage: bool, label: str) -> Callable:
    """`<attribute> in want` (intent, sentiment, urgency, language, channel, kind, channel_kind)."""
    def build(_playbook, _rule, want) -> Condition:
        wants = names(want)
        if on_triage:
            def holds(item, t, d):
                value = getattr(t, attribute)
                return f"{label}{value}" if value in wants else None
        else:
            def holds(item, t, d):
                value = getattr(item, attribute)
                return f"{label}{value}" if value in wants else None
        return holds
    return build


def _intent(_playbook, _rule, want) -> Condition:
    wants = names(want)
    return lambda item, t, d: f"intent is {t.intent} ({t.intent_confidence:.0%})" if t.intent in wants else None


def _intent_not(_playbook, _rule, want) -> Condition:
    wants = names(want)
    return lambda item, t, d: "" if t.intent not in wants else None


def _language_not(_playbook, _rule, want) -> Condition:
    wants = names(want)
    return lambda item, t, d: f"language {t.language}" if t.language not in wants else None


def _confidence_at_least(_playbook, _rule, want) -> Condition:
    least = _number(want)
    return lambda item, t, d: "" if t.intent_confidence >= least else None


def _complaint(_playbook, _rule, want) -> Condition:
    wanted = bool(want)

    def holds(item, t, d):
        p = getattr(t, "complaint_probability", 0.0)
        flag = bool(getattr(t, "complaint", False))
        if flag != wanted:
            return None
        return f"a complaint ({p:.0%})" if flag else f"not a complaint ({p:.0%})"
    return holds


def _complaint_at_least(_playbook, _rule, want) -> Condition:
    least = _number(want)

    def holds(item, t, d):
        p = getattr(t, "complaint_probability", 0.0)
        return f"complaint probability {p:.0%} (>= {least:.0%})" if p >= least else None
    return holds


def _sentiment(_playbook, _rule, want) -> Condition:
    wants = names(want)
    return lambda item, t, d: (f"sentiment {t.sentiment} ({t.sentiment_score:+.2f})" if t.sentiment in wants
                               else None)


def _urgency_at_least(_playbook, _rule, want) -> Condition:
    least = URGENCIES.index(want)
    return lambda item, t, d: f"urgency {t.urgency}" if URGENCIES.index(t.urgency) >= least else None


def _followers_at_least(_playbook, _rule, want) -> Condition:
    least = _at_least(want)
    shown = f"{least:,}"

    def holds(item, t, d):
        n = item.author_followers
        return f"author has {n:,} followers (>= {shown})" if n >= least else None
    return holds


def _vip(_playbook, _rule, want) -> Condition:
    wanted = bool(want)
    return lambda item, t, d: ("author is on the VIP list" if item.author_vip else "") \
        if item.author_vip == wanted else None


def _repeat_at_least(_playbook, _rule, want) -> Condition:
    least = _at_least(want)

    def holds(item, t, d):
        n = item.prior_messages
        return f"customer wrote {n} times before" if n >= least else None
    return holds


def _keywords(_playbook, _rule, want) -> Condition:
    search = keyword_pattern(names(want)).search

    def holds(item, t, d):
        m = search(item.text or "")
        return f"mentions '{m.group(0)}'" if m else None
    return holds


def _topics(_playbook, _rule, want) -> Condition:
    wants = names(want)

    def holds(item, t, d):
        found = [x for x in t.topics if x in wants]
        return f"topic {', '.join(found)}" if found else None
    return holds


def _flags(_playbook, _rule, want) -> Condition:
    wants = names(want)
    reason = "flagged " + ", ".join(wants)

    def holds(item, t, d):
        flags = t.flags
        for f in wants:
            if not flags.get(f):
                return None
        return reason
    return holds


def _channel_kind(_playbook, _rule, want) -> Condition:
    wants = names(want)
    return lambda item, t, d: f"a {item.channel_kind} channel" if item.channel_kind in wants else None


def _mark(_playbook, _rule, want) -> Condition:
    # Marks people put on the customer (the Advocates page): an advocate's complaint can be raised.
    wants = names(want)

    def holds(item, t, d):
        found = [m for m in wants if m in item.author_marks]
        return f"customer marked {', '.join(found)}" if found else None
    return holds


def _products(_playbook, _rule, want) -> Condition:
    wants = None if want is True else names(want)  # `products: true`: any product named

    def holds(item, t, d):
        found = t.products if wants is None else [p for p in t.products if p in wants]
        return f"product {', '.join(found)}" if found else None
    return holds


def _terms(_playbook, _rule, want) -> Condition:
    # Entries of the organization's vocabulary (competitors, its own terms) the message names.
    wants = None if want is True else names(want)

    def holds(item, t, d):
        keys = [x["key"] for x in getattr(t, "terms", None) or []]
        found = keys if wants is None else [k for k in keys if k in wants]
        return f"names {', '.join(found)}" if found else None
    return holds


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekdays(_playbook, _rule, want) -> Condition:
    days = {w.lower()[:3] for w in names(want)}
    if not days <= set(DAYS):
        raise ConditionError(f"names days of the week (mon ... sun), not {_shown(want)}")

    def holds(item, t, d):
        day = DAYS[item.created_at.weekday()]
        return f"on {day}" if day in days else None
    return holds


def _unassigned(_playbook, _rule, want) -> Condition:
    wanted = bool(want)

    def holds(item, t, d):
        none = d.lead_team is None
        return ("no earlier rule chose a lead" if none else "") if none == wanted else None
    return holds


def _outside_business_hours(playbook, _rule, want) -> Condition:
    wanted = bool(want)

    def holds(item, t, d):
        # The calendar as the playbook holds it now (as Playbook._condition reads it).
        policy = playbook.sla_policies.get(playbook.business_hours or "")
        outside = policy is not None and not policy.is_open(item.created_at)
        return ("outside business hours" if outside else "") if outside == wanted else None
    return holds


def _any(playbook, rule, want) -> Condition:
    if not isinstance(want, list) or not all(isinstance(sub, dict) for sub in want):
        raise ConditionError("needs a list of condition mappings")
    subs = [compile_when(playbook, rule, sub) for sub in want]

    def holds(item, t, d):
        for sub in subs:
            got = sub(item, t, d)
            if got is not None:
                return "; ".join(got)
        return None
    return holds


def _not(playbook, rule, want) -> Condition:
    if not isinstance(want, dict):
        raise ConditionError("needs a mapping of conditions")
    sub = compile_when(playbook, rule, want)
    return lambda item, t, d: "" if sub(item, t, d) is None else None


_BUILDERS: dict[str, Callable] = {
    "always": _always, "intent": _intent, "intent_not": _intent_not, "confidence_at_least": _confidence_at_least,
    "complaint": _complaint, "complaint_at_least": _complaint_at_least, "sentiment": _sentiment,
    "urgency": _member("urgency", True, "urgency "), "urgency_at_least": _urgency_at_least,
    "language": _member("language", True, "language "), "language_not": _language_not,
    "channel": _member("channel", False, "channel "), "kind": _member("kind", False, "kind "),
    "followers_at_least": _followers_at_least, "vip": _vip, "repeat_at_least": _repeat_at_least,
    "keywords": _keywords, "topics": _topics, "flags": _flags, "any": _any, "not": _not,
    "unassigned": _unassigned, "outside_business_hours": _outside_business_hours, "channel_kind": _channel_kind,
    "mark": _mark, "products": _products, "terms": _terms, "weekdays": _weekdays,
}
