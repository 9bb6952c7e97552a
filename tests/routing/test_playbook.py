"""The default playbook on realistic messages for each team, rule semantics, SLA clocks, loading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onevoice.routing.factory import build_router, default_playbook
from onevoice.routing.models import Playbook as PlaybookRow
from onevoice.routing.playbook import Playbook, PlaybookError
from onevoice.routing.sla import SlaPolicy, parse_duration
from onevoice.routing.types import RouteInput
from onevoice.triage.triager import FastTriager
from onevoice.triage.types import TriageInput

FRIDAY_5PM = datetime(2025, 6, 6, 17, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def triager():
    return FastTriager()


@pytest.fixture(scope="module")
def playbook():
    return default_playbook()


def route(playbook, triager, text, followers=0, vip=False, prior=0, at=FRIDAY_5PM, channel="mastodon"):
    t = triager.triage(TriageInput(text=text, author_followers=followers, prior_messages=prior))
    return playbook.route(RouteInput(text=text, kind="mention", channel=channel, created_at=at, triage=t,
                                     author_followers=followers, author_vip=vip, prior_messages=prior))


@pytest.mark.parametrize("text,lead,collaborators", [
    ("Still waiting for my refund after three weeks, nobody answers. Useless.", "support", []),
    ("The charger caught fire and burned my hand, I was in hospital", "support", ["product", "pr"]),
    ("My lawyer will be in touch, you charged me four times and refuse to refund", "support", ["legal"]),
    ("We want to buy 40 licences for our team, can someone send a quote?", "sales", []),
    ("How much does the business plan cost per user?", "sales", []),
    ("We'd love to explore a sponsorship partnership for our festival", "sales", []),
    ("Are you hiring interns this summer? I'd like to send my CV", "hr", []),
    ("Journalist at the Daily Ledger, could your press office comment on the recall?", "pr", []),
    ("Thank you so much, the support team was brilliant today!", "marketing", []),
    ("My account was hacked and the password reset link is not working", "support", ["it"]),
])
def test_default_routing_per_team(playbook, triager, text, lead, collaborators):
    d = route(playbook, triager, text)
    assert d.lead_team == lead, d.reason
    assert set(collaborators) <= set(d.collaborators), d.reason
    assert d.rules and all(r["why"] for r in d.rules)
    assert d.playbook_version == "default-1"


def test_spam_is_closed_and_kept(playbook, triager):
    d = route(playbook, triager, "🔥 GIVEAWAY 🔥 click the link in my bio for free followers")
    assert d.close_as_spam and d.lead_team is None and d.priority == "low" and "spam" in d.tags
    assert [r["rule"] for r in d.rules] == ["spam"]  # stop: nothing after it fires


def test_legal_needs_approval(playbook, triager):
    d = route(playbook, triager, "I'm taking legal action, my attorney has the screenshots")
    assert d.requires_approval and "legal" in d.collaborators and d.priority == "high"


def test_high_reach_negative_brings_in_pr(playbook, triager):
    text = "Worst customer service ever, waited 2 hours on hold and got cut off"
    quiet = route(playbook, triager, text, followers=50)
    loud = route(playbook, triager, text, followers=120_000)
    assert "pr" not in quiet.collaborators
    assert "pr" in loud.collaborators and loud.priority in ("high", "urgent")
    assert any(r["rule"] == "high-reach-negative" and "120,000 followers" in r["why"] for r in loud.rules)


def test_product_defect_brings_in_product(playbook, triager):
    d = route(playbook, triager, "The zipper broke after two days, really disappointed with this jacket")
    assert d.lead_team == "support" and "product" in d.collaborators and "defect" in d.tags


def test_vip_and_repeat_raise_priority(playbook, triager):
    assert route(playbook, triager, "Do you ship to Canada?", vip=True).priority == "high"
    d = route(playbook, triager, "Still no answer to my complaint, this is ridiculous", prior=3)
    assert d.priority == "high" and "repeat-contact" in d.tags


def test_safety_is_urgent_around_the_clock(playbook, triager):
    d = route(playbook, triager, "Smoke came out of the battery and it exploded in our hallway")
    assert d.priority == "urgent" and d.sla_policy == "always_on"
    assert d.sla_due_at == FRIDAY_5PM + timedelta(minutes=15)


def test_sla_counts_business_hours_and_holidays():
    policy = SlaPolicy.from_dict("b", {
        "timezone": "Europe/London",
        "business_hours": {d: "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": ["2025-06-09"], "first_response": {"normal": "8h", "urgent": "30m"}})
    # Friday 15:00 London (14:00 UTC): 2h on Friday, Monday is a holiday, 6h on Tuesday -> Tue 15:00 London.
    start = datetime(2025, 6, 6, 14, 0, tzinfo=UTC)
    assert policy.due(start, "normal") == datetime(2025, 6, 10, 14, 0, tzinfo=UTC)
    assert policy.due(start, "urgent") == start + timedelta(minutes=30)  # around the clock
    assert policy.due(start, "low") is None
    assert not policy.is_open(datetime(2025, 6, 7, 12, 0, tzinfo=UTC))  # Saturday
    assert parse_duration("2d") == timedelta(days=2) and parse_duration(90) == timedelta(minutes=90)
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_rules_conditions_and_ordering(triager):
    pb = Playbook.from_yaml("""
name: custom
version: 3
rules:
  - name: weekend-x
    when: {channel: [x], weekdays: [sat, sun]}
    then: {tags: [weekend], lead: social}
  - name: recall-words
    when: {keywords: [recall, "class action"], not: {intent: spam}}
    then: {collaborators: [legal, pr], priority: high}
  - name: everyone-else
    when: {unassigned: true}
    then: {lead: support, priority: low}
""")
    t = triager.triage(TriageInput(text="Is there a recall on this model?"))
    saturday = datetime(2025, 6, 7, 10, 0, tzinfo=UTC)
    d = pb.route(RouteInput(text="Is there a recall on this model?", kind="post", channel="x",
                            created_at=saturday, triage=t))
    assert d.lead_team == "social" and d.tags == ["weekend"] and d.collaborators == ["legal", "pr"]
    assert d.priority == "high"  # priority only rises: everyone-else's "low" does not lower it
    assert [r["rule"] for r in d.rules] == ["weekend-x", "recall-words"]
    assert "mentions 'recall'" in d.rules[1]["why"]
    assert d.playbook_version == "custom-3" and d.sla_policy is None and d.sla_due_at is None


@pytest.mark.parametrize("source,message", [
    ("rules: [{when: {colour: red}}]", "unknown condition"),
    ("rules: [{then: {teleport: true}}]", "unknown action"),
    ("rules: [{then: {priority: asap}}]", "priority must be"),
    ("rules: [{then: {sla: gold}}]", "not one of the sla_policies"),
    ("just text", "mapping with a list of rules"),
])
def test_invalid_playbooks_say_what_is_wrong(source, message):
    with pytest.raises(PlaybookError, match=message):
        Playbook.from_yaml(source)


def test_factory_loads_the_active_playbook_from_the_database(session_factory, settings):
    assert build_router(settings, session_factory).version == "default-1"
    with session_factory() as s:
        s.add(PlaybookRow(name="night-shift", version=7, active=True,
                          source="rules: [{name: all-to-ops, then: {lead: ops}}]"))
        s.commit()
    router = build_router(settings, session_factory)
    assert router.version == "night-shift-7"
    with session_factory() as s:
        s.query(PlaybookRow).update({"source": "rules: [{when: {bogus: 1}}]"})
        s.commit()
    router.reload()  # a broken active playbook must not stop routing
    assert router.version == "default-1"
