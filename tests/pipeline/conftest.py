from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.factories import seed_org
from tests.scripted_triage import scripted_runtime

from onevoice.app import create_app


@pytest.fixture
def runtime(settings):
    runtime = scripted_runtime(settings)
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
