"""VADER's sentiment scores, computed the way vaderSentiment 3.3.2 does, about ten times faster.

The reference implementation spends most of its time on words that carry no sentiment: for every word
it rebuilds lowercased copies of the whole message several times over. Here the message is split and
lowercased once, words outside the lexicon cost one dictionary look-up, and VADER's context rules
(negation, boosters and dampeners, ALL-CAPS emphasis, "never so", "without doubt", "least", idioms,
the contrastive "but", exclamation and question marks, emoji descriptions) run only around the few
words that are in the lexicon. The lexicon and emoji files are read from the installed vaderSentiment
package, so the two cannot drift apart; tests/triage/test_vader.py checks that both give the same
scores on real tweets.
"""

from __future__ import annotations

import math
import re
import string
from pathlib import Path

# Constants and word lists are VADER's own, imported rather than copied.
from vaderSentiment.vaderSentiment import (
    B_INCR,
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
)
from vaderSentiment.vaderSentiment import __file__ as _VADER_FILE

_PUNCT = string.punctuation
_NEGATE = frozenset(NEGATE)
_SO_THIS = ("so", "this")
_EMPTY = {"compound": 0.0, "pos": 0.0, "neg": 0.0, "neu": 0.0}
# Every word scored 0: what the reference's arithmetic gives, without doing it.
_NEUTRAL = {"neg": 0.0, "neu": 1.0, "pos": 0.0, "compound": 0.0}
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# The (two- and three-word) booster n-grams VADER checks in front of a lexicon word.
_BOOSTER_NGRAMS = {k: v for k, v in BOOSTER_DICT.items() if " " in k}


def _read_lexicon(path: Path) -> dict[str, float]:
    lex: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").rstrip("\n").split("\n"):
        if line:
            word, measure = line.strip().split("\t")[0:2]
            lex[word] = float(measure)
    return lex


def _read_emojis(path: Path) -> dict[str, str]:
    emojis: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").rstrip("\n").split("\n"):
        emoji, description = line.strip().split("\t")[0:2]
        emojis[emoji] = description
    return emojis


def _negated(word: str) -> bool:
    return word in _NEGATE or "n't" in word


class FastVader:
    """`polarity_scores(text)` -> {"neg", "neu", "pos", "compound"}, as vaderSentiment computes them."""

    def __init__(self) -> None:
        folder = Path(_VADER_FILE).parent
        self.lexicon = _read_lexicon(folder / "vader_lexicon.txt")
        emojis = _read_emojis(folder / "emoji_utf8_lexicon.txt")
        # VADER replaces emoji character by character; keys longer than one character never match.
        self._emojis = {k: v for k, v in emojis.items() if len(k) == 1}

    def _replace_emojis(self, text: str) -> str:
        emojis = self._emojis

        def describe(m: re.Match[str]) -> str:
            ch = m.group(0)
            description = emojis.get(ch)
            if description is None:
                return ch
            i = m.start()
            # A space goes in front of the description unless the previous character was a space (or
            # there was none); the reference tracks this on its output, where an emoji never counts as one.
            return description if i == 0 or text[i - 1] == " " else " " + description

        # Visiting only non-ASCII characters: a character class of all 1,200 emoji is slow in `re`.
        return _NON_ASCII.sub(describe, text)

    def polarity_scores(self, text: str) -> dict[str, float]:
        if not text.isascii():
            text = self._replace_emojis(text)
        text = text.strip()
        # Punctuation is stripped from a word unless that leaves two characters or fewer (emoticons).
        words = [tok if len(s := tok.strip(_PUNCT)) <= 2 else s for tok in text.split()]
        if not words:
            return dict(_EMPTY)
        low = [w.lower() for w in words]
        lex = self.lexicon
        hits = [i for i, w in enumerate(low) if w in lex]
        if not hits:
            return dict(_NEUTRAL)
        n = len(words)
        sentiments = [0.0] * n
        uppers = sum(1 for w in words if w.isupper())
        cap_diff = 0 < n - uppers < n
        for i in hits:
            w = low[i]
            if w in BOOSTER_DICT or (w == "kind" and i < n - 1 and low[i + 1] == "of"):
                continue
            sentiments[i] = self._valence(words, low, i, cap_diff)
        if "but" in low:
            sentiments = _but_check(low.index("but"), sentiments)
        return _score(sentiments, text)

    def _valence(self, words: list[str], low: list[str], i: int, cap_diff: bool) -> float:
        lex = self.lexicon
        n = len(words)
        item = low[i]
        valence = lex[item]
        if item == "no" and i != n - 1 and low[i + 1] in lex:
            valence = 0.0
        if (i > 0 and low[i - 1] == "no") or (i > 1 and low[i - 2] == "no") or (
                i > 2 and low[i - 3] == "no" and low[i - 1] in ("or", "nor")):
            valence = lex[item] * N_SCALAR
        if cap_diff and words[i].isupper():
            valence = valence + C_INCR if valence > 0 else valence - C_INCR
        for start_i in range(3):
            if i <= start_i:
                break
            prev = low[i - start_i - 1]
            if prev in lex:
                continue
            s = BOOSTER_DICT.get(prev, 0.0)
            if s:
                if valence < 0:
                    s = -s
                if cap_diff and words[i - start_i - 1].isupper():
                    s = s + C_INCR if valence > 0 else s - C_INCR
                if start_i == 1:
                    s *= 0.95
                elif start_i == 2:
                    s *= 0.9
                valence += s
            valence = _negation(valence, low, start_i, i)
            if start_i == 2:
                valence = _idioms(valence, low, i)
        # "least" before the word negates it, except in "at least" / "very least".
        if i > 1 and low[i - 1] not in lex and low[i - 1] == "least":
            if low[i - 2] not in ("at", "very"):
                valence *= N_SCALAR
        elif i > 0 and low[i - 1] not in lex and low[i - 1] == "least":
            valence *= N_SCALAR
        return valence


def _negation(valence: float, low: list[str], start_i: int, i: int) -> float:
    if start_i == 0:
        if _negated(low[i - 1]):
            valence *= N_SCALAR
    elif start_i == 1:
        if low[i - 2] == "never" and low[i - 1] in _SO_THIS:
            valence *= 1.25
        elif low[i - 2] == "without" and low[i - 1] == "doubt":
            pass
        elif _negated(low[i - 2]):
            valence *= N_SCALAR
    else:
        # The reference's operator precedence, kept: "so"/"this" right before the word always amplifies.
        if (low[i - 3] == "never" and low[i - 2] in _SO_THIS) or low[i - 1] in _SO_THIS:
            valence *= 1.25
        elif low[i - 3] == "without" and (low[i - 2] == "doubt" or low[i - 1] == "doubt"):
            pass
        elif _negated(low[i - 3]):
            valence *= N_SCALAR
    return valence


# Every word of every idiom and booster n-gram: a window without any of them matches none.
_IDIOM_WORDS = frozenset(w for key in (*SPECIAL_CASES, *_BOOSTER_NGRAMS) for w in key.split())


def _idioms(valence: float, low: list[str], i: int) -> float:
    w0, w1, w2, w3 = low[i], low[i - 1], low[i - 2], low[i - 3]
    # Each n-gram looked up below contains w1 or w2 (those before the word) or w0 (those after it).
    if w0 not in _IDIOM_WORDS and w1 not in _IDIOM_WORDS and w2 not in _IDIOM_WORDS:
        return valence
    for seq in (f"{w1} {w0}", f"{w2} {w1} {w0}", f"{w2} {w1}", f"{w3} {w2} {w1}", f"{w3} {w2}"):
        if seq in SPECIAL_CASES:
            valence = SPECIAL_CASES[seq]
            break
    n = len(low)
    if n - 1 > i:
        seq = f"{w0} {low[i + 1]}"
        if seq in SPECIAL_CASES:
            valence = SPECIAL_CASES[seq]
    if n - 1 > i + 1:
        seq = f"{w0} {low[i + 1]} {low[i + 2]}"
        if seq in SPECIAL_CASES:
            valence = SPECIAL_CASES[seq]
    for seq in (f"{w3} {w2} {w1}", f"{w3} {w2}", f"{w2} {w1}"):
        if seq in _BOOSTER_NGRAMS:
            valence += _BOOSTER_NGRAMS[seq]
    return valence


def _but_check(bi: int, sentiments: list[float]) -> list[float]:
    # Kept exactly as the reference does it, including its habit of looking each value up by equality
    # (two equal scores on either side of "but" are scaled at the first one's position).
    for sentiment in sentiments:
        si = sentiments.index(sentiment)
        if si < bi:
            sentiments.pop(si)
            sentiments.insert(si, sentiment * 0.5)
        elif si > bi:
            sentiments.pop(si)
            sentiments.insert(si, sentiment * 1.5)
    return sentiments


def _score(sentiments: list[float], text: str) -> dict[str, float]:
    total_s = float(sum(sentiments))
    ep = min(text.count("!"), 4) * 0.292
    qm_count = text.count("?")
    qm = (qm_count * 0.18 if qm_count <= 3 else 0.96) if qm_count > 1 else 0
    punct = ep + qm
    if total_s > 0:
        total_s += punct
    elif total_s < 0:
        total_s -= punct
    compound = total_s / math.sqrt(total_s * total_s + 15)
    compound = max(-1.0, min(1.0, compound))
    pos_sum = neg_sum = 0.0
    # Most words score 0: only the others are visited, in the same order (the float sums are unchanged).
    scored = [s for s in sentiments if s]
    neu_count = len(sentiments) - len(scored)
    for s in scored:
        if s > 0:
            pos_sum += float(s) + 1
        else:
            neg_sum += float(s) - 1
    if pos_sum > math.fabs(neg_sum):
        pos_sum += punct
    elif pos_sum < math.fabs(neg_sum):
        neg_sum -= punct
    total = pos_sum + math.fabs(neg_sum) + neu_count
    return {"neg": round(math.fabs(neg_sum / total), 3), "neu": round(math.fabs(neu_count / total), 3),
            "pos": round(math.fabs(pos_sum / total), 3), "compound": round(compound, 4)}


__all__ = ["FastVader", "B_INCR"]
