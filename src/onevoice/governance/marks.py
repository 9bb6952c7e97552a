"""Cut a text into pieces so a page can mark each guard finding where it is (the guard tester, the composer)."""

from __future__ import annotations

RANK = {"block": 0, "approval": 1, "warn": 2}


def marked_segments(text: str, findings) -> list[tuple[str, str | None, str]]:
    """(piece, severity or None, message) in order. Where findings overlap the most severe (then the
    shortest, so a whole-text tone finding does not hide a banned word) is marked."""
    chosen: list = []
    candidates = sorted((f for f in findings if f.start is not None and f.end and f.end > f.start),
                        key=lambda f: (RANK.get(f.severity, 3), f.end - f.start, f.start))
    for f in candidates:
        if all(f.end <= c.start or f.start >= c.end for c in chosen):
            chosen.append(f)
    out, at = [], 0
    for f in sorted(chosen, key=lambda f: f.start):
        out.append((text[at:f.start], None, ""))
        out.append((text[f.start:f.end], f.severity, f.message))
        at = f.end
    out.append((text[at:], None, ""))
    return [s for s in out if s[0]]
