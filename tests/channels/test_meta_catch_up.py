"""Polling behind webhooks: a Meta channel receives webhooks and is also polled to catch up what a delivery
missed; what both paths saw is stored once. Graph HTTP is mocked at the transport only."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onevoice.app import create_app
from onevoice.channels.models import Channel
from onevoice.channels.service import add_channel
from onevoice.db import unit_of_work
from onevoice.messages.models import Message
from onevoice.pipeline.poller import CATCH_UP_INTERVAL, Poller
from onevoice.runtime import build_runtime
from tests.connectors.cases.base import fixture_bytes
from tests.connectors.cases.meta import CONFIG, MID, POST, setup_poll
from tests.connectors.transport import Transport
from tests.factories import seed_org

pytestmark = pytest.mark.both_databases
MARK = datetime(2025, 3, 13, 12, 0, tzinfo=UTC).timestamp()


@pytest.fixture
def runtime(settings):
    runtime = build_runtime(settings)
    seed_org(runtime.session_factory)
    with unit_of_work(runtime.session_factory) as s:
        for other in s.scalars(select(Channel)):
            other.enabled = False  # only the channel under test is polled
        add_channel(s, "fb", "meta", config=CONFIG, secret_key=runtime.settings.secret_key.get_secret_value())
    yield runtime
    runtime.dispose()


def test_meta_is_polled_behind_its_webhooks_and_duplicates_are_absorbed(runtime):
    delivery = json.loads(fixture_bytes("meta", "messenger.json"))
    # Delivered now (older deliveries fall outside Meta's replay window); the message keeps its own time.
    delivery["entry"][0]["time"] = int(time.time() * 1000)
    body = json.dumps(delivery).encode()
    signature = "sha256=" + hmac.new(CONFIG["app_secret"].encode(), body, hashlib.sha256).hexdigest()
    with TestClient(create_app(runtime.settings, runtime=runtime, start_worker=False)) as c:
        r = c.post("/webhooks/fb", content=body, headers={"X-Hub-Signature-256": signature})
        assert r.status_code == 200, r.text
    with unit_of_work(runtime.session_factory) as s:
        channel = s.scalar(select(Channel).where(Channel.key == "fb"))
        # Where the last catch-up ended (the fixtures are from 2025-03-14).
        channel.poll_cursor = json.dumps({"feed": MARK, "messenger": MARK, "instagram": MARK})
        channel_id = channel.id
    assert Poller._interval("meta") == CATCH_UP_INTERVAL
    poller = Poller(runtime, clock=lambda: 0.0)
    with Transport("httpx") as t:
        setup_poll(t)
        new = poller.tick()
        paths = [c.url.split("?")[0].rsplit("/", 2)[-2:] for c in t.calls]
    # Two comments, one Messenger and one Instagram message were missed; the webhook's message was not.
    assert new == 4
    assert [POST, "comments"] in paths and ["104873926541280", "conversations"] in paths
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Message).where(Message.external_id == MID)) == 1
        channel = s.get(Channel, channel_id)
        marks = json.loads(channel.poll_cursor)
        assert marks["feed"] == datetime(2025, 3, 14, 14, 58, 3, tzinfo=UTC).timestamp()
        assert marks["instagram"] == datetime(2025, 3, 14, 15, 3, 24, tzinfo=UTC).timestamp()
        assert channel.health == "connected"
        photo = s.scalar(select(Message).where(Message.external_id == "1029384756102938_1190022334455667"))
        assert photo.attachments[0]["type"] == "image" and photo.in_reply_to == "1029384756102938_893402716654321"
