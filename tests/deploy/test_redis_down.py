"""A web node that starts while Redis is down still stores and acknowledges what it is sent: Redis holds only
work in flight, and the workers' sweeper enqueues what the node could not (docs/operations.md)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from onevoice.app import create_app
from onevoice.messages.models import Message
from onevoice.runtime import build_runtime
from tests.factories import message, seed_org
from tests.server import free_port


def test_intake_is_acknowledged_when_redis_is_unreachable_from_the_first_request(settings):
    down = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    runtime = build_runtime(down)
    token = seed_org(runtime.session_factory)
    with TestClient(create_app(down, runtime=runtime), raise_server_exceptions=False) as client:
        r = client.post("/api/v1/messages", json=message(channel="mast", external_id="while-redis-is-down"),
                        headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 202, r.text
        again = client.post("/api/v1/messages", json=message(channel="mast", external_id="second"),
                            headers={"Authorization": f"Bearer {token}"})
        assert again.status_code == 202, again.text
    with runtime.session_factory() as s:
        stored = {m.external_id: m.status for m in s.scalars(select(Message))}
    assert stored == {"while-redis-is-down": "accepted", "second": "accepted"}, "stored, waiting for the sweeper"
    runtime.dispose()
