"""The policy guard: what in an outgoing text breaks the organization's rules, and where.

`check_text` is pure: it takes the text, the channel kind and the rules (rows or `RuleSpec`s) and returns
findings, each with the rule, its severity (block, approval, warn), a message and the span
(start/end offsets into the text and the matched text). Nothing here reads the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from onevoice.triage.pii import ADDRESS, CARD, DATE, EMAIL, PHONE, luhn_ok

SEVERITY_ORDER = {"block": 0, "approval": 1, "warn": 2}
CATEGORY_LABELS = {"banned": "banned term", "watched": "watched term", "claim": "unapproved claim",
                   "regulated": "regulated word", "profanity": "profanity", "slur": "slur",
                   "compensation": "promise of compensation"}
# Secrets that must never be published: private keys, well-known token shapes (cloud, code hosting, chat,
# payments, OneVoice's own, JSON web tokens), and a password or key written out after "password:" and the like
# (a value of 6+ characters with a digit or symbol, so "password: open Settings" is not one).
CREDENTIAL = re.compile(
    r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----"
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}"
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}"
    r"|\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}"
    r"|\bAIza[0-9A-Za-z_-]{35}"
    r"|\bov_[A-Za-z0-9_-]{20,}"
    r"|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
    r"|\b(?i:password|passwd|passcode|pwd|pin|api[ _-]?key|secret|access[ _-]?token|token)"
    # the value, without the punctuation that ends the sentence around it
    r"(?:\s*[:=]\s*|\s+is\s+)(?=\S{6,})\S*?[0-9!#$%&*+/=?@^_~-]\S*?(?=[.,;:!?)]*(?:\s|$))")
# How people dodge a word filter: look-alike digits and symbols, and separators between letters.
LEET = {"a": "a4@", "b": "b8", "e": "e3", "g": "g9", "i": "i1!|l", "l": "l1|", "o": "o0", "s": "s5$",
        "t": "t7+", "z": "z2"}
# At most two of these between two letters: "s.c.a.m", "s c a m", "s-c-a-m", zero-width joiners, soft hyphens.
SEPARATOR = r"(?:[\s.\-_*|'`~\u00ad\u200b-\u200d\u2060]{0,2})"
SARCASM = re.compile(
    r"\b(?:yeah,? right|thanks a lot|thanks for nothing|oh,? (?:great|wonderful|sure|brilliant)|"
    r"wow,? (?:just )?wow|as if|sure,? (?:because|whatever)|good luck with that|nice try|"
    r"congratulations on|bless your heart|whatever you say|if you say so|clearly you|obviously you)\b"
    r"|(?:^|\s)/s\b|\b(?:sooo+|riiight|suuure)\b",
    re.I,
)
SPONSOR_TAGS = ("#ad", "#sponsored", "#advertisement", "#paidpartnership", "#anzeige", "#werbung")


@dataclass(frozen=True)
class Finding:
    rule: str
    kind: str
    severity: str  # block | approval | warn
    message: str
    start: int | None = None
    end: int | None = None
    match: str | None = None

    def to_dict(self) -> dict:
        return {"rule": self.rule, "kind": self.kind, "severity": self.severity, "message": self.message,
                "start": self.start, "end": self.end, "match": self.match}


@dataclass(frozen=True)
class RuleSpec:
    """A rule as the checker sees it; GuardRule rows have the same attributes."""

    key: str
    kind: str
    severity: str = "warn"
    terms: tuple[str, ...] = ()
    params: dict = field(default_factory=dict)
    channel_kinds: tuple[str, ...] = ()
    enabled: bool = True
    name: str = ""


def _char_class(ch: str) -> str:
    chars = LEET.get(ch, ch)
    return "[" + "".join(re.escape(c) for c in chars) + "]" if len(chars) > 1 else re.escape(ch)


def term_pattern(term: str) -> str:
    """A whole-word, case-insensitive pattern for a term or phrase that tolerates simple obfuscation."""
    words = [w for w in re.split(r"\s+", term.strip().lower()) if w]
    parts = []
    for word in words:
        letters = [c for c in word if not c.isspace()]
        pieces = []
        for c in letters:
            # A hyphen or other separator inside the term itself ("risk-free") matches any separator or none.
            pieces.append(SEPARATOR if not c.isalnum() else _char_class(c) + "+")
        parts.append(SEPARATOR.join(p for p in pieces if p != SEPARATOR) if pieces else "")
    body = r"[\W_]+".join(p for p in parts if p)
    return rf"(?<![^\W_]){body}(?![^\W_])"


@lru_cache(maxsize=256)
def _terms_regex(terms: tuple[str, ...]) -> re.Pattern | None:
    patterns = [term_pattern(t) for t in terms if t and t.strip()]
    if not patterns:
        return None
    # Longer terms first so that "risk-free guarantee" wins over "guarantee".
    patterns.sort(key=len, reverse=True)
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)


def _where(text: str, start: int, end: int) -> str:
    return f"at {start}-{end}: {text[start:end]!r}"


def _check_terms(rule, text: str) -> list[Finding]:
    regex = _terms_regex(tuple(rule.terms or ()))
    if regex is None:
        return []
    category = (rule.params or {}).get("category", "banned")
    label = CATEGORY_LABELS.get(category, category)
    return [Finding(rule.key, rule.kind, rule.severity, f"{label} {_where(text, m.start(), m.end())}",
                    m.start(), m.end(), m.group(0)) for m in regex.finditer(text)]


def _allowed(value: str, allow: Iterable[str]) -> bool:
    value = value.lower()
    return any(value == a or (a.startswith("@") and value.endswith(a)) for a in (x.lower() for x in allow))


def _check_pii(rule, text: str) -> list[Finding]:
    params = rule.params or {}
    types = set(params.get("types") or ("email", "phone", "card", "address"))
    allow = params.get("allow") or ()
    out: list[Finding] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, label: str, m: re.Match, what: str = "personal data") -> None:
        taken.append((m.start(), m.end()))
        out.append(Finding(rule.key, rule.kind, rule.severity,
                           f"{what} ({label}) about to be published {_where(text, m.start(), m.end())}",
                           m.start(), m.end(), m.group(0)))

    def free(m: re.Match) -> bool:
        return all(m.end() <= s or m.start() >= e for s, e in taken)

    if "credential" in types:  # first: a token can look like a phone number or contain an "@"
        for m in CREDENTIAL.finditer(text):
            add("credential", "password, key or token", m, "a credential")

    for m in EMAIL.finditer(text):
        if _allowed(m.group(0), allow):
            taken.append((m.start(), m.end()))
        elif "email" in types:
            add("email", "email address", m)
    for m in CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if free(m) and 13 <= len(digits) <= 19 and luhn_ok(digits):
            if "card" in types:
                add("card", "card number", m)
            else:
                taken.append((m.start(), m.end()))
    if "phone" in types:
        for m in PHONE.finditer(text):
            digits = re.sub(r"\D", "", m.group(0))
            if free(m) and 7 <= len(digits) <= 15 and not DATE.fullmatch(m.group(0).strip()) \
                    and not _allowed(m.group(0), allow):
                add("phone", "phone number", m)
    if "address" in types:
        for m in ADDRESS.finditer(text):
            if free(m) and not _allowed(m.group(0), allow):
                add("address", "street address", m)
    return out


def _check_disclosure(rule, text: str, sponsored: bool) -> list[Finding]:
    if not sponsored:
        return []
    tags = [t.lower() for t in ((rule.params or {}).get("tags") or SPONSOR_TAGS)]
    if any(re.search(re.escape(t) + r"(?![\w])", text, re.I) for t in tags):
        return []
    return [Finding(rule.key, rule.kind, rule.severity,
                    f"sponsored content must disclose it: add {tags[0]} (none of {', '.join(tags)} is present)",
                    len(text), len(text), None)]


def _check_length(rule, text: str, channel_kind: str | None) -> list[Finding]:
    limits = (rule.params or {}).get("limits") or {}
    limit = limits.get(channel_kind or "") or limits.get("default")
    if not limit or len(text) <= int(limit):
        return []
    limit = int(limit)
    return [Finding(rule.key, rule.kind, rule.severity,
                    f"{channel_kind or 'this channel'} allows {limit} characters; this text has {len(text)} "
                    f"(the {len(text) - limit} after offset {limit} would be cut)",
                    limit, len(text), text[limit:limit + 40])]


def _check_tone(rule, text: str, tone: Callable[[str], float]) -> list[Finding]:
    params = rule.params or {}
    out = []
    if params.get("sarcasm", True):
        for m in SARCASM.finditer(text):
            out.append(Finding(rule.key, rule.kind, rule.severity,
                               f"reads as sarcastic {_where(text, m.start(), m.end())}", m.start(), m.end(),
                               m.group(0)))
    threshold = float(params.get("negative_below", -0.5))
    score = tone(text)
    if score <= threshold:
        out.append(Finding(rule.key, rule.kind, rule.severity,
                           f"reads as negative overall (sentiment {score:+.2f}, threshold {threshold:+.2f})",
                           0, len(text), None))
    return out


@lru_cache(maxsize=1)
def _vader():
    # Heavy (its lexicon loads on import): only when the guard first scores a text.
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_tone(text: str) -> float:
    """VADER's compound score, -1 (very negative) to +1; the same lexicon the triage's sentiment uses."""
    return float(_vader().polarity_scores(text)["compound"])


def applies(rule, channel_kind: str | None) -> bool:
    kinds = rule.channel_kinds or ()
    return bool(rule.enabled) and (not kinds or (channel_kind in kinds))


def check_text(text: str, *, channel_kind: str | None, rules: Iterable, sponsored: bool = False,
               tone: Callable[[str], float] | None = None) -> list[Finding]:
    """Every finding of the enabled rules that apply to this channel kind, most severe first, then by
    position. `tone` scores sentiment from -1 to +1 (default: VADER)."""
    text = text or ""
    findings: list[Finding] = []
    for rule in rules:
        if not applies(rule, channel_kind):
            continue
        if rule.kind == "terms":
            findings += _check_terms(rule, text)
        elif rule.kind == "pii":
            findings += _check_pii(rule, text)
        elif rule.kind == "disclosure":
            findings += _check_disclosure(rule, text, sponsored)
        elif rule.kind == "length":
            findings += _check_length(rule, text, channel_kind)
        elif rule.kind == "tone":
            findings += _check_tone(rule, text, tone or vader_tone)
    findings.sort(key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.start if f.start is not None else -1))
    return findings


def validate_terms(terms: Iterable[str]) -> list[str]:
    """Clean a list of terms typed by a person: trimmed, no empties, no duplicates, each compiles."""
    out: list[str] = []
    for term in terms:
        term = (term or "").strip()
        if term and term.lower() not in (t.lower() for t in out):
            re.compile(term_pattern(term))
            out.append(term)
    return out
