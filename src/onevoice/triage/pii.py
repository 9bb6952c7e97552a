"""Personal data in a message: e-mail addresses, phone numbers, card numbers and postal addresses.

Rules, not a model: these have shapes. Card numbers must pass the Luhn check so that order numbers and
tracking codes are not reported as cards. Only the kinds found are reported, never the values, so the
flag itself does not copy personal data into another table.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.I)
# 13 to 19 digits, optionally grouped by spaces or dashes (how people paste cards).
CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
# International or national numbers: +44 7700 900123, (555) 123-4567, 06 12 34 56 78.
PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]?\d{2,4}){2,4}(?!\w)")
# Capitalised suffixes only for words that are also common words ("way too many", "close to").
STREET = (r"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Square|Sq|"
          r"Terrace|Close|Crescent|Highway|Hwy|street|avenue|road|boulevard|lane")
ADDRESS = re.compile(
    rf"\b\d{{1,5}}[a-zA-Z]?,?\s+(?:[A-Z][\w'-]*\s+){{1,4}}(?:{STREET})\b\.?"
    r"|\b(?i:rue|avenue|boulevard|chemin|calle|avenida|via|piazza)\s+(?:de\s+|del\s+|la\s+|du\s+)?[A-Z]\w+"
    r"|\b[A-Z]\w+(?:straße|strasse|weg|gasse|platz)\s+\d{1,4}\b"
    # UK postcodes and US "City, ST 12345" are addresses on their own.
    r"|\b[A-Z]{1,2}\d[A-Z\d]?\s+\d[A-Z]{2}\b"
    r"|\b[A-Z][a-z]+,\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?\b",
)
_STREET_WORDS = re.compile(r"(?i:rue|avenue|boulevard|chemin|calle|avenida|via|piazza)\s")
_STREET_NAMES = ("rue", "avenue", "boulevard", "chemin", "calle", "avenida", "via", "piazza")
_ANY_DIGIT = re.compile(r"\d")
# What follows the "@" of every address EMAIL matches; it starts with a literal, so `re` finds it fast,
# where EMAIL itself (starting with a character class) is tried at every position of the text.
_EMAIL_TAIL = re.compile(r"@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.I)
DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _street_word(text: str, lowered: str | None) -> bool:
    # Plain ASCII lowercases letter for letter as the case-insensitive regex compares, so a substring
    # test can rule the regex out; other text (where e.g. "İ" matches "i") asks the regex.
    if text.isascii():
        low = lowered if lowered is not None else text.lower()
        if not any(w in low for w in _STREET_NAMES):
            return False
    return _STREET_WORDS.search(text) is not None


def find_pii(text: str, lowered: str | None = None) -> list[str]:
    """The kinds of personal data in the text, in a fixed order: email, card, phone, address.

    `lowered` (text.lower(), when the caller has it) only saves recomputing it.
    """
    kinds: list[str] = []
    # Cheap gates first: most messages have no "@", no digit and no street word, and the regexes below
    # are the slow part. Every pattern needs a decimal digit, an "@" or a street word.
    has_digit = _ANY_DIGIT.search(text) is not None
    at = "@" in text and _EMAIL_TAIL.search(text) is not None
    if not has_digit and not at and not _street_word(text, lowered):
        return kinds
    # Counted as before (str.isdigit, which also counts e.g. superscripts); without a decimal digit no
    # card or phone can match whatever the count, so it is not needed then.
    digits = sum(map(str.isdigit, text)) if has_digit else 0
    if at and EMAIL.search(text):
        kinds.append("email")
    stripped = EMAIL.sub(" ", text) if at else text
    cards = [m.group(0) for m in CARD.finditer(stripped)] if digits >= 13 else []
    if any(luhn_ok(d) for m in cards if 13 <= len(d := re.sub(r"\D", "", m)) <= 19):
        kinds.append("card")
    for m in PHONE.finditer(stripped) if digits >= 7 else ():
        digits = re.sub(r"\D", "", m.group(0))
        if DATE.fullmatch(m.group(0).strip()):
            continue
        if 7 <= len(digits) <= 15 and not (len(digits) >= 13 and luhn_ok(digits)):
            kinds.append("phone")
            break
    if ADDRESS.search(stripped):
        kinds.append("address")
    return kinds
