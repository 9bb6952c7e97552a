from __future__ import annotations

import pytest

from onevoice.triage.triager import FastTriager

CATALOG = [
    {"key": "voltix-v3", "name": "Voltix V3", "aliases": ["V3 e-bike"]},
    {"key": "nimbus-docs", "name": "Nimbus Docs", "aliases": ["NimbusDocs"]},
    {"key": "oat-flat-white", "name": "Oat Flat White", "aliases": []},
]


@pytest.fixture(scope="session")
def triager() -> FastTriager:
    """The packaged model, loaded once for the whole session (it is pure: no state between calls)."""
    return FastTriager(catalog=CATALOG)
