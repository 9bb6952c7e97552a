"""The learning loop end to end at the service level: correct -> train -> the new model answers differently.

Trains on a small slice of the public data so the test stays fast; the seed set is always used in full.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from onevoice.channels.models import Channel
from onevoice.errors import InvalidInput, NotFound
from onevoice.messages.models import Message
from onevoice.triage.escalation import EscalatingTriager
from onevoice.triage.factory import build_from_session, build_triager
from onevoice.triage.models import ModelVersion, Product, TriageCorrection
from onevoice.triage.service import list_versions, read_examples, record_correction, train_model
from onevoice.triage.types import TriageInput

pytestmark = pytest.mark.needs_public_data

# An in-house phrase no public data or seed example knows: only the organization can teach it.
TEXT = "the zorblax widget needs a glimmer recalibration"


def _message(session, text: str, n: int) -> Message:
    channel = session.query(Channel).filter_by(key="learn").first()
    if channel is None:
        channel = Channel(key="learn", kind="sandbox", name="Learn")
        session.add(channel)
        session.flush()
    m = Message(channel_id=channel.id, external_id=f"x{n}", kind="mention", text=text,
                author={"external_id": "ana"}, created_at=datetime.now(UTC),
                triage={"intent": "other", "sentiment": "neutral"})
    session.add(m)
    session.flush()
    return m


def test_record_correction_validates_and_updates_the_message(session):
    m = _message(session, TEXT, 1)
    c = record_correction(session, m.id, "intent", "suggestion", actor="ana@support")
    assert (c.field, c.old_value, c.new_value, c.text, c.actor) == ("intent", "other", "suggestion", TEXT,
                                                                     "ana@support")
    assert m.triage["intent"] == "suggestion" and m.triage["corrected"] == {"intent": "ana@support"}
    with pytest.raises(InvalidInput):
        record_correction(session, m.id, "intent", "gossip")
    with pytest.raises(InvalidInput):
        record_correction(session, m.id, "colour", "red")
    with pytest.raises(NotFound):
        record_correction(session, 99_999, "sentiment", "positive")


def test_correct_train_and_the_new_model_changes_the_answer(session, settings):
    before = build_from_session(session).triage(TriageInput(text=TEXT))
    assert before.intent != "suggestion"
    messages = [_message(session, TEXT, 10 + n) for n in range(3)]
    record_correction(session, messages[0].id, "intent", "praise", actor="new-hire")
    for m in messages:
        record_correction(session, m.id, "intent", "suggestion", actor="lead")
    report = train_model(session, settings.model_dir, limit=60, tolerance=1.0)
    assert report.activated and report.examples["corrections"] == 3  # the latest per message counts
    session.commit()

    row = session.query(ModelVersion).filter_by(active=True).one()
    assert row.version == report.version and row.metrics["quality"] == report.quality
    assert "intent" in row.metrics["heads"]
    after = build_triager(settings).triage(TriageInput(text=TEXT))
    assert after.model_version == report.version
    assert after.intent == "suggestion", after.explanation

    # The escalation heads are trained, scored and versioned with the fast heads, in the same directory.
    assert (Path(report.path) / "escalation.npz").is_file()
    assert set(report.escalation["heads"]) == {"intent", "sentiment"}
    assert row.metrics["escalation"]["escalated_quality"] == report.escalation["escalated_quality"]
    escalating = build_triager(settings.model_copy(update={"triage_escalation": True}))
    assert isinstance(escalating.current, EscalatingTriager) and escalating.current.active
    assert escalating.current.model_dir == Path(report.path)
    # Taught three times by the organization, the new version is sure of it: no second opinion needed.
    assert escalating.triage(TriageInput(text=TEXT)).intent == "suggestion"


def test_a_worse_model_is_recorded_but_not_switched_on(session, settings):
    report = train_model(session, settings.model_dir, limit=30, tolerance=0.0)
    # A model trained on 30 examples per source cannot beat the packaged one on the same held-out sets.
    assert not report.activated and report.quality < report.baseline_quality
    assert [v["active"] for v in list_versions(session)] == [False]


def test_examples_file_and_catalog(tmp_path, session):
    path = tmp_path / "history.csv"
    path.write_text("text,intent,sentiment\nhello,question,\nbad,,negative\n", encoding="utf-8")
    assert read_examples(path) == [("hello", "intent", "question"), ("bad", "sentiment", "negative")]
    path.write_text("text,intent\nhello,gossip\n", encoding="utf-8")
    with pytest.raises(InvalidInput):
        read_examples(path)
    session.add(Product(key="zorblax", name="Zorblax Widget", aliases=["ZBX"]))
    session.flush()
    assert build_from_session(session).triage(TriageInput(text="my #ZorblaxWidget broke")).products == ["zorblax"]
    assert session.query(TriageCorrection).count() == 0
