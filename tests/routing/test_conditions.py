"""Conditions (routing/conditions.py, the only place they are evaluated) answer as they always did, and a value
no condition can use is refused when the playbook is loaded, not on every message routed.

`condition_answers.json` holds, for every `when` below that the playbook could evaluate, the answers of the
playbook's own evaluator (`Playbook._condition`, of which conditions.py was the compiled twin) for each triage,
message and decision below, recorded at f4e2179 before that evaluator was removed: the reasons, or null."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from onevoice.routing.conditions import compile_when
from onevoice.routing.factory import default_playbook
from onevoice.routing.playbook import CONDITIONS, Playbook, PlaybookError, Rule
from onevoice.routing.types import Decision, RouteInput
from onevoice.routing.validate import check
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


ANSWERS = json.loads((Path(__file__).parent / "condition_answers.json").read_text())
# Values the old evaluator failed on at every message routed (TypeError, ValueError...): now refused at load.
REFUSED = {"confidence_at_least": "lots", "urgency_at_least": "nope", "flags": [["x"]], "any": "x", "not": "x",
           "bogus": 1}


def combinations():
    for triage, item, lead in itertools.product(TRIAGES, ITEMS, (None, "support")):
        yield triage, Decision(lead_team=lead), RouteInput(
            text=item["text"], kind="mention", channel="x", channel_kind="x",
            created_at=datetime(2025, 6, 6, 19, 0, tzinfo=UTC), triage=triage, author_followers=item["followers"],
            author_vip=item["vip"], author_marks=item["marks"], prior_messages=item["prior"])


@pytest.mark.parametrize("when", [w for w in WHENS if json.dumps(w, sort_keys=True) in ANSWERS], ids=str)
def test_conditions_answer_as_they_always_did(when):
    compiled = compile_when(default_playbook(), Rule(name="r", when=when, then={}), when)
    got = [compiled(given, triage, d) for triage, d, given in combinations()]
    assert got == ANSWERS[json.dumps(when, sort_keys=True)], when


def test_every_condition_is_pinned():
    """Each condition the playbook knows has recorded answers (a new one needs its own test here)."""
    pinned = {key for w in ANSWERS for key in json.loads(w)}
    assert not CONDITIONS - pinned, sorted(CONDITIONS - pinned)


@pytest.mark.parametrize("key", sorted(REFUSED))
def test_a_value_no_condition_can_use_is_refused_when_the_playbook_loads(key):
    source = yaml.safe_dump({"rules": [{"name": "odd", "when": {key: REFUSED[key]}, "then": {"lead": "support"}}]})
    with pytest.raises(PlaybookError, match="rule odd: "):
        Playbook.from_yaml(source)
    problems = check(source, {"support"})
    assert len(problems) == 1 and problems[0].line == 2 and "rule odd" in problems[0].message, problems


@pytest.mark.parametrize(("when", "why"), [
    ({"keywords": [True]}, "quote words YAML reads as true or false"),
    ({"weekdays": [1]}, "names days of the week"),
    ({"weekdays": ["someday"]}, "names days of the week"),
    ({"followers_at_least": "many"}, "followers_at_least: needs a number"),
    ({"any": [{"keywords": [None]}]}, "any: keywords: needs a name"),
    ({"topics": {"a": 1}}, "topics: needs a name"),
])
def test_refusals_say_what_is_wrong(when, why):
    with pytest.raises(PlaybookError, match=why):
        Playbook.from_yaml(yaml.safe_dump({"rules": [{"name": "r", "when": when, "then": {}}]}))


def test_numbers_in_a_list_of_words_are_words_and_thresholds_round_up():
    """`keywords: [404, error]` (YAML reads 404 as a number) once broke the routing of every message after the
    playbook was saved and activated; a fractional threshold meant its whole part."""
    book = Playbook.from_yaml("rules:\n- {name: codes, when: {keywords: [404, 500]}, then: {lead: support}}\n"
                              "- {name: big, when: {followers_at_least: '1.5'}, then: {collaborators: [pr]}}\n")
    at = datetime(2025, 6, 6, tzinfo=UTC)
    hit = book.route(RouteInput(text="error 404 on checkout", kind="mention", channel="x", created_at=at,
                                triage=BASE, author_followers=1))
    assert hit.lead_team == "support" and hit.collaborators == [] and "mentions '404'" in hit.reason
    two = book.route(RouteInput(text="fine", kind="mention", channel="x", created_at=at, triage=BASE,
                                author_followers=2))
    assert two.lead_team is None and two.collaborators == ["pr"] and "(>= 2)" in two.reason


def test_a_replaced_when_is_compiled_again():
    playbook = Playbook.from_yaml("rules: [{name: a, when: {intent: praise}, then: {lead: pr}}]")
    item = RouteInput(text="x", kind="mention", channel="x", created_at=datetime(2025, 6, 6, tzinfo=UTC),
                      triage=BASE)
    assert playbook.route(item).lead_team is None
    playbook.rules[0].when = {"intent": "complaint"}
    assert playbook.route(item).lead_team == "pr"


def test_a_rule_given_in_code_with_an_unknown_condition_fails_when_routed():
    """Rules made without the loader's checks (tests, tools) still fail loudly, naming the rule."""
    playbook = default_playbook()
    playbook.rules.insert(0, Rule(name="r", when={"bogus": 1}, then={}))
    item = RouteInput(text="x", kind="mention", channel="x", created_at=datetime(2025, 6, 6, tzinfo=UTC),
                      triage=BASE)
    with pytest.raises(PlaybookError, match="rule r: unknown condition 'bogus'"):
        playbook.route(item)


@pytest.mark.parametrize(("rule", "why"), [
    ("{name: a, then: {lead: [support]}}", "lead names one team, not \\['support'\\]"),
    ("{name: a, then: {collaborators: [[pr]]}}", "collaborators is a name or a list of names"),
    ("{name: a, then: {sla: [fast]}}", "sla names one SLA policy"),
    ("{name: a, then: {tags: [{a: 1}]}}", "tags is a name or a list of names"),
    ("{name: a, then: {require_approval: 'no'}}", "require_approval is true or false, not 'no'"),
    ("{name: [a], then: {}}", "a rule's name is a word or phrase"),
    ("{name: a, stop: 'yes'}", "stop is true or false"),
])
def test_actions_a_router_cannot_use_are_problems_with_their_line(rule, why):
    """`lead: [support]` made the playbook's check itself fail (unhashable list: the editor answered 500), and
    `tags: [[x]]` reached the cases' tags."""
    problems = check(f"name: p\nrules:\n- {rule}\n", {"support", "pr"})
    assert len(problems) == 1 and problems[0].line == 3, problems
    assert re.search(why, problems[0].message), problems[0].message


def test_numbers_among_tags_and_teams_are_names():
    book = Playbook.from_yaml("rules: [{name: a, when: {always: true}, then: {tags: [2026, promo], lead: 7}}]")
    d = book.route(RouteInput(text="x", kind="mention", channel="x", created_at=datetime(2025, 6, 6, tzinfo=UTC),
                              triage=BASE))
    assert d.tags == ["2026", "promo"] and d.lead_team == "7"
