"""Plain-row writes for the processing hot path: many rows per statement, ids in parameter order.

Processing writes hundreds of rows per batch; ORM objects (identity map, change tracking, a flush
that sorts units of work) cost more than the database itself, so the pipeline writes with Core.
"""

from __future__ import annotations

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from onevoice.db import executemany


def insert_ids(session: Session, table: Table, rows: list[dict]) -> list[int]:
    """Insert rows (all with the same keys) and return their new ids in the order of `rows`."""
    if not rows:
        return []
    if session.get_bind().dialect.name == "sqlite":
        # SQLAlchemy's ordered RETURNING falls back to one statement per row on SQLite. A write
        # transaction here holds the database's only write lock (BEGIN IMMEDIATE), so no one else can
        # take the next ids: assign them and insert in one executemany.
        start = session.execute(select(func.max(table.c.id))).scalar() or 0
        ids = list(range(start + 1, start + 1 + len(rows)))
        executemany(session, f"insert_ids.{table.name}", insert(table),
                    [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
        return ids
    result = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    return [row[0] for row in result]
