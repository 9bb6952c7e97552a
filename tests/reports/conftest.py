from __future__ import annotations

import pytest

from onevoice.db import unit_of_work
from onevoice.pipeline.intake import accept_batch
from tests.governance.conftest import gov_app, org, runtime  # noqa: F401 - shared fixtures


@pytest.fixture
def pipeline(session_factory, settings, org):  # noqa: F811
    """Accept and process inbound messages through the real pipeline (scripted triage)."""
    from onevoice.pipeline.processor import Processor
    from onevoice.pipeline.stages import build_router
    from tests.scripted_triage import ScriptedTriager

    processor = Processor(session_factory, ScriptedTriager(), build_router(settings, session_factory))

    def send(*items: dict) -> list[int]:
        with unit_of_work(session_factory) as session:
            ids = accept_batch(session, list(items)).new_ids
        processor.process(ids)
        return ids

    return send
