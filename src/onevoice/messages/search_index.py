"""SQLite's full-text index of messages (`messages_search`, FTS5; migrations 0002_inbox and 0031_search_by_batch).

A trigger indexes every message inserted, except those intake accepts: fired once per row of intake's executemany
it cost ~55 us more per message than one statement indexing the whole batch (FTS5 writes its pending terms out at
every statement's savepoint, so each row made a small segment of its own, merged again later; bench/README.md,
issue 14, round 9). Intake
indexes what it accepted with `index_accepted`, in the same transaction. PostgreSQL indexes an expression instead
(inbox.search.PG_SEARCH) and needs nothing here.
"""

from __future__ import annotations

import json

# What the index holds of the author: the same expression as the migrations' triggers.
AUTHOR = ("coalesce(json_extract(messages.author, '$.handle'), '') || ' ' || "
          "coalesce(json_extract(messages.author, '$.name'), '')")
INDEX_ACCEPTED = ("INSERT INTO messages_search(rowid, text, author) "
                  f"SELECT id, text, {AUTHOR} FROM messages WHERE id IN (SELECT value FROM json_each(?))")


def index_accepted(driver, ids: list[int]) -> None:
    """Index these messages, just inserted as accepted, in one statement (SQLite's DB-API connection `driver`)."""
    if ids:
        driver.execute(INDEX_ACCEPTED, (json.dumps(ids),))
