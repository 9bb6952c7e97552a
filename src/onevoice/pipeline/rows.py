"""Plain-row writes for the processing hot path: many rows per statement, ids in parameter order.

Processing writes hundreds of rows per batch; ORM objects (identity map, change tracking, a flush
that sorts units of work) cost more than the database itself, so the pipeline writes with Core.
"""

from __future__ import annotations

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session


def chunks(items: list, size: int = 400):
    """Keep IN lists well under every driver's bound-parameter limit."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


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


# (name, columns given) -> (SQL, [(row key or None, bind processor, processed constant)]); see executemany.
_PLANS: dict[tuple[str, tuple[str, ...]], tuple[str, list[tuple[str | None, object, object]]]] = {}


def executemany(session: Session, name: str, stmt, rows: list[dict]) -> None:
    """Execute `stmt` once per row. On SQLite the statement is compiled once per `name` and its rows go straight
    to the DB-API cursor as tuples, each value through its column type's own bind processor (the same text,
    dates and JSON SQLAlchemy would send): SQLAlchemy's per-row parameter handling for an executemany cost
    ~15 % of the worker. Elsewhere (PostgreSQL) it is `session.execute(stmt, rows)`.

    The plan is cached by `name`, so a statement given under one name must be the same at every call: what
    changes from call to call (the batch's time, say) goes in the rows as a bind parameter, never as a literal.
    Columns with Python-side defaults must be given in the rows (a statement that would compute one falls back
    to `session.execute`). All rows have the same keys."""
    if not rows:
        return
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        session.execute(stmt, rows)
        return
    keys = tuple(rows[0])
    plan = _PLANS.get((name, keys))
    if plan is None:
        plan = _PLANS[(name, keys)] = _plan(stmt, bind.dialect, keys)
    sql, fields = plan
    if not fields:  # defaults computed per row, or a statement this does not handle: SQLAlchemy's way
        session.execute(stmt, rows)
        return
    params = [tuple([const if key is None else (row[key] if proc is None else proc(row[key]))
                     for key, proc, const in fields]) for row in rows]
    # session.connection() first: it begins the session's transaction (BEGIN IMMEDIATE on SQLite, db.py).
    session.connection().connection.driver_connection.executemany(sql, params)


def _plan(stmt, dialect, keys: tuple[str, ...]) -> tuple[str, list]:
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
    if (compiled.insert_prefetch or compiled.update_prefetch or compiled.postfetch or not compiled.positional
            or compiled.literal_execute_params or compiled.post_compile_params):
        return compiled.string, []
    processors = compiled._bind_processors
    fields: list[tuple[str | None, object, object]] = []
    for name in compiled.positiontup:
        proc = processors.get(name)
        if name in keys:
            fields.append((name, proc, None))
        else:  # a constant of the statement (status='processed', say)
            value = compiled.binds[name].effective_value
            fields.append((None, None, proc(value) if proc is not None else value))
    return compiled.string, fields
