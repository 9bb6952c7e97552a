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
DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def find_pii(text: str) -> list[str]:
    """The kinds of personal data in the text, in a fixed order: email, card, phone, address."""
    kinds: list[str] = []
    digits = sum(map(str.isdigit, text))
    # Cheap gates first: most messages have no "@", few digits and no street word, and the regexes
    # below are the slow part.
    if digits == 0 and "@" not in text and not _STREET_WORDS.search(text):
        return kinds
    if "@" in text and EMAIL.search(text):
        kinds.append("email")
    stripped = EMAIL.sub(" ", text) if "@" in text else text
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
