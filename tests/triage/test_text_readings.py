"""What the fast path reads from a text alone is kept per text (FastTriager._read): the answers are the same."""

from __future__ import annotations

from onevoice.triage import triager as triager_module
from onevoice.triage.triager import FastTriager
from onevoice.triage.types import TriageInput

TEXTS = ["My kettle stopped heating after a week, call me on +44 7700 900123 or mail jo@example.com",
         "Thanks so much for the update that bricked my phone", "Je vais porter plainte contre vous",
         "where is my order??", "", "   ", "😡😡😡", "The app is down again #outage @support",
         "Great service at the Leeds store, the cashier was lovely"]


def test_answers_from_kept_readings_equal_a_fresh_triagers(monkeypatch):
    items = [TriageInput(text=t, author_followers=i * 500, prior_messages=i % 3) for i, t in enumerate(TEXTS)]
    kept = FastTriager()
    first = kept.triage_batch(items)
    again = kept.triage_batch(list(reversed(items)))[::-1]  # every text known now, in other batch positions
    assert len(kept._readings) == len(set(TEXTS))
    monkeypatch.setattr(triager_module, "READINGS_KEPT", 0)  # nothing kept: every text read afresh
    fresh = FastTriager().triage_batch(items)
    assert [r.to_dict() for r in first] == [r.to_dict() for r in fresh] == [r.to_dict() for r in again]


def test_a_result_changed_by_its_user_does_not_change_the_next():
    fast = FastTriager()
    item = TriageInput(text="The app is down again and my card 4111 1111 1111 1111 was charged twice")
    one = fast.triage(item)
    assert one.topics and one.flags.get("pii")
    one.topics.append("edited")
    one.flags["pii"].append("edited")
    two = fast.triage(item)
    assert "edited" not in two.topics and "edited" not in two.flags["pii"]


def test_the_kept_readings_are_bounded(monkeypatch):
    monkeypatch.setattr(triager_module, "READINGS_KEPT", 3)
    fast = FastTriager()
    fast.triage_batch([TriageInput(text=f"message number {i}") for i in range(7)])
    assert len(fast._readings) <= 3
