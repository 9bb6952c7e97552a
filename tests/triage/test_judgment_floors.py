"""The judgment's floors on the frozen dev sets (written before tuning, never trained on): issue 15's targets.

These pin what docs/triage.md reports, so a change that makes triage or the default playbook worse on posts
written the way people post fails here, not at the judges. bench/bench_judgment.py prints the full figures.
"""

from __future__ import annotations

import pytest

from onevoice.triage import datasets
from onevoice.triage.metrics import score
from onevoice.triage.types import TriageInput
from tests.triage.judged import route, set_figures


@pytest.mark.parametrize("name", ["people_frozen.csv", "people_frozen2.csv", "people_dev.csv"])
def test_complaints_sentiment_and_routing_as_people_post(pipeline_triager, name):
    complaint, sentiment, right, n = set_figures(pipeline_triager, name)
    assert complaint["macro_f1"] >= 0.75, complaint
    assert sentiment["macro_f1"] >= 0.70, sentiment
    assert right / n >= 0.80, f"{right} of {n} right lead and collaborators"


@pytest.mark.needs_public_data
def test_sentiment_on_general_tweets_with_the_transformer(pipeline_triager):
    """TweetEval sentiment, the held-out half of validation (never trained or tuned on): 0.607 measured with
    the sentiment transformer in escalation, 0.574 without it (docs/triage.md, round 3)."""
    rows = datasets.load(datasets.DEFAULT_DATA_DIR)["sentiment"].eval["tweeteval-val-half"]
    assert len(rows) == 1016
    results = pipeline_triager.triage_batch([TriageInput(text=t) for t, _ in rows])
    sentiment = score([label for _, label in rows], [x.sentiment for x in results])
    assert sentiment["macro_f1"] >= 0.595, sentiment


def test_an_outage_report_read_as_a_weak_complaint_reaches_support_not_hr(pipeline_triager):
    """Read as complaint 36 %, job inquiry 32 %, with a complaint signal of 37 %: it took the runner-up and
    went to HR. A weak complaint falls back to how it is put (here a question), which Support leads."""
    text = "Is your service down? Nothing loads in Berlin"
    t = pipeline_triager.triage(TriageInput(text=text))
    d = route(t, text)
    assert t.intent in ("complaint", "question") and t.sentiment == "negative"
    assert d.lead_team == "support"
