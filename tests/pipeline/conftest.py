from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.factories import seed_org
from tests.scripted_triage import ScriptedTriager

from onevoice.app import create_app
from onevoice.pipeline.processor import Processor
from onevoice.pipeline.stages import build_router
from onevoice.runtime import build_runtime
from onevoice.worker.runner import EmbeddedWorker


@pytest.fixture
def runtime(settings):
    runtime = build_runtime(settings)
    runtime._processor = Processor(runtime.session_factory, ScriptedTriager(),
                                   build_router(settings, runtime.session_factory))
    yield runtime
    runtime.dispose()


@pytest.fixture
def token(runtime) -> str:
    return seed_org(runtime.session_factory)


@pytest.fixture
def client(runtime, token):
    app = create_app(runtime.settings, runtime=runtime, start_worker=False)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


@pytest.fixture
def drain(runtime):
    """Run the worker until nothing is left to process (deterministic, no background thread)."""
    worker = EmbeddedWorker(runtime.processor, runtime.session_factory, runtime.broker.publish)

    def run():
        worker.drain(timeout=60)

    return run
