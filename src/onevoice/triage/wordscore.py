"""The heads' linear part, applied word by word instead of feature by feature (run time only).

A message's hashed features are, per word, the word itself and its character 3- and 4-grams (about
eight columns a word), plus one column per word bigram and a bias column, all with the same value
1/sqrt(number of features). The weights of one word's columns can therefore be summed once, when the
word is first seen, into a vector with one entry per head column: scoring a message then reads about
twenty cached word vectors and twenty bigram rows instead of ~170 scattered rows of a 23 MB matrix.
Mathematically this is the same product as `features.sparse_dot` over `Featurizer.transform` (training
and evaluation still use that); only the float32 rounding order differs (~1e-6).

The per-word vectors also give each word's pull toward the winning intent for free (the "words that
drove the result" in the explanation).
"""

from __future__ import annotations

import numpy as np

from onevoice.triage.features import feature_hash, word_features
from onevoice.triage.heads import Heads


class WordScorer:
    def __init__(self, heads: Heads, cache_size: int = 200_000) -> None:
        self.heads = heads
        self._k = heads.weights.shape[1]
        self._bias_row = heads.weights[feature_hash("bias")]
        self._cache_size = cache_size
        self._reset()

    def _reset(self) -> None:
        self._ids: dict[str, int] = {}
        self._vecs = np.zeros((4096, self._k), dtype=np.float32)
        self._nfeat = np.zeros(4096, dtype=np.int64)
        self._bigrams: dict[str, int] = {}

    def _add(self, words: list[str]) -> None:
        """Word vectors for words never seen before (each word once)."""
        start = len(self._ids)
        need = start + len(words)
        if need > len(self._vecs):
            size = max(need, 2 * len(self._vecs))
            self._vecs = np.resize(self._vecs, (size, self._k))
            self._nfeat = np.resize(self._nfeat, size)
        feats = [word_features(w) for w in words]
        lengths = np.fromiter(map(len, feats), dtype=np.int64, count=len(feats))
        cols = np.fromiter((c for f in feats for c in f), dtype=np.int64, count=int(lengths.sum()))
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        self._vecs[start:need] = np.add.reduceat(self.heads.weights[cols], offsets, axis=0)
        self._nfeat[start:need] = lengths
        for i, w in enumerate(words, start):
            self._ids[w] = i

    def word_ids(self, token_lists: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        """All tokens' word ids, flat, and how many tokens each message has."""
        ids = self._ids
        if len(ids) + sum(map(len, token_lists)) > self._cache_size:
            self._reset()
            ids = self._ids
        new = {w: None for toks in token_lists for w in toks if w not in ids}
        if new:
            self._add(list(new))
        flat = [ids[w] for toks in token_lists for w in toks]
        counts = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
        return np.array(flat, dtype=np.int64), counts

    def _bigram_cols(self, token_lists: list[list[str]]) -> tuple[list[int], np.ndarray]:
        cache = self._bigrams
        if len(cache) > self._cache_size:
            cache.clear()
        cols: list[int] = []
        for toks in token_lists:
            for a, b in zip(toks, toks[1:], strict=False):
                key = f"{a} {b}"
                c = cache.get(key)
                if c is None:
                    c = cache[key] = feature_hash("b:" + key)
                cols.append(c)
        counts = np.fromiter((max(len(t) - 1, 0) for t in token_lists), dtype=np.int64, count=len(token_lists))
        return cols, counts

    def linear(self, token_lists: list[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(sparse part of the logits, per-message scale, flat word ids, tokens per message)."""
        n = len(token_lists)
        ids, n_tok = self.word_ids(token_lists)
        bcols, n_bi = self._bigram_cols(token_lists)
        n_feat = n_bi + 1
        _add_segments(n_feat, self._nfeat[ids], n_tok)
        # As Featurizer.transform computes it (float64, then float32), so the scale is bit-identical.
        scale = (1.0 / np.sqrt(n_feat)).astype(np.float32)
        total = np.broadcast_to(self._bias_row, (n, self._k)).copy()
        _add_segments(total, self._vecs[ids], n_tok)
        _add_segments(total, self.heads.weights[np.array(bcols, dtype=np.int64)], n_bi)
        return total * scale[:, None], scale, ids, n_tok

    def logits(self, token_lists: list[list[str]], dense: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                              np.ndarray]:
        sparse, scale, ids, n_tok = self.linear(token_lists)
        return sparse + dense @ self.heads.dense + self.heads.bias, scale, ids, n_tok

    def word_pull(self, ids: np.ndarray, n_tok: np.ndarray, scale: np.ndarray, cols: np.ndarray) -> list[float]:
        """Each token's contribution to its message's column `cols[message]` (flat, like `ids`)."""
        if not len(ids):
            return []
        return (self._vecs[ids, np.repeat(cols, n_tok)] * np.repeat(scale, n_tok)).tolist()


def _add_segments(out: np.ndarray, rows: np.ndarray, counts: np.ndarray) -> None:
    """out[i] += sum of the counts[i] rows that belong to message i (messages in order)."""
    if not len(rows):
        return
    nonempty = counts > 0
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    out[nonempty] += np.add.reduceat(rows, starts[nonempty], axis=0)
