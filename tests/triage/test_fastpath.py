"""The fast path's shortcuts must give the answers of the slow originals they replace.

FastVader against vaderSentiment, the word-level scorer against the feature-level sparse product, and
the rule prefilter against running every regex. Each would fail if a shortcut skipped or changed work.
"""

from __future__ import annotations

import numpy as np
import pytest

from onevoice.triage import datasets, rules
from onevoice.triage.features import Featurizer, sparse_dot, tokenize
from onevoice.triage.heads import Heads
from onevoice.triage.vader import FastVader
from onevoice.triage.wordscore import WordScorer

# VADER's own demo sentences (each exercises one of its rules) plus brand-directed posts.
TRICKY = [
    "VADER is smart, handsome, and funny.", "VADER is smart, handsome, and funny!",
    "VADER is very smart, handsome, and funny.", "VADER is VERY SMART, handsome, and FUNNY.",
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!", "VADER is not smart, handsome, nor funny.",
    "At least it isn't a horrible book.", "The book was only kind of good.",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today SUX!", "Today only kinda sux! But I'll get by, lol", "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as 💘 and 💋 and 😁", "Not bad at all", "Sentiment analysis has never been good.",
    "Sentiment analysis has never been this good!", "With VADER, sentiment analysis is the shit!",
    "On the other hand, VADER is quite bad ass", "Without a doubt, excellent idea.",
    "Roger Dodger is one of the least compelling variations on this theme.",
    "Roger Dodger is at least compelling as a variation on the theme.", "no no no good", "good good but bad bad",
    "It was one of the worst movies I've seen, despite good reviews. Unbelievably bad acting!! Poor direction.",
    "Still waiting on my refund 😡😡 three weeks!!! ???", "😁😁", "", "   ", "!!!", "I ❤️ my new phone",
    "kiss of death for this product", "The service was sort of ok??", "That's the bomb", "Yeah right, great support",
]


def _tweets(limit: int = 3000) -> list[str]:
    path = datasets.DEFAULT_DATA_DIR / "tweeteval" / "sentiment" / "val_text.txt"
    seed = [r["text"] for r in datasets.read_seed()]
    return seed + (path.read_text(encoding="utf-8").splitlines()[:limit] if path.is_file() else [])


def test_fast_vader_gives_vaders_scores():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    ref, fast = SentimentIntensityAnalyzer(), FastVader()
    texts = TRICKY + _tweets()
    mismatches = [t for t in texts if ref.polarity_scores(t) != fast.polarity_scores(t)]
    assert not mismatches, mismatches[:5]


def test_word_scorer_matches_the_feature_level_product():
    heads = Heads.load()
    texts = TRICKY + _tweets(500) + ["hello " * 40]
    token_lists = [tokenize(t) for t in texts] + [[]]
    indptr, cols, vals = Featurizer().transform(token_lists)
    expected = sparse_dot(indptr, cols, vals, heads.weights)
    scorer = WordScorer(heads, cache_size=300)  # small: the cache is reset mid-stream
    for start in range(0, len(token_lists), 97):
        got, *_ = scorer.linear(token_lists[start:start + 97])
        np.testing.assert_allclose(got, expected[start:start + 97], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("text", [
    "I'll kill you", "i WILL hurt them", "We need 200 licences and a quote", "call my LAWYER!!",
    "İ'LL KILL YOU", "my order never arrived. REFUND", "status page: the app is down", "a&e tonight",
])
def test_rule_prefilter_never_hides_a_match(text):
    scan = rules.Scan(text)
    patterns = [r.pattern for r in rules.INTENT_RULES] + [rules.THREAT, *rules.TOPICS.values()]
    for p in patterns:
        got, want = p.search(text, None, scan), p.regex.search(text)
        assert (got and got.group(0)) == (want and want.group(0)), p.regex.pattern[:60]


def test_rule_prefilter_on_real_posts():
    patterns = [r.pattern for r in rules.INTENT_RULES] + [rules.THREAT, *rules.TOPICS.values()]
    fired = 0
    for text in _tweets(1500):
        scan = rules.Scan(text)
        for p in patterns:
            got, want = p.search(text, None, scan), p.regex.search(text)
            fired += want is not None
            assert (got and got.group(0)) == (want and want.group(0)), (text, p.regex.pattern[:60])
    assert fired > 100  # the comparison saw plenty of matches, not only misses
