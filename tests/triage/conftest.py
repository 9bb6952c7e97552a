from __future__ import annotations

import os

import pytest

from onevoice.triage.datasets import DEFAULT_DATA_DIR
from onevoice.triage.escalation import EscalatingTriager
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


@pytest.fixture(scope="module")
def pipeline_triager():
    """What the pipeline runs by default: the packaged model with escalation on (the judgment floors)."""
    return EscalatingTriager(FastTriager())


@pytest.fixture(autouse=True)
def _public_data(request):
    """Training and evaluation read ../shared/data; CI always has it beside the clone."""
    if request.node.get_closest_marker("needs_public_data") and not DEFAULT_DATA_DIR.is_dir():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"the public training data must be at {DEFAULT_DATA_DIR} in CI")
        pytest.skip(f"the public training data is not at {DEFAULT_DATA_DIR}")
