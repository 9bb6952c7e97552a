"""Health, readiness and metrics."""

from __future__ import annotations

from fastapi.testclient import TestClient

from onevoice.app import create_app
from onevoice.runtime import build_runtime


def test_health_and_metrics(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["checks"] == {"database": "ok"}
    text = client.get("/metrics").text  # the client's token has every scope
    for name in ("onevoice_messages_accepted_total", "onevoice_messages_processed_total",
                 "onevoice_messages_failed_total", "onevoice_queue_depth", "onevoice_processing_latency_seconds"):
        assert name in text


def test_metrics_need_a_token_with_the_metrics_scope_unless_made_public(runtime, token):
    """The attack: anyone who reaches the port reads the organization's volumes, failures and backlog."""
    from onevoice.auth.tokens import create_token
    from onevoice.db import unit_of_work

    with unit_of_work(runtime.session_factory) as s:
        narrow = create_token(s, "reader", scopes=["cases:read"])[1]
        scraper = create_token(s, "prometheus", scopes=["metrics:read"])[1]
    with TestClient(create_app(runtime.settings, runtime=runtime, start_worker=False)) as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers={"Authorization": f"Bearer {narrow}"}).status_code == 403
        ok = c.get("/metrics", headers={"Authorization": f"Bearer {scraper}"})
        assert ok.status_code == 200 and "onevoice_queue_depth" in ok.text
    runtime.settings = runtime.settings.model_copy(update={"metrics_public": True})
    with TestClient(create_app(runtime.settings, runtime=runtime, start_worker=False)) as c:
        assert c.get("/metrics").status_code == 200


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
