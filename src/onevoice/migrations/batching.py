"""For migrations that rewrite rows of a table that grows with traffic (docs/operations.md, "Migrations and large
tables"): the rule, and the helper that follows it.

A migration that rewrites such a table says so in a module constant, `REWRITES_LARGE_TABLES = {"messages":
"why"}` (tests/privacy/test_migration_rules.py finds the ones that do without saying), and rewrites rows with
`update_in_batches`: keyset batches by id, so memory and each statement stay small whatever the table's size;
on PostgreSQL each batch commits on its own (an autocommit block), so web nodes still running the old code are
never blocked behind one long lock and an interrupted upgrade resumes where it stopped. On SQLite the upgrade
runs before the server starts (`onevoice serve` migrates first), so nothing waits on it.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext

from alembic import op
from sqlalchemy import text

log = logging.getLogger("alembic.runtime.migration")

# The tables whose size follows the organization's traffic.
LARGE_TABLES = frozenset({"messages", "events", "cases", "case_teams", "conversations", "contacts",
                          "contact_identities", "routing_decisions", "notifications", "outbox", "audit_log",
                          "inbound_failures", "triage_corrections", "surge_counts"})
BATCH_SIZE = 5000


def update_in_batches(table: str, set_sql: str, where_sql: str = "1 = 1", params: dict | None = None,
                      batch_size: int = BATCH_SIZE) -> int:
    """UPDATE table SET <set_sql> WHERE <where_sql>, batch_size rows at a time in id order; returns the rows
    changed. `where_sql` must stop matching a row once it is rewritten, or name a fixed set of rows."""
    bind = op.get_bind()
    autocommit = op.get_context().autocommit_block() if bind.dialect.name == "postgresql" else nullcontext()
    total, last = 0, 0
    with autocommit:
        while True:
            ids = [r[0] for r in bind.execute(text(
                f"SELECT id FROM {table} WHERE id > :_last AND ({where_sql}) ORDER BY id LIMIT :_n"),
                {**(params or {}), "_last": last, "_n": batch_size})]
            if not ids:
                break
            done = bind.execute(text(f"UPDATE {table} SET {set_sql} WHERE id >= :_lo AND id <= :_hi AND ({where_sql})"),
                                {**(params or {}), "_lo": ids[0], "_hi": ids[-1]})
            total += done.rowcount or 0
            last = ids[-1]
            log.info("%s: %d row(s) rewritten so far (up to id %d)", table, total, last)
    return total
