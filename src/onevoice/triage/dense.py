"""A few dense signals next to the hashed n-grams: VADER's lexicon scores and the shape of the text.

VADER brings a hand-built sentiment lexicon (negation, intensifiers, emoji) that a few thousand labelled
tweets cannot teach; the trained heads learn how much to trust it.
"""

from __future__ import annotations

import numpy as np


class DenseSignals:
    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._vader = SentimentIntensityAnalyzer()

    def vader(self, text: str) -> dict:
        if not text.strip():
            return {"compound": 0.0, "pos": 0.0, "neg": 0.0, "neu": 1.0}
        return self._vader.polarity_scores(text[:2000])

    def row(self, text: str, scores: dict | None = None) -> list[float]:
        s = scores or self.vader(text)
        letters = [c for c in text if c.isalpha()]
        caps = sum(c.isupper() for c in letters) / len(letters) if len(letters) >= 8 else 0.0
        return [s["compound"], s["pos"], s["neg"], s["neu"], float("?" in text),
                min(text.count("!"), 5) / 5, caps, min(len(text), 280) / 280]

    def matrix(self, texts: list[str], scores: list[dict] | None = None) -> np.ndarray:
        if scores is None:
            scores = [self.vader(t) for t in texts]
        return np.array([self.row(t, s) for t, s in zip(texts, scores, strict=True)],
                        dtype=np.float32).reshape(len(texts), 8)
