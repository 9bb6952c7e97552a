"""Find and remove a person's strings (name, handle, platform ids) wherever they were copied: another
customer's message that @mentions them, a note on someone else's case, an approval's reason, a failed
delivery's payload. Every text and JSON column of every table is looked at, so a column added later is
covered without anyone remembering to add it here.

Not swept: the audit log (append-only and hash-chained: it is counted, never changed, and by design holds
no contact data; see docs/privacy.md), the privacy requests themselves (ids and counts only) and columns
that hold hashes or encrypted secrets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from sqlalchemy import JSON, MetaData, String, Table, Text, and_, cast, func, or_, select, update
from sqlalchemy.orm import Session

from onevoice.audit.models import AuditRecord

REDACTED = "[erased]"
NOT_SWEPT_TABLES = frozenset({"audit_log", "privacy_requests", "alembic_version"})
# SQLite's full-text index: kept from `messages` by triggers (0002_inbox), never written directly.
NOT_SWEPT_PREFIXES = ("messages_search", "sqlite_")
NOT_SWEPT_COLUMNS = frozenset({"hash", "prev_hash", "mac", "key_id", "token_hash", "password_hash", "csrf_token",
                               "secrets", "idempotency_key"})
MIN_CHARS = 4
MIN_DIGITS = 6  # a bare number shorter than this is too likely to be something else (a count, a year)


def distinctive(strings: Iterable[str | None]) -> list[str]:
    """The strings worth looking for everywhere, longest first (so "@ana_b" goes before "ana_b")."""
    out: set[str] = set()
    for s in strings:
        s = (s or "").strip()
        if s.startswith("@") and len(s) > 1:
            out.add(s[1:].strip())
        if len(s) < MIN_CHARS or (s.isdigit() and len(s) < MIN_DIGITS):
            continue
        out.add(s)
    return sorted((s for s in out if len(s) >= MIN_CHARS and not (s.isdigit() and len(s) < MIN_DIGITS)),
                  key=lambda s: (-len(s), s))


def swept_columns(session: Session) -> list[tuple[Table, list]]:
    """(table, [text and JSON columns]) for every table the sweep looks at, as the database has them
    (reflected, not from our models: a table no model mentions is swept too)."""
    meta = MetaData()
    meta.reflect(bind=session.connection())
    out = []
    for table in meta.sorted_tables:
        if table.name in NOT_SWEPT_TABLES or table.name.startswith(NOT_SWEPT_PREFIXES):
            continue
        cols = [c for c in table.columns if isinstance(c.type, String | Text | JSON)
                and c.name not in NOT_SWEPT_COLUMNS]
        if cols and table.primary_key.columns:
            out.append((table, cols))
    return out


def _forms(needle: str) -> list[str]:
    """How the needle can appear in a stored column: as typed, lower-case, and JSON-escaped (the standard
    library's encoder writes non-ASCII as \\uXXXX)."""
    escaped = json.dumps(needle)[1:-1]
    return list(dict.fromkeys([needle, needle.lower(), escaped, escaped.lower()]))


def mentions(data: bytes, needles: list[str]) -> bool:
    """Whether raw bytes (a webhook body as received) hold one of the needles in one of its forms, any case."""
    low = data.lower()
    return any(form.lower().encode() in low for n in needles for form in _forms(n))


def _condition(col, needles: list[str]):
    text = cast(col, Text) if isinstance(col.type, JSON) else col
    # lower() on both sides: SQLite's LIKE and PostgreSQL's differ in case rules; this agrees on ASCII.
    return or_(*(func.lower(text).like(f"%{_like_escape(form.lower())}%", escape="\\")
                 for n in needles for form in _forms(n)))


def _like_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _pattern(needles: list[str]) -> re.Pattern:
    return re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE)


def _scrub(value, pattern: re.Pattern):
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, list):
        return [_scrub(v, pattern) for v in value]
    if isinstance(value, dict):
        return {(_scrub(k, pattern) if isinstance(k, str) else k): _scrub(v, pattern) for k, v in value.items()}
    return value


def find(session: Session, needles: list[str], tables: Iterable[str] | None = None) -> dict[str, int]:
    """'table.column' -> how many rows hold one of the needles (nothing is changed)."""
    found: dict[str, int] = {}
    if not needles:
        return found
    wanted = set(tables) if tables is not None else None
    for table, cols in swept_columns(session):
        if wanted is not None and table.name not in wanted:
            continue
        for col in cols:
            n = session.scalar(select(func.count()).select_from(table).where(_condition(col, needles)))
            if n:
                found[f"{table.name}.{col.name}"] = n
    return found


def candidates(session: Session, needles: list[str]) -> dict[str, list[tuple]]:
    """'table.column' -> primary keys of the rows holding a needle. Read only: run it in a read-only session
    before the erasure's write transaction, so that the scan of every table never holds SQLite's write lock."""
    out: dict[str, list[tuple]] = {}
    if not needles:
        return out
    for table, cols in swept_columns(session):
        pk = list(table.primary_key.columns)
        for col in cols:
            keys = [tuple(r) for r in session.execute(select(*pk).where(_condition(col, needles)))]
            if keys:
                out[f"{table.name}.{col.name}"] = keys
    return out


def _rows(session: Session, table: Table, col, needles: list[str], keys: list[tuple] | None) -> list:
    pk = list(table.primary_key.columns)
    if keys is None:
        return session.execute(select(*pk, col).where(_condition(col, needles))).all()
    rows = []
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        where = pk[0].in_([k[0] for k in chunk]) if len(pk) == 1 else or_(
            *(and_(*(c == k[i] for i, c in enumerate(pk))) for k in chunk))
        rows += session.execute(select(*pk, col).where(where)).all()
    return rows


def sweep(session: Session, needles: list[str], found: dict[str, list[tuple]] | None = None) -> dict[str, int]:
    """Replace every needle (any case) with "[erased]" in every swept column; 'table.column' -> rows changed.

    `found` (from `candidates`) limits the work to those rows, looked up by primary key; without it every
    table is scanned here. JSON is scrubbed value by value (keys too), so it stays valid JSON, same shape.
    """
    changed: dict[str, int] = {}
    if not needles:
        return changed
    pattern = _pattern(needles)
    for table, cols in swept_columns(session):
        pk = list(table.primary_key.columns)
        for col in cols:
            keys = None if found is None else found.get(f"{table.name}.{col.name}")
            if found is not None and not keys:
                continue
            n = 0
            for row in _rows(session, table, col, needles, keys):
                value = row[-1]
                new = _scrub(value, pattern)
                if new == value:
                    continue  # nothing of theirs (any more), or only a form we do not rewrite
                where = [c == row[i] for i, c in enumerate(pk)]
                session.execute(update(table).where(*where).values({col.name: new}))
                n += 1
            if n:
                changed[f"{table.name}.{col.name}"] = n
    return changed


def count_in_audit_log(session: Session, needles: list[str]) -> int:
    """Audit records that mention a needle: reported to whoever erases, never changed (the chain)."""
    table = AuditRecord.__table__
    if not needles:
        return 0
    cond = or_(*(_condition(table.c[name], needles) for name in ("actor", "target", "data")))
    return session.scalar(select(func.count()).select_from(table).where(cond)) or 0
