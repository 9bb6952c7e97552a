"""What a customer is called on the pages and in the API, whatever their platform sent.

Many platforms send no display name (Instagram and Messenger senders, X direct messages, an e-mail address
without a name), some send no handle either, and a person can pick a name made only of spaces or invisible
characters. Every optional field of an author may be missing, so the pages never read them directly: they
read the author and contact shapes made here, which always carry every field and a `display_name` (the name,
else the handle, else the platform's id for the author, else "Unknown").
"""

from __future__ import annotations

import unicodedata

UNKNOWN = "Unknown"
# Categories that show nothing on their own: separators, controls, format characters (zero-width space and
# joiners, direction marks, BOM), unassigned and surrogate code points.
_BLANK_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cn", "Cs"})
# Letters that render as nothing (Hangul fillers), often used for "empty" names.
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")


def shows_something(value: object) -> bool:
    """True when `value` is text with at least one visible character."""
    if not isinstance(value, str):
        return False
    return any(c not in _FILLERS and unicodedata.category(c) not in _BLANK_CATEGORIES for c in value)


def display_name(*candidates: object, default: str = UNKNOWN) -> str:
    """The first candidate that shows something, stripped of surrounding spaces; else `default`."""
    for value in candidates:
        if shows_something(value):
            return str(value).strip()
    return default


def first_word(name: str, default: str) -> str:
    """What a greeting uses ("Hi Ana"): the first word that shows something, else `default`."""
    return next((word for word in name.split() if shows_something(word)), default)


def author_view(author: object) -> dict:
    """A message's author with every field present (None or 0 when the platform sent none) and a display name.

    Stored authors are whatever intake accepted: `external_id` and only the optional fields that were sent.
    """
    data = author if isinstance(author, dict) else {}
    followers = data.get("followers")
    view = {**data, "external_id": data.get("external_id"), "handle": data.get("handle"), "name": data.get("name"),
            "followers": followers if isinstance(followers, int) and not isinstance(followers, bool) else 0}
    view["display_name"] = display_name(view["name"], view["handle"], view["external_id"])
    return view
