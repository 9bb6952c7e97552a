"""Typed request parameters shared by the routes."""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le

# Row ids are 64-bit signed integers in both databases. A larger number in a URL or body would make SQLite's
# driver raise OverflowError (a 500); bounding the parameter answers 422 naming the parameter instead.
MAX_ROW_ID = 2**63 - 1

RowId = Annotated[int, Ge(1), Le(MAX_ROW_ID)]
# Keyset cursors are ids too, but 0 ("from the start") is a valid place to begin.
RowCursor = Annotated[int, Ge(0), Le(MAX_ROW_ID)]
