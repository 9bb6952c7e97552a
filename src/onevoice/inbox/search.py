"""Full-text search over message text and author, through the index built by migration 0002_inbox.

SQLite: the FTS5 table `messages_search`. PostgreSQL: a GIN index on the expression below (it must stay
identical to the migration's, or PostgreSQL will not use the index).
"""

from __future__ import annotations

import re

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from onevoice.messages.models import Message

MAX_HITS = 1000
PG_SEARCH = ("to_tsvector('simple', coalesce(text, '') || ' ' || coalesce(author->>'handle', '') || ' ' || "
             "coalesce(author->>'name', ''))")
_WORD = re.compile(r"\w+", re.UNICODE)


def terms(query: str) -> list[str]:
    return _WORD.findall((query or "").lower())[:8]


def matching_case_ids(session: Session, query: str, limit: int = MAX_HITS) -> list[int]:
    """Cases with a message matching every word of `query` (the last word as a prefix), newest first."""
    words = terms(query)
    if not words:
        return []
    dialect = session.bind.dialect.name
    if dialect == "sqlite":
        # Each word quoted, so the user's text is never read as FTS5 query syntax.
        match = " ".join(f'"{w}"' for w in words[:-1]) + f' "{words[-1]}"*'
        ids = list(session.scalars(text("SELECT rowid FROM messages_search WHERE messages_search MATCH :q "
                                        "ORDER BY rowid DESC LIMIT :n"), {"q": match.strip(), "n": limit}))
    elif dialect == "postgresql":
        tsquery = " & ".join(words[:-1] + [f"{words[-1]}:*"])
        ids = list(session.scalars(text(f"SELECT id FROM messages WHERE {PG_SEARCH} @@ to_tsquery('simple', :q) "
                                        "ORDER BY id DESC LIMIT :n"), {"q": tsquery, "n": limit}))
    else:  # pragma: no cover - other databases get a slow but correct scan
        q = select(Message.id)
        for w in words:
            q = q.where(Message.text.ilike(f"%{w}%"))
        ids = list(session.scalars(q.order_by(Message.id.desc()).limit(limit)))
    if not ids:
        return []
    found = session.execute(select(Message.id, Message.case_id).where(Message.id.in_(ids),
                                                                      Message.case_id.is_not(None))).all()
    by_id = dict(found)
    seen: dict[int, None] = {}
    for mid in ids:
        cid = by_id.get(mid)
        if cid is not None:
            seen.setdefault(cid, None)
    return list(seen)
