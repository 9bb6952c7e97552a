"""The escalation encoder at run time: a static sentence embedding with numpy only (no torch).

`encoder_model/` holds all-MiniLM-L6-v2 distilled by model2vec (scripts/build_encoder.py): one int8
vector per WordPiece token. A text's embedding is the mean of its tokens' vectors, L2-normalised, which
is exactly what model2vec's StaticModel.encode computes. The tokenizer is BERT's uncased WordPiece,
written here in Python so the runtime needs no `tokenizers` wheel; a per-chunk cache makes a stream of
posts (which repeat most words) cheap. The build script checks it gives the Rust tokenizer's ids.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import numpy as np

PACKAGED_ENCODER_DIR = Path(__file__).parent / "encoder_model"
_ASCII_PIECES = re.compile(r"[a-z0-9]+|[^a-z0-9]")
_MAX_WORD_CHARS = 100
_CACHE_LIMIT = 200_000
# Control characters Python's str.split() splits on but BERT's normalizer deletes (joining the words around them).
_DELETED_CONTROLS = str.maketrans("", "", "\x0b\x0c\x1c\x1d\x1e\x1f\x85")


def _is_chinese(cp: int) -> bool:
    # The CJK blocks BERT pads with spaces, so each ideograph is a word of its own.
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF
            or 0x2F800 <= cp <= 0x2FA1F)


def _is_punctuation(ch: str) -> bool:
    return (ch.isascii() and not ch.isalnum() and not ch.isspace()) or unicodedata.category(ch).startswith("P")


class WordPiece:
    """BERT uncased tokenization (normalizer, pre-tokenizer, WordPiece) returning ids without [UNK]."""

    def __init__(self, vocab: dict[str, int], unk_token: str = "[UNK]") -> None:
        self.vocab = vocab
        self.unk = vocab.get(unk_token)
        self._cache: dict[str, tuple[int, ...]] = {}

    def ids(self, text: str) -> list[int]:
        out: list[int] = []
        cache = self._cache
        if not text.isprintable():
            text = text.translate(_DELETED_CONTROLS)
        for chunk in text.split():
            got = cache.get(chunk)
            if got is None:
                if len(cache) >= _CACHE_LIMIT:
                    cache.clear()
                got = cache[chunk] = tuple(i for i in self._chunk(chunk) if i != self.unk)
            out.extend(got)
        return out

    def _chunk(self, chunk: str) -> list[int]:
        plain = chunk.isascii() and chunk.isprintable()
        words = _ASCII_PIECES.findall(chunk.lower()) if plain else self._words(chunk)
        out: list[int] = []
        for word in words:
            out.extend(self._pieces(word))
        return out

    @staticmethod
    def _words(chunk: str) -> list[str]:
        """Clean, pad CJK, strip accents, lower-case, split off punctuation: BertNormalizer + BertPreTokenizer."""
        chars = []
        for ch in chunk:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or (unicodedata.category(ch).startswith("C") and ch not in "\t\n\r"):
                continue
            if ch.isspace() or unicodedata.category(ch) == "Zs":
                chars.append(" ")
            elif _is_chinese(cp):
                chars.append(f" {ch} ")
            else:
                chars.append(ch)
        text = unicodedata.normalize("NFD", "".join(chars))
        text = "".join(c for c in text if unicodedata.category(c) != "Mn").lower()
        words: list[str] = []
        for piece in text.split():
            start = 0
            for i, ch in enumerate(piece):
                if _is_punctuation(ch):
                    if i > start:
                        words.append(piece[start:i])
                    words.append(ch)
                    start = i + 1
            if start < len(piece):
                words.append(piece[start:])
        return words

    def _pieces(self, word: str) -> list[int]:
        """Greedy longest-match-first; a word that cannot be covered is one [UNK]."""
        if len(word) > _MAX_WORD_CHARS:
            return [self.unk] if self.unk is not None else []
        vocab = self.vocab
        whole = vocab.get(word)
        if whole is not None:
            return [whole]
        out, start = [], 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = vocab.get(piece)
                if found is not None:
                    break
                end -= 1
            if found is None:
                return [self.unk] if self.unk is not None else []
            out.append(found)
            start = end
        return out


class StaticEncoder:
    """Sentence embeddings from the packaged (or a given) static model: mean of token vectors, unit length."""

    def __init__(self, path: Path | str | None = None) -> None:
        path = Path(path) if path else PACKAGED_ENCODER_DIR
        self.meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        tokens = (path / "vocab.txt").read_text(encoding="utf-8").split("\n")
        if tokens and tokens[-1] == "":
            tokens.pop()
        with np.load(path / "vectors.npz") as z:
            self.vectors = z["vectors"]
            self.scale = z["scale"].astype(np.float32)
        if len(tokens) != self.vectors.shape[0]:
            raise ValueError(f"{path}: {len(tokens)} tokens but {self.vectors.shape[0]} vectors")
        self.id: str = self.meta["id"]
        self.dims: int = int(self.vectors.shape[1])
        self.tokenizer = WordPiece({t: i for i, t in enumerate(tokens)}, self.meta.get("unk_token", "[UNK]"))

    def encode(self, texts: list[str]) -> np.ndarray:
        ids = [self.tokenizer.ids(t) for t in texts]
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        flat = np.fromiter((i for x in ids for i in x), dtype=np.int64, count=int(lengths.sum()))
        if flat.size:
            rows = np.nonzero(lengths)[0]
            starts = np.concatenate(([0], np.cumsum(lengths[rows])[:-1]))
            # Sum the int8 rows per text in float32; the per-dimension scale applies after the sum.
            out[rows] = np.add.reduceat(self.vectors[flat].astype(np.float32), starts, axis=0) * self.scale
        norm = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norm, out=out, where=norm > 0)
        return out
