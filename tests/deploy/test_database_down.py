"""While the database cannot be reached every route that needs it answers 503 with Retry-After (platforms and
clients send again), never a 500 and never a 2xx; the process itself stays healthy."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from fastapi.testclient import TestClient

from onevoice.app import create_app
from onevoice.settings import Settings
from tests.server import free_port


@pytest.fixture
def client_without_database(tmp_path):
    # Nothing listens on this port: exactly what a web node sees while PostgreSQL restarts.
    url = f"postgresql://onevoice@127.0.0.1:{free_port()}/onevoice"
    settings = Settings(environment="test", data_dir=tmp_path, database_url=url, log_json=False)
    with TestClient(create_app(settings, start_worker=False), raise_server_exceptions=False) as client:
        yield client


def _signed(body: bytes) -> dict:
    ts = str(int(time.time()))
    sig = hmac.new(b"a-webhook-secret-of-16+", f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-OneVoice-Timestamp": ts, "X-OneVoice-Signature": f"sha256={sig}",
            "Content-Type": "application/json"}


def test_webhook_delivery_gets_503_with_retry_after_not_500(client_without_database):
    body = b'{"external_id": "e1", "created_at": "2026-12-01T10:00:00Z", "text": "hello"}'
    r = client_without_database.post("/webhooks/any-channel", content=body, headers=_signed(body))
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "5"
    assert "send the same request again" in r.json()["detail"]
    assert "127.0.0.1" not in r.text, "the database's address is for the operator's log, not the caller"


def test_api_intake_and_reads_get_503(client_without_database):
    auth = {"Authorization": "Bearer ov_not-checked-while-the-database-is-down"}
    message = {"channel": "web", "external_id": "x1", "text": "hi", "created_at": "2026-12-01T10:00:00Z",
               "author": {"external_id": "a"}}
    assert client_without_database.post("/api/v1/messages", json=message, headers=auth).status_code == 503
    assert client_without_database.get("/api/v1/cases", headers=auth).status_code == 503


def test_a_page_gets_a_readable_503_page(client_without_database):
    r = client_without_database.get("/api/v1/cases", headers={"Accept": "text/html",
                                                              "Authorization": "Bearer ov_x"})
    assert r.status_code == 503 and r.headers["content-type"].startswith("text/html")
    assert "unavailable for a moment" in r.text


def test_liveness_stays_up_and_readiness_says_why(client_without_database):
    assert client_without_database.get("/healthz").status_code == 200
    ready = client_without_database.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("error")
