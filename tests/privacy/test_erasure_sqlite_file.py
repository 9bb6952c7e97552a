"""Below the tables: SQLite keeps a deleted row's words in the full-text index's older segments (and could in
free pages) unless erasure merges the index and overwrites what it frees."""

from __future__ import annotations

import os
import sqlite3

from onevoice.db import unit_of_work
from onevoice.privacy import erasure
from tests.privacy.test_erasure import zelda  # noqa: F401


def test_the_raw_sqlite_file_no_longer_holds_her_text(runtime, org, zelda, settings):  # noqa: F811
    """Below the tables: SQLite leaves deleted text in free pages and the WAL unless told otherwise."""
    path = settings.database_url.split("///", 1)[1]

    def file_bytes() -> bytes:
        runtime.engine.dispose()
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        return b"".join(open(p, "rb").read() for p in (path, path + "-wal") if os.path.exists(p)).lower()

    data = file_bytes()
    for word in ("zephyrblend", "marzipanova", "quibbleworth"):
        assert word.encode() in data, word  # there before: the check below can fail
    with unit_of_work(runtime.session_factory) as s:
        erasure.erase(s, org["ada"], zelda["contact_id"], reference="DSR-7")
    data = file_bytes()
    for word in ("zephyrblend", "marzipanova", "quibbleworth"):
        assert word.encode() not in data, word
