"""Look for strings in every text-bearing column of every table of a database, as the database stores it
(JSON cast to text, SQLite's full-text index tables included). Independent of privacy/sweep.py on purpose:
it asks the database for its tables instead of reading our models."""

from __future__ import annotations

import json

from sqlalchemy import inspect, text

TEXTUAL = ("char", "text", "json", "clob", "")  # SQLite columns of FTS tables have no declared type


def _forms(needle: str) -> set[str]:
    return {needle.lower(), json.dumps(needle)[1:-1].lower()}


def tables_and_columns(conn) -> list[tuple[str, list[str]]]:
    if conn.dialect.name == "sqlite":
        names = [r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))]
        out = []
        for name in names:
            cols = [r[1] for r in conn.execute(text(f'PRAGMA table_info("{name}")'))
                    if any(t in (r[2] or "").lower() for t in TEXTUAL) or not r[2]]
            out.append((name, cols))
        return out
    insp = inspect(conn)
    return [(t, [c["name"] for c in insp.get_columns(t)
                 if any(k in str(c["type"]).lower() for k in ("char", "text", "json"))])
            for t in insp.get_table_names()]


def find_everywhere(engine, needles: list[str]) -> list[str]:
    """'table.column: needle' for every hit."""
    hits = []
    with engine.connect() as conn:
        for table, cols in tables_and_columns(conn):
            for col in cols:
                for needle in needles:
                    for form in _forms(needle):
                        n = conn.execute(text(f'SELECT count(*) FROM "{table}" WHERE lower(CAST("{col}" AS TEXT)) '
                                              "LIKE :p"), {"p": f"%{form}%"}).scalar()
                        if n:
                            hits.append(f"{table}.{col}: {needle!r} x{n}")
                            break
    return hits


def fts_terms(engine) -> set[str]:
    """Every term the SQLite full-text index holds (fts5vocab), deleted rows' leftovers included."""
    with engine.connect() as conn:
        conn.execute(text("CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_terms "
                          "USING fts5vocab(main, 'messages_search', 'row')"))
        return {r[0] for r in conn.execute(text("SELECT term FROM temp.search_terms"))}
