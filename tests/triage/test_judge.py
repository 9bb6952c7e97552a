"""Judging a candidate model: the organization's held-out labels first, the public sets as a guard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from onevoice.triage import judge
from onevoice.triage.autotrain import due
from onevoice.triage.models import ModelVersion, TriageCorrection


def _org(complaint: float, sentiment: float, n: int = 400) -> dict:
    return {"complaint": {"n": n, "macro_f1": complaint, "per_class": {}},
            "sentiment": {"n": n, "macro_f1": sentiment, "per_class": {}}}


def test_better_on_the_organizations_labels_switches_on_within_the_public_tolerance():
    # The case: 0.80 / 0.72 on the organization's own data against 0.49 / 0.59, 0.01 lower in public.
    v = judge.decide(_org(0.80, 0.72), _org(0.49, 0.59), public_new=0.671, public_base=0.681)
    assert v.activate and "better on your held-out labels 0.7600 vs 0.5400 (n=800)" in v.reason
    # ... but not at any public price.
    v = judge.decide(_org(0.80, 0.72), _org(0.49, 0.59), public_new=0.60, public_base=0.681)
    assert not v.activate and "more than 0.02 lower" in v.reason


def test_worse_or_even_on_the_organizations_labels():
    assert not judge.decide(_org(0.50, 0.50), _org(0.60, 0.60), 0.9, 0.5).activate  # public gains do not buy it
    assert judge.decide(_org(0.6, 0.6), _org(0.6, 0.6), 0.681, 0.681).activate  # even: public decides
    assert not judge.decide(_org(0.6, 0.6), _org(0.6, 0.6), 0.67, 0.681).activate


def test_too_few_organization_labels_leave_it_to_the_public_sets():
    few = _org(1.0, 1.0, n=2)
    v = judge.decide(few, _org(0.0, 0.0, n=2), 0.679, 0.681)
    assert v.activate and "only 4 of your labels held out" in v.reason
    assert not judge.decide(few, _org(0.0, 0.0, n=2), 0.67, 0.681).activate
    assert judge.decide({}, {}, 0.5, 0.9, force=True).activate


def test_the_held_out_quarter_is_stable():
    extra = [(f"message number {i}", "intent", "question") for i in range(400)]
    train, holdout = judge.split_org(extra)
    assert 60 < len(holdout["intent"]) < 140 and len(train) + len(holdout["intent"]) == 400
    assert judge.split_org(list(reversed(extra)))[1]["intent"] == sorted(
        holdout["intent"], key=lambda r: -int(r[0].split()[-1]))  # same texts, whatever the order


def test_retraining_is_due_after_enough_corrections_or_a_day(session):
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert due(session, 3, now) is None
    earlier = now - timedelta(hours=2)
    for i in range(2):
        session.add(TriageCorrection(field="intent", new_value="question", text=f"t{i}", created_at=earlier))
    session.add(TriageCorrection(field="team", new_value="sales", text="t", created_at=earlier))  # teaches routing
    session.flush()
    assert due(session, 3, now) == "2 corrections and no training in the last 24 hours"
    session.add(ModelVersion(version="v1", path="/x", created_at=now - timedelta(hours=1)))
    session.flush()
    assert due(session, 3, now) is None  # trained an hour ago, on these
    session.add(TriageCorrection(field="complaint", new_value="yes", text="t3", created_at=now))
    session.flush()
    # One new correction: not yet; a day after the last training, yes.
    assert due(session, 3, now) is None and due(session, 3, now + timedelta(days=1)) is not None
    for i in range(2):
        session.add(TriageCorrection(field="sentiment", new_value="negative", text=f"u{i}", created_at=now))
    session.flush()
    assert due(session, 3, now) == "3 corrections since the last training (>= 3)"
