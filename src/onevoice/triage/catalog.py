"""Matching the organization's product catalog in free text, tolerant of typos, case and hashtags.

"#VoltixV3", "voltix v3" and "voltx v3" all find the product whose name or alias is "Voltix V3". Typos are
caught with symmetric deletes (two words are one edit apart when they share a one-letter deletion), which
costs a few dictionary look-ups per word instead of comparing every word with every product.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z0-9])|(?<=[0-9])(?=[A-Z][a-z])")
_WORD = re.compile(r"#?[^\W_]+(?:['’][^\W_]+)?")
# Words shorter than this must match exactly: "X2" one edit away is "X3", a different product.
MIN_FUZZY = 5


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    key: str
    name: str
    aliases: tuple[str, ...] = ()
    # product | competitor | term; a term (or any entry) may lean triage toward an intent and route to a team.
    kind: str = "product"
    intent: str | None = None
    team: str | None = None


def _words(text: str) -> list[str]:
    return [w.lower().lstrip("#") for w in _WORD.findall(text)]


def _forms(raw: str) -> list[str]:
    """The words one text token stands for: itself lowercased; a hashtag, also its CamelCase parts."""
    if not raw.startswith("#"):
        return [raw.lower()]
    tag = raw[1:]
    parts = _words(_CAMEL.sub(" ", tag))
    return [tag.lower(), *parts] if len(parts) > 1 else [tag.lower()]


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


class Catalog:
    def __init__(self, entries: Iterable[CatalogEntry | dict | object] = ()) -> None:
        self.entries: list[CatalogEntry] = [self._entry(e) for e in entries]
        # phrase -> product key, where a phrase is a tuple of lowercase words
        self._phrases: dict[tuple[str, ...], str] = {}
        self._by_first: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        self._exact: set[str] = set()
        self._fuzzy: dict[str, set[str]] = defaultdict(set)
        for e in self.entries:
            for label in (e.name, e.key.replace("-", " ").replace("_", " "), *e.aliases):
                words = tuple(_words(_CAMEL.sub(" ", label)))
                if not words:
                    continue
                self._add(words, e.key)
                if len(words) > 1:
                    self._add(("".join(words),), e.key)  # the hashtag form: #voltixv3
        self.by_key = {e.key: e for e in self.entries}
        self._cache: dict[str, frozenset[str]] = {}
        # Chunks of text already looked at, and those with a word that may stand for a catalog word.
        self._seen: set[str] = set()  # chunks of text (split at whitespace) already looked at
        self._hot: set[str] = set()

    @staticmethod
    def _entry(e) -> CatalogEntry:
        if isinstance(e, CatalogEntry):
            return e
        get = e.get if isinstance(e, dict) else lambda k, d=None: getattr(e, k, d)
        return CatalogEntry(str(get("key")), str(get("name") or get("key")), tuple(get("aliases") or ()),
                            str(get("kind") or "product"), get("intent") or None, get("team") or None)

    def _add(self, words: tuple[str, ...], key: str) -> None:
        self._phrases.setdefault(words, key)
        self._by_first[words[0]].append(words)
        for w in words:
            self._exact.add(w)
            if len(w) >= MIN_FUZZY:
                for d in _deletes(w) | {w}:
                    self._fuzzy[d].add(w)

    def _canon(self, word: str) -> frozenset[str]:
        """The catalog words this text word may stand for (itself, or one edit away)."""
        got = self._cache.get(word)
        if got is None:
            found = {word} if word in self._exact else set()
            if len(word) >= MIN_FUZZY:
                for d in _deletes(word) | {word}:
                    found |= self._fuzzy.get(d, set())
            if len(self._cache) > 100_000:
                self._cache.clear()
            got = self._cache[word] = frozenset(found)
        return got

    def _learn(self, chunks: set[str]) -> None:
        if len(self._seen) > 100_000:  # bounded memory; cleared before the difference is taken
            self._seen.clear()
            self._hot.clear()
        chunks = chunks - self._seen
        self._seen |= chunks
        canon, hot = self._canon, self._hot
        for c in chunks:
            if c.isalnum():  # one plain word (the common case): no need for the word pattern
                if canon(c.lower()):
                    hot.add(c)
            elif any(canon(f) for w in _WORD.findall(c) for f in _forms(w)):
                hot.add(c)

    def match(self, text: str) -> list[tuple[str, str]]:
        """(product key, the text that matched), each product once, in order of appearance."""
        if not self._phrases:
            return []
        # Most messages name no product. A phrase matches only where its first word does, so when no
        # word of the text may stand for a catalog word nothing can match. Words never span whitespace,
        # so this is known per whitespace-separated chunk, remembered, and checked with two set
        # operations in C, without the word regex.
        chunks = set(text.split())
        if not chunks.issubset(self._seen):
            self._learn(chunks)
        if chunks.isdisjoint(self._hot):
            return []
        return self._match_tokens(_WORD.findall(text))

    def _match_tokens(self, raw: list[str]) -> list[tuple[str, str]]:
        # (word, original) with hashtags split into their words
        tokens: list[tuple[str, str]] = []
        for r in raw:
            if r[0] == "#":
                tokens.extend((f, r) for f in _forms(r))
            else:
                tokens.append((r.lower(), r))
        cache = self._cache
        canon = [cache.get(w) for w, _ in tokens]
        if None in canon:
            canon = [self._canon(w) for w, _ in tokens]
        found: dict[str, str] = {}
        for i, options in enumerate(canon):
            if not options:  # most words of a message stand for no catalog word
                continue
            for first in options:
                for phrase in self._by_first.get(first, ()):
                    n = len(phrase)
                    if i + n <= len(tokens) and all(phrase[j] in canon[i + j] for j in range(1, n)):
                        key = self._phrases[phrase]
                        if key not in found:
                            found[key] = " ".join(dict.fromkeys(o for _, o in tokens[i:i + n]))
        return list(found.items())
