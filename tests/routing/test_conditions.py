"""Compiled conditions (routing/conditions.py) answer exactly what the playbook's own evaluation answers."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from onevoice.routing.conditions import compile_when
from onevoice.routing.factory import default_playbook
from onevoice.routing.playbook import Playbook, PlaybookError, Rule
from onevoice.routing.types import Decision, RouteInput
from onevoice.triage.types import TriageResult

BASE = TriageResult(sentiment="negative", sentiment_score=-0.42, intent="complaint", intent_confidence=0.61,
                    intent_runner_up=None, urgency="high", language="en", flags={"threat": True},
                    products=["kettle"], topics=["defect", "pricing"], explanation=[], model_version="t",
                    complaint=True, complaint_probability=0.734, terms=[{"key": "rival"}])
TRIAGES = [BASE, replace(BASE, intent="praise", sentiment="positive", sentiment_score=0.8, urgency="low",
                         language="es", flags={}, products=[], topics=[], complaint=False,
                         complaint_probability=0.05, intent_confidence=0.95),
           replace(BASE, intent="spam", urgency="critical", flags={"crisis": True, "threat": False},
                   topics=["outage"], complaint_probability=0.5)]
ITEMS = [dict(text="The cashier was rude, my kettle is broken", followers=12_000, vip=True, prior=3,
              marks=("advocate",)),
         dict(text="", followers=0, vip=False, prior=0, marks=()),
         dict(text="Staff-room? no. KETTLE!", followers=9_999, vip=False, prior=2, marks=("detractor_watch",))]
WHENS = [
    {"always": True}, {"always": False}, {"intent": "complaint"}, {"intent": ["praise", "spam"]},
    {"intent_not": ["spam"]}, {"confidence_at_least": 0.6}, {"confidence_at_least": "0.9"},
    {"confidence_at_least": "lots"}, {"complaint": True}, {"complaint": False}, {"complaint_at_least": 0.5},
    {"sentiment": ["negative"]}, {"urgency": "high"}, {"urgency_at_least": "high"}, {"urgency_at_least": "nope"},
    {"language": ["en"]}, {"language_not": "en"}, {"channel": ["x", "mail"]}, {"kind": "mention"},
    {"channel_kind": ["x"]}, {"followers_at_least": 10000}, {"followers_at_least": "1.5"},
    {"vip": True}, {"vip": False}, {"mark": ["advocate", "vip"]}, {"repeat_at_least": 2},
    {"keywords": ["cashier", "staff"]}, {"keywords": "kettle"}, {"keywords": [1, 2]}, {"topics": ["defect", "outage"]},
    {"products": True}, {"products": ["kettle"]}, {"terms": True}, {"flags": ["threat"]},
    {"flags": ["threat", "crisis"]}, {"flags": [["x"]]}, {"weekdays": ["fri"]}, {"outside_business_hours": True},
    {"unassigned": True}, {"any": [{"intent": "spam"}, {"flags": ["threat"], "vip": True}]}, {"any": "x"},
    {"not": {"intent": "praise"}}, {"not": "x"}, {"intent": "complaint", "sentiment": "negative", "topics": ["defect"]},
    {"bogus": 1},
]


def answer(fn):
    try:
        return ("ok", fn())
    except Exception as exc:  # noqa: BLE001 - the same failure is part of the same answer
        return ("raised", type(exc))


@pytest.mark.parametrize("when", WHENS, ids=[str(w) for w in WHENS])
def test_compiled_conditions_answer_as_the_playbook_does(when):
    playbook = default_playbook()
    rule = Rule(name="r", when=when, then={})
    compiled = compile_when(playbook, rule, when)
    for triage, item, lead in itertools.product(TRIAGES, ITEMS, (None, "support")):
        given = RouteInput(text=item["text"], kind="mention", channel="x", channel_kind="x",
                           created_at=datetime(2025, 6, 6, 19, 0, tzinfo=UTC), triage=triage,
                           author_followers=item["followers"], author_vip=item["vip"],
                           author_marks=item["marks"], prior_messages=item["prior"])
        d = Decision(lead_team=lead)
        expected = answer(lambda: playbook._match(rule, when, given, d))  # noqa: B023 - called at once
        assert answer(lambda: compiled(given, triage, d)) == expected, (when, triage.intent, item["text"])  # noqa: B023


def test_a_replaced_when_is_compiled_again():
    playbook = Playbook.from_yaml("rules: [{name: a, when: {intent: praise}, then: {lead: pr}}]")
    item = RouteInput(text="x", kind="mention", channel="x", created_at=datetime(2025, 6, 6, tzinfo=UTC),
                      triage=BASE)
    assert playbook.route(item).lead_team is None
    playbook.rules[0].when = {"intent": "complaint"}
    assert playbook.route(item).lead_team == "pr"


def test_an_unknown_condition_still_fails_when_evaluated():
    playbook = default_playbook()
    rule = Rule(name="r", when={"bogus": 1}, then={})
    with pytest.raises(PlaybookError, match="unknown condition 'bogus'"):
        compile_when(playbook, rule, rule.when)(None, BASE, Decision(lead_team=None))
