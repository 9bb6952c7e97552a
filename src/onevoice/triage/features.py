"""Hashed word and character n-gram features, identical at training and at run time.

Why hashing: no vocabulary file to ship or keep in sync, and new words (typos, product names) still land
somewhere useful through their character n-grams. Why crc32 and not hash(): Python's str hash is salted
per process, so the same word would land in a different column after a restart.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

N_BITS = 18
N_FEATURES = 1 << N_BITS
_MASK = N_FEATURES - 1

_URL = re.compile(r"https?://\S+|www\.\S+", re.I)
_MENTION = re.compile(r"@\w+")
_DIGITS = re.compile(r"\d+")
# A word, or a single non-space symbol (so "?" "!" and each emoji are tokens of their own).
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|0|[^\w\s]")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_HASHTAG = re.compile(r"#(\w+)")


def normalize(text: str) -> str:
    """Lowercase text with URLs, @handles and digits replaced by placeholders.

    Hashtags keep their words (#NeverAgain -> never again) because on social media a hashtag is often
    the whole message.
    """
    # Each substitution runs only when its pattern can match (most messages have no URL or hashtag):
    # a URL needs "http" or "www" in some case, and no letter of those has a non-ASCII case variant.
    low = text.lower()
    if "http" in low or "www" in low:
        text = _URL.sub(" httpurl ", text)
    if "@" in text:
        text = _MENTION.sub(" atuser ", text)
    if "#" in text:
        text = _HASHTAG.sub(_split_hashtag, text)
    text = _DIGITS.sub("0", text)
    return text.lower()


def _split_hashtag(m: re.Match[str]) -> str:
    return " " + _CAMEL.sub(" ", m.group(1)) + " "


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(normalize(text))


class Tokenizer:
    """`tokenize`, computed once per distinct whitespace-separated chunk of text and cached.

    No step of `normalize` or of the token pattern reaches across whitespace (URLs end at it, handles,
    hashtags and digit runs are word characters, lowercasing's one context rule, the final sigma, stops
    at it), so a text's tokens are its chunks' tokens in order. Most chunks of a stream ("the", "@acme",
    "refund") were seen a moment ago, which turns a regex pass over the message into dictionary look-ups.
    """

    def __init__(self, cache_size: int = 200_000) -> None:
        self._cache: dict[str, list[str]] = {}
        self._cache_size = cache_size

    def __call__(self, text: str) -> list[str]:
        cache = self._cache
        chunks = text.split()
        parts = [cache.get(c) for c in chunks]
        if None in parts:
            if len(cache) > self._cache_size:
                cache.clear()
            for k, c in enumerate(chunks):
                if parts[k] is None:
                    parts[k] = cache[c] = tokenize(c)
        if len(parts) == 1:
            return list(parts[0])
        out: list[str] = []
        for part in parts:
            out += part
        return out


def feature_hash(s: str) -> int:
    return zlib.crc32(s.encode("utf-8")) & _MASK


_h = feature_hash
# CRC-32 carries on from a prefix: crc32(b"c:" + x) == crc32(x, crc32(b"c:")). The hashes below are
# feature_hash("w:" + word) and so on, without building the prefixed strings.
_W_CRC, _C_CRC, _B_CRC = zlib.crc32(b"w:"), zlib.crc32(b"c:"), zlib.crc32(b"b:")


def word_features(w: str) -> tuple[int, ...]:
    """The columns of one word: the word itself and its character 3- and 4-grams (with < > around it)."""
    padded = f"<{w}>"
    grams = {padded[i:i + n] for n in (3, 4) for i in range(len(padded) - n + 1)}
    crc = zlib.crc32
    return (crc(w.encode(), _W_CRC) & _MASK, *[crc(g.encode(), _C_CRC) & _MASK for g in grams])


def bigram_hash(a: str, b: str) -> int:
    """feature_hash(f"b:{a} {b}"), the column of the word pair a b."""
    return zlib.crc32(f"{a} {b}".encode(), _B_CRC) & _MASK


class Featurizer:
    """Turns texts into a sparse bag of hashed n-grams (row offsets, column ids, values).

    Each distinct word's features (the word itself and its character 3- and 4-grams) are cached,
    which is what makes this fast: most words of a stream were seen a moment ago.
    """

    def __init__(self, cache_size: int = 200_000) -> None:
        self._cache: dict[str, tuple[int, ...]] = {}
        self._cache_size = cache_size

    def _word(self, w: str) -> tuple[int, ...]:
        got = self._cache.get(w)
        if got is None:
            got = word_features(w)
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[w] = got
        return got

    def doc(self, tokens: list[str]) -> list[int]:
        cols: list[int] = []
        for w in tokens:
            cols.extend(self._word(w))
        for a, b in zip(tokens, tokens[1:], strict=False):
            cols.append(bigram_hash(a, b))
        cols.append(_h("bias"))
        return cols

    def transform(self, token_lists: list[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR parts: indptr (n+1), column ids, values; each row L2-normalised (binary counts)."""
        indptr = np.zeros(len(token_lists) + 1, dtype=np.int64)
        all_cols: list[int] = []
        for i, toks in enumerate(token_lists):
            cols = self.doc(toks)
            all_cols.extend(cols)
            indptr[i + 1] = len(all_cols)
        cols_arr = np.fromiter(all_cols, dtype=np.int64, count=len(all_cols))
        lengths = np.diff(indptr)
        vals = np.repeat(1.0 / np.sqrt(np.maximum(lengths, 1)), lengths).astype(np.float32)
        return indptr, cols_arr, vals


def sparse_dot(indptr: np.ndarray, cols: np.ndarray, vals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Rows of the sparse matrix times a dense (n_features, k) weight matrix, in numpy only."""
    n = len(indptr) - 1
    out = np.zeros((n, weights.shape[1]), dtype=np.float32)
    if len(cols) == 0:
        return out
    contrib = weights[cols].astype(np.float32) * vals[:, None]
    nonempty = np.diff(indptr) > 0
    starts = indptr[:-1][nonempty]
    out[nonempty] = np.add.reduceat(contrib, starts, axis=0)
    return out
