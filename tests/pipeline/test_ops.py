"""Health, readiness and metrics."""

from __future__ import annotations

from fastapi.testclient import TestClient

from onevoice.app import create_app
from onevoice.runtime import build_runtime


def test_health_and_metrics(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["checks"] == {"database": "ok"}
    text = client.get("/metrics").text
    for name in ("onevoice_messages_accepted_total", "onevoice_messages_processed_total",
                 "onevoice_messages_failed_total", "onevoice_queue_depth", "onevoice_processing_latency_seconds"):
        assert name in text


def test_readyz_checks_redis_when_configured(settings, redis_url):
    good = settings.model_copy(update={"redis_url": redis_url})
    with TestClient(create_app(good, runtime=build_runtime(good), start_worker=False)) as c:
        assert c.get("/readyz").json()["checks"]["redis"] == "ok"


def test_readyz_fails_when_redis_is_unreachable(settings):
    bad = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    with TestClient(create_app(bad, runtime=build_runtime(bad), start_worker=False)) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["redis"].startswith("error")


def test_openapi_documents_the_api(client):
    paths = client.get("/openapi.json").json()["paths"]
    expected = {"/api/v1/messages", "/api/v1/messages/{message_id}", "/api/v1/cases", "/api/v1/cases/{case_id}"}
    assert expected <= set(paths)
    assert client.get("/docs").status_code == 200
