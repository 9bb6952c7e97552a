"""A few dense signals next to the hashed n-grams: VADER's lexicon scores and the shape of the text.

VADER brings a hand-built sentiment lexicon (negation, intensifiers, emoji) that a few thousand labelled
tweets cannot teach; the trained heads learn how much to trust it. The scores come from `FastVader`,
which computes what vaderSentiment computes, several times faster.
"""

from __future__ import annotations

import string

import numpy as np

from onevoice.triage.vader import FastVader

_UPPER = string.ascii_uppercase.encode()
_LETTERS = string.ascii_letters.encode()
_EMPTY = {"compound": 0.0, "pos": 0.0, "neg": 0.0, "neu": 1.0}


def caps_ratio(text: str) -> float:
    """Share of letters in upper case (0 when there are fewer than 8 letters)."""
    if text.isascii():
        # Counting by deleting bytes runs in C; the per-character loop below is ~10x slower.
        b = text.encode()
        letters = len(b) - len(b.translate(None, _LETTERS))
        if letters < 8:
            return 0.0
        return (len(b) - len(b.translate(None, _UPPER))) / letters
    chars = list(filter(str.isalpha, text))
    return sum(map(str.isupper, chars)) / len(chars) if len(chars) >= 8 else 0.0


class DenseSignals:
    def __init__(self) -> None:
        self._vader = FastVader()

    def vader(self, text: str) -> dict:
        if not text.strip():
            return dict(_EMPTY)
        return self._vader.polarity_scores(text[:2000])

    def row(self, text: str, scores: dict | None = None) -> list[float]:
        s = scores or self.vader(text)
        return [s["compound"], s["pos"], s["neg"], s["neu"], float("?" in text),
                min(text.count("!"), 5) / 5, caps_ratio(text), min(len(text), 280) / 280]

    def matrix(self, texts: list[str], scores: list[dict] | None = None) -> np.ndarray:
        if scores is None:
            scores = [self.vader(t) for t in texts]
        return np.array([self.row(t, s) for t, s in zip(texts, scores, strict=True)],
                        dtype=np.float32).reshape(len(texts), 8)
