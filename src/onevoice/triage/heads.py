"""The trained heads at run time: one weight matrix shared by every head, applied with numpy only.

A model directory holds `heads.npz` (weights) and `meta.json` (heads, classes, metrics). All heads read
the same hashed features, so one sparse product serves sentiment, intent, offensive, hate, crisis and
emotion at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from onevoice.triage.features import sparse_dot

PACKAGED_MODEL_DIR = Path(__file__).parent / "model"
DENSE_FEATURES = ("vader_compound", "vader_pos", "vader_neg", "vader_neu", "question_mark", "exclamations",
                  "caps_ratio", "length")


@dataclass(slots=True)
class Head:
    name: str
    classes: list[str]
    start: int
    end: int

    @property
    def binary(self) -> bool:
        return self.end - self.start == 1


class Heads:
    """Weights of every head plus the metadata written by training."""

    def __init__(self, weights: np.ndarray, dense: np.ndarray, bias: np.ndarray, meta: dict) -> None:
        # Row-major, so that the gather of one feature's weights for every head reads one cache line; a
        # column-major matrix (what stacking the trained coefficients gives) made it ~10x slower.
        self.weights = np.ascontiguousarray(weights, dtype=np.float32)
        self.dense = dense
        self.bias = bias
        self.meta = meta
        self.version: str = meta.get("version", "unknown")
        self.heads = {h["name"]: Head(h["name"], h["classes"], h["start"], h["end"]) for h in meta["heads"]}
        soft = [h for h in self.heads.values() if not h.binary]
        self._soft = [(h.name, sum(x.end - x.start for x in soft[:i]), h.end - h.start) for i, h in enumerate(soft)]
        self._soft_cols = np.array([c for h in soft for c in range(h.start, h.end)], dtype=np.int64)
        self._soft_starts = np.array([start for _, start, _ in self._soft], dtype=np.int64)
        self._soft_widths = np.array([width for _, _, width in self._soft], dtype=np.int64)
        binary = [h for h in self.heads.values() if h.binary]
        self._binary = [h.name for h in binary]
        self._binary_cols = np.array([h.start for h in binary], dtype=np.int64)

    @classmethod
    def load(cls, model_dir: Path | str | None = None) -> Heads:
        path = Path(model_dir) if model_dir else PACKAGED_MODEL_DIR
        meta = json.loads((path / "meta.json").read_text())
        with np.load(path / "heads.npz") as z:
            # float16 on disk halves the size; float32 in memory keeps the arithmetic fast and exact enough.
            return cls(z["weights"].astype(np.float32), z["dense"].astype(np.float32),
                       z["bias"].astype(np.float32), meta)

    def save(self, model_dir: Path) -> None:
        model_dir.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(model_dir / "heads.npz", weights=self.weights.astype(np.float16),
                            dense=self.dense.astype(np.float32), bias=self.bias.astype(np.float32))
        (model_dir / "meta.json").write_text(json.dumps(self.meta, indent=1, sort_keys=True))

    def logits(self, indptr: np.ndarray, cols: np.ndarray, vals: np.ndarray, dense: np.ndarray) -> np.ndarray:
        return sparse_dot(indptr, cols, vals, self.weights) + dense @ self.dense + self.bias

    def all_probabilities(self, logits: np.ndarray) -> dict[str, np.ndarray]:
        """`probabilities` of every head, bit for bit, in about a dozen numpy calls instead of ~35.

        The softmax heads' columns are gathered into one array: one max per head (maximum.reduceat), one
        exp, one division. Each head's sum stays a plain `sum` over its own columns, because reduceat
        adds in a different order and would move the last bit.
        """
        out: dict[str, np.ndarray] = {}
        if len(self._soft_cols):
            z = logits[:, self._soft_cols]
            widths = self._soft_widths
            # np.repeat keeps every array C-ordered: a head's sum must run along contiguous memory, as
            # it did per head, or numpy adds in another order (an F-ordered gather moved the last bit).
            e = np.exp(z - np.repeat(np.maximum.reduceat(z, self._soft_starts, axis=1), widths, axis=1))
            sums = np.concatenate([e[:, start:start + width].sum(axis=1, keepdims=True)
                                   for _, start, width in self._soft], axis=1)
            p = e / np.repeat(sums, widths, axis=1)
            for name, start, width in self._soft:
                out[name] = p[:, start:start + width]
        if len(self._binary_cols):
            p = 1.0 / (1.0 + np.exp(-logits[:, self._binary_cols]))
            for j, name in enumerate(self._binary):
                out[name] = p[:, j]
        return {name: out[name] for name in self.heads}

    def probabilities(self, logits: np.ndarray, name: str) -> np.ndarray:
        """Per-class probabilities of one head: softmax, or (binary) P(positive) in one column."""
        h = self.heads[name]
        z = logits[:, h.start:h.end]
        if h.binary:
            return 1.0 / (1.0 + np.exp(-z[:, 0]))
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
