"""The fast path's shortcuts must give the answers of the slow originals they replace.

FastVader against vaderSentiment, the word-level scorer against the feature-level sparse product, and
the rule prefilter against running every regex. Each would fail if a shortcut skipped or changed work.
"""

from __future__ import annotations

import numpy as np
import pytest

from onevoice.triage import datasets, pii, rules
from onevoice.triage.catalog import _WORD, Catalog
from onevoice.triage.features import Featurizer, Tokenizer, sparse_dot, tokenize
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


ODD = [
    "İ'LL KILL YOU", "ſue you", "I will sue you and call my lawyer", "we need 200 seats, 50 licences", "co-branding?",
    "error 503 on login, 2fa broken", "a&e tonight after it caught fire", "7 units", "x7 units", "hiring? #hiring",
    "the demo was great, book a demo", "bit.ly/abc click here", "t.me/xyz", "", "!!!", "never arrived never again",
    "Je vais porter plainte 😡", "¡Mi abogado te va a DEMANDAR!", "Ich verklage euch, ANWÄLTIN", "ıt's on fıre",
    "we need ٣ seats", "２００ seats please", "Il prodotto è ESPLOSO, brûlé", "ΣΟΣ refund now", "Kelvin Kill you",
    "JAMAIS REÇUE", "não funciona 👎", "straße İ'll kill you", "ſcam ſcam",
]


def test_rules_read_gives_what_each_rule_function_gives():
    texts = ODD + TRICKY + _tweets(2000)
    fired = 0
    for text in texts:
        for low in (None, text.lower()):
            got = rules.read(text, low)
            scan = rules.Scan(text)
            want = (rules.intent_hits(text, None, scan), rules.threat(text, None, scan),
                    rules.topics(text, None, scan))
            assert got == want, text
        fired += bool(got[0] or got[1] or got[2])
    assert fired > 200


def _pii_without_gates(text: str) -> list[str]:
    """find_pii's patterns run on every text, with no shortcut."""
    import re

    kinds = ["email"] if pii.EMAIL.search(text) else []
    stripped = pii.EMAIL.sub(" ", text)
    cards = [re.sub(r"\D", "", m.group(0)) for m in pii.CARD.finditer(stripped)]
    if any(13 <= len(d) <= 19 and pii.luhn_ok(d) for d in cards):
        kinds.append("card")
    for m in pii.PHONE.finditer(stripped):
        digits = re.sub(r"\D", "", m.group(0))
        if not pii.DATE.fullmatch(m.group(0).strip()) and 7 <= len(digits) <= 15 and not (
                len(digits) >= 13 and pii.luhn_ok(digits)):
            kinds.append("phone")
            break
    if pii.ADDRESS.search(stripped):
        kinds.append("address")
    return kinds


def test_pii_gates_never_hide_personal_data():
    texts = ODD + _tweets(3000) + [
        "ana@example.com", "a@b", "@acme.co hi", "write to A.B+c@sub.example.org!", "4111 1111 1111 1111",
        "call +44 7700 900123", "²³ 10 rue de Rivoli", "vİa Roma 3", "12 Baker Street", "true story", "SW1A 1AA",
        "Springfield, IL 62704", "2024-01-02", "order 1234567", "@acme my order 4111111111111111",
        "I live on rue de Rivoli", "come to Calle Mayor", "Via Roma, please",
    ]
    found = 0
    for text in texts:
        want = _pii_without_gates(text)
        assert pii.find_pii(text) == want == pii.find_pii(text, text.lower()), text
        found += bool(want)
    assert found >= 12


def test_catalog_shortcut_finds_what_the_full_match_finds():
    cat = Catalog([{"key": "voltix-v3", "name": "Voltix V3"}, {"key": "aero-buds", "name": "Aero Buds"},
                   {"key": "nimbus", "name": "Nimbus Docs", "aliases": ["nimbus"]}])
    texts = ODD + _tweets(1500) + [
        "#VoltixV3 caught fire", "voltx v3 broke", "my NIMBUS died", "#nimbusdocs", "aero bud", "AeroBuds?",
        "the aero buds and voltix v3", "Nimbuss docs",
    ]
    matched = 0
    for _ in range(2):  # cold, then with the word cache warm
        for text in texts:
            want = cat._match_tokens(_WORD.findall(text))
            assert cat.match(text) == want, text
            matched += bool(want)
    assert matched >= 12


def test_chunk_cached_tokenizer_gives_tokenize():
    tok = Tokenizer(cache_size=500)  # small: the cache is cleared mid-stream
    odd = ["ΣΑΣ ΟΔΟΣ", "ΟΔΟΣ.", "x\u00a0y", "a\u2003b", "http://x.com/a\u00a0b", "#FooBar#Baz", "@a@b", "İstanbul",
           "HTTPS://T.CO/x", "www.example.com/x?y=1 done", "tab\tand\nnewline", "a\x1cb\x85c"]
    for text in ODD + odd + TRICKY + _tweets(2000):
        assert tok(text) == tokenize(text), text


def test_all_probabilities_are_each_heads_probabilities_bit_for_bit():
    heads = Heads.load()
    rng = np.random.default_rng(0)
    for n in (1, 3, 500):
        logits = (rng.normal(size=(n, heads.weights.shape[1])) * 4).astype(np.float32)
        got = heads.all_probabilities(logits)
        assert list(got) == list(heads.heads)
        for name in heads.heads:
            want = heads.probabilities(logits, name)
            assert got[name].shape == want.shape and np.array_equal(got[name], want), name


def test_word_scorer_gives_the_same_bits_one_at_a_time_and_in_batches():
    heads = Heads.load()
    token_lists = [tokenize(t) for t in TRICKY + _tweets(300)] + [[]]
    batch_scorer, single_scorer = WordScorer(heads), WordScorer(heads)
    batch, batch_scale, *_ = batch_scorer.linear(token_lists)
    for i, tokens in enumerate(token_lists):
        one, one_scale, *_ = single_scorer.linear([tokens])
        assert np.array_equal(one[0], batch[i]) and one_scale[0] == batch_scale[i], tokens


def test_feature_columns_are_the_hashes_of_their_strings():
    from onevoice.triage.features import bigram_hash, feature_hash, word_features

    for w in ["refund", "a", "0", "?", "don't", "über", "日本語", "😡", "httpurl"]:
        padded = f"<{w}>"
        grams = {padded[i:i + n] for n in (3, 4) for i in range(len(padded) - n + 1)}
        assert word_features(w) == (feature_hash("w:" + w), *(feature_hash("c:" + g) for g in grams))
        assert bigram_hash(w, "now") == feature_hash(f"b:{w} now")


def _urgency_reference(intent, sentiment, score, flags, anger, followers, prior_messages):
    """The urgency rules as first written (a closure raising the level), kept to check the inlined one."""
    from onevoice.triage.urgency import BASE, HIGH_REACH, LEVELS, VERY_HIGH_REACH

    level = LEVELS.index(BASE.get(intent, "normal"))
    reasons = [f"{intent} starts at {LEVELS[level]}"]

    def at_least(target, why):
        nonlocal level
        if LEVELS.index(target) > level:
            level = LEVELS.index(target)
            reasons.append(why)

    if flags.get("threat"):
        at_least("critical", "a threat")
    if flags.get("crisis") and sentiment == "negative":
        at_least("high", "crisis signal")
    if sentiment == "negative" and intent != "spam":
        if score <= -0.6:
            at_least("normal", "strongly negative")
        if followers >= VERY_HIGH_REACH:
            at_least("critical" if score <= -0.6 else "high", f"negative, author has {followers:,} followers")
        elif followers >= HIGH_REACH:
            at_least("high", f"negative, author has {followers:,} followers")
        if prior_messages >= 2:
            at_least("high", f"negative and the customer wrote {prior_messages} times before")
        if anger >= 0.6 and score <= -0.4:
            at_least("high", f"angry ({anger:.0%})")
    return LEVELS[level], reasons


def test_urgency_gives_what_the_plain_rules_give():
    import itertools

    from onevoice.triage.urgency import BASE, urgency_for

    grid = itertools.product(
        [*BASE, "unknown"], ("negative", "neutral", "positive"), (-0.9, -0.6, -0.45, -0.4, 0.0, 0.5),
        ({}, {"threat": True}, {"crisis": True}, {"threat": True, "crisis": True}), (0.0, 0.6, 0.9),
        (0, 9_999, 10_000, 100_000), (0, 2))
    levels = set()
    for args in grid:
        got = urgency_for(*args)
        assert got == _urgency_reference(*args), args
        levels.add(got[0])
    assert levels == {"low", "normal", "high", "critical"}


def test_one_triager_serves_several_threads_at_once():
    """The worker thread and web requests share one triager; its caches (kept tiny here, so they are
    cleared all the time) must not mix two batches up."""
    from concurrent.futures import ThreadPoolExecutor

    from onevoice.triage.triager import FastTriager
    from onevoice.triage.types import TriageInput

    catalog = [{"key": "aero-buds", "name": "Aero Buds"}]
    items = [TriageInput(text=t) for t in ODD + _tweets(300)]
    want = [r.to_dict() for r in FastTriager(catalog=catalog).triage_batch(items)]
    shared = FastTriager(catalog=catalog)
    shared._tokenize._cache_size, shared._scorer._cache_size = 40, 200
    chunks = [list(range(i, min(i + 13, len(items)))) for i in range(0, len(items), 13)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda idx: (idx, shared.triage_batch([items[i] for i in idx])), chunks * 2))
    for idx, got in results:
        assert [r.to_dict() for r in got] == [want[i] for i in idx]
