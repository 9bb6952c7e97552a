from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from onevoice.app import create_app
from tests.factories import seed_org
from tests.scripted_triage import scripted_runtime
from tests.web.helpers import seed_people, sign_in


@pytest.fixture
def runtime(settings):
    runtime = scripted_runtime(settings)
    yield runtime
    runtime.dispose()


@pytest.fixture
def token(runtime) -> str:
    token = seed_org(runtime.session_factory)
    seed_people(runtime.session_factory)
    return token


@pytest.fixture
def app(runtime, token):
    return create_app(runtime.settings, runtime=runtime, start_worker=False)


@pytest.fixture
def api(app, token):
    """A program's client: the JSON API with a bearer token (to feed messages in)."""
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


@pytest.fixture
def browser_for(app):
    """A signed-in person's client (cookies, no token): browser_for('sam@acme.test')."""
    clients = []

    def make(email: str) -> TestClient:
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        r = sign_in(client, email)
        assert r.status_code == 303, r.text
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def post(api, drain):
    """Accept messages through the API and process them; returns the case id of each."""

    def run(*items):
        r = api.post("/api/v1/messages", json={"messages": list(items)})
        assert r.status_code == 202 and not r.json()["rejected"], r.text
        ids = [a["id"] for a in r.json()["accepted"]]
        drain()
        return [api.get(f"/api/v1/messages/{i}").json()["case_id"] for i in ids]

    return run
