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

from itertools import chain

import numpy as np

from onevoice.triage.features import bigram_hash, feature_hash, word_features
from onevoice.triage.heads import Heads

_FIRST = np.zeros(1, dtype=np.int64)


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
        cols = np.fromiter(chain.from_iterable(feats), dtype=np.int64, count=int(lengths.sum()))
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        self._vecs[start:need] = np.add.reduceat(self.heads.weights[cols], offsets, axis=0)
        self._nfeat[start:need] = lengths
        for i, w in enumerate(words, start):
            self._ids[w] = i

    def word_ids(self, token_lists: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        """All tokens' word ids, flat, and how many tokens each message has."""
        flat = self._flat_ids(token_lists)
        counts = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
        return np.array(flat, dtype=np.int64), counts

    def _flat_ids(self, token_lists: list[list[str]]) -> list[int]:
        ids = self._ids
        if len(ids) + sum(map(len, token_lists)) > self._cache_size:
            self._reset()
            ids = self._ids
        get = ids.get
        flat = [get(w) for toks in token_lists for w in toks]
        if None in flat:  # words never seen before: one look-up pass, then again (rare once warm)
            self._add(list({w: None for toks in token_lists for w in toks if w not in ids}))
            flat = [ids[w] for toks in token_lists for w in toks]
        return flat

    def _bigram_cols(self, token_lists: list[list[str]]) -> list[int]:
        cache = self._bigrams
        if len(cache) > self._cache_size:
            cache.clear()
        # Keyed by the pair of words: a tuple of two strings hashes from their cached hashes, where a
        # joined string would be built and hashed anew for every pair.
        pairs = [pair for toks in token_lists for pair in zip(toks, toks[1:], strict=False)]
        cols = list(map(cache.get, pairs))
        if None in cols:
            for k, pair in enumerate(pairs):
                if cols[k] is None:
                    cols[k] = cache[pair] = bigram_hash(*pair)
        return cols

    def linear(self, token_lists: list[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(sparse part of the logits, per-message scale, flat word ids, tokens per message)."""
        n = len(token_lists)
        flat = self._flat_ids(token_lists)
        bcols = self._bigram_cols(token_lists)
        ids = np.array(flat, dtype=np.int64)
        if n == 1:
            # One message (the one-at-a-time path): the same sums in the same order as below, with a
            # handful of numpy calls instead of the segment bookkeeping.
            n_feat = np.array([len(bcols) + 1 + int(self._nfeat[ids].sum())], dtype=np.int64)
            scale = (1.0 / np.sqrt(n_feat)).astype(np.float32)
            total = self._bias_row[None, :].copy()
            if len(ids):  # reduceat, not sum: sum adds in another order, which moves the last bit
                total += np.add.reduceat(self._vecs[ids], _FIRST, axis=0)
            if bcols:
                total += np.add.reduceat(self.heads.weights[bcols], _FIRST, axis=0)
            return total * scale[:, None], scale, ids, np.array([len(ids)], dtype=np.int64)
        n_tok = np.fromiter(map(len, token_lists), dtype=np.int64, count=n)
        n_bi = np.maximum(n_tok - 1, 0)
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
        return self.word_pull_array(ids, n_tok, scale, cols).tolist()

    def word_pull_array(self, ids: np.ndarray, n_tok: np.ndarray, scale: np.ndarray, cols: np.ndarray) -> np.ndarray:
        if not len(ids):
            return np.zeros(0, dtype=np.float32)
        return self._vecs[ids, np.repeat(cols, n_tok)] * np.repeat(scale, n_tok)


def _add_segments(out: np.ndarray, rows: np.ndarray, counts: np.ndarray) -> None:
    """out[i] += sum of the counts[i] rows that belong to message i (messages in order)."""
    if not len(rows):
        return
    nonempty = counts > 0
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    out[nonempty] += np.add.reduceat(rows, starts[nonempty], axis=0)
