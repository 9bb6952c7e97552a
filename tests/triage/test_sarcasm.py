"""Sarcasm and slang thanks (triage/sarcasm.py, rule praise-slang): the two misreadings customers reported, and
held-out posts from tests/triage/devsets/sarcasm_frozen.csv (written before the change, never tuned on)."""

from __future__ import annotations

import pytest

from onevoice.triage import sarcasm
from onevoice.triage.types import TriageInput
from tests.triage.judged import route, set_figures

SARCASTIC_DELIVERY = "wow great job @acme, 3rd time my order is 'delayed'. love paying for express shipping 🙄"
SLANG_THANKS = "@acme thx for sorting out my router so quick, u guys rock!!"


def test_a_sarcastic_delivery_complaint_reaches_support_through_the_packaged_triager(settings):
    """Read as praise 64 %, positive, and routed to marketing before."""
    from onevoice.triage.factory import build_triager

    t = build_triager(settings).triage(TriageInput(text=SARCASTIC_DELIVERY))
    assert t.intent == "complaint" and t.complaint and t.sentiment == "negative", t.explanation
    assert any(line.startswith("sarcasm: 'great job' beside") for line in t.explanation), t.explanation
    d = route(t, SARCASTIC_DELIVERY)
    assert d.lead_team == "support" and "complaint" in d.tags


def test_slang_thanks_are_praise_through_the_packaged_triager(settings):
    """Read as intent other before."""
    from onevoice.triage.factory import build_triager

    t = build_triager(settings).triage(TriageInput(text=SLANG_THANKS))
    assert t.intent == "praise" and not t.complaint and t.sentiment == "positive", t.explanation
    assert route(t, SLANG_THANKS).lead_team == "marketing"


@pytest.mark.parametrize("text,intent,lead", [
    # Held out (sarcasm_frozen.csv); each was misread before the change.
    ("love that i paid for next day and its been a week @BoxDrop 🙄", "complaint", "support"),
    ("great customer care @TeleOne, 3rd time explaining the same issue to a new agent", "complaint", "support"),
    ("omg @GreenGrocer did it again, missing half my order. love it 🙃", "complaint", "support"),
    ("thx @PizzaPal, best pizza in town 🍕", "praise", "marketing"),
    ("@BoxDrop legends for finding my parcel 🙏", "praise", "marketing"),
    # Held out, read right before and after: sincere praise that mentions a delivery or a fix.
    ("@BoxDrop parcel arrived early and the driver even texted ahead. great job", "praise", "marketing"),
    ("@NetNova great job getting us back online so fast after the storm 👏", "praise", "marketing"),
])
def test_held_out_sarcasm_and_sincere_praise(pipeline_triager, text, intent, lead):
    t = pipeline_triager.triage(TriageInput(text=text))
    assert t.intent == intent and t.complaint == (intent == "complaint"), t.explanation
    assert t.sentiment == ("negative" if intent == "complaint" else "positive"), t.explanation
    assert route(t, text).lead_team == lead


@pytest.mark.parametrize("text,sarcastic", [
    ("great job, 3rd time my order is 'delayed'", True),          # a repeat, a status in scare quotes
    ("thanks for the 6 hour delay", True),
    ("thanks so much 🙄", True),                                   # an eye-roll turns any thanks
    ("flight was delayed but the crew were so kind, thank you", False),  # "but": praise after a problem
    ("the app kept crashing but the update fixed it, thanks", False),    # put right
    ("thanks, parcel arrived a day early", False),                 # nothing went wrong
])
def test_what_makes_praise_sarcastic(text, sarcastic):
    topics = ["defect"] if "crashing" in text else []
    reading = sarcasm.read(text, praised=True, positive=0.3, topics=topics)
    assert (reading is not None and reading.sarcastic) == sarcastic, reading


def test_an_eye_roll_alone_leans_toward_a_complaint_without_being_sarcasm():
    reading = sarcasm.read("speed test says 3mbps 🙄", praised=False, positive=0.0, topics=[])
    assert reading is not None and not reading.sarcastic and reading.marker == "🙄"
    assert sarcasm.read("is the 'delayed' status normal?", praised=False, positive=0.0, topics=[]) is None


def test_the_frozen_sarcasm_set_holds_its_floors(pipeline_triager):
    """sarcasm_frozen.csv (48 posts, frozen): measured complaint 0.771, sentiment 0.659, lead + collaborators
    43 of 48 after the change (0.494 / 0.500 / 35 of 48 before; docs/triage.md)."""
    complaint, sentiment, right, n = set_figures(pipeline_triager, "sarcasm_frozen.csv")
    assert complaint["macro_f1"] >= 0.75, complaint
    assert sentiment["macro_f1"] >= 0.64, sentiment
    assert right >= 41, f"{right} of {n}"
