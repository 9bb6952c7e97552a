"""The learning loop through the API: correct messages -> train -> the running pipeline answers differently."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from onevoice.app import create_app
from onevoice.runtime import build_runtime
from onevoice.triage.service import train_model
from onevoice.worker.runner import EmbeddedWorker
from tests.factories import message, seed_org

pytestmark = pytest.mark.needs_public_data

# An in-house phrase no public data or seed example knows: only the organization can teach it.
PHRASE = "the quillon dock needs a frobnicator reseat"


def test_corrections_through_the_api_retrain_the_running_model(settings):
    runtime = build_runtime(settings)
    token = seed_org(runtime.session_factory)
    worker = EmbeddedWorker(runtime.processor, runtime.session_factory, runtime.broker.publish)
    with TestClient(create_app(settings, runtime=runtime, start_worker=False)) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        before = c.post("/api/v1/triage/classify", json={"text": PHRASE}).json()
        assert before["intent"] != "suggestion"
        ids = [a["id"] for a in c.post("/api/v1/messages", json={"messages": [
            message(text=f"{PHRASE} {i}", author=f"eng{i}") for i in range(3)]}).json()["accepted"]]
        worker.drain()
        for mid in ids:
            r = c.post(f"/api/v1/messages/{mid}/corrections", json={"field": "intent", "value": "suggestion"})
            assert r.status_code == 201 and r.json()["new_value"] == "suggestion"
        bad = c.post(f"/api/v1/messages/{ids[0]}/corrections", json={"field": "intent", "value": "gossip"})
        assert bad.status_code == 422
        with runtime.session_factory.begin() as session:
            report = train_model(session, settings.model_dir, limit=60, tolerance=1.0)
        assert report.activated
        runtime.processor.triager.check_every = 0  # the worker looks every 30 s; here at the next batch
        after = c.post("/api/v1/triage/classify", json={"text": PHRASE}).json()
        assert after["intent"] == "suggestion" and after["model_version"] == report.version
    runtime.dispose()
