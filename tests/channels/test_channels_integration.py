"""Channels wired to the product: config validated and encrypted, webhooks stored first, polling that
backs off and reports health. Platform HTTP is mocked only at the transport edge."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onevoice.app import create_app
from onevoice.channels.models import Channel, InboundFailure
from onevoice.channels.service import add_channel, connector_for
from onevoice.connectors.webhook.connector import sign
from onevoice.db import unit_of_work
from onevoice.errors import InvalidInput
from onevoice.events.models import Event
from onevoice.messages.models import Message
from onevoice.pipeline.poller import Poller
from onevoice.runtime import build_runtime
from tests.connectors.transport import Transport
from tests.factories import seed_org

pytestmark = pytest.mark.both_databases
SECRET = "s3cret-for-webhooks-123"


@pytest.fixture
def runtime(settings):
    runtime = build_runtime(settings)
    seed_org(runtime.session_factory)
    yield runtime
    runtime.dispose()


def _add(runtime, key, kind, config):
    with unit_of_work(runtime.session_factory) as s:
        add_channel(s, key, kind, config=config, secret_key=runtime.settings.secret_key.get_secret_value())


def test_config_is_validated_and_secrets_are_encrypted(runtime):
    with unit_of_work(runtime.session_factory) as s, pytest.raises(InvalidInput, match="secret"):
        add_channel(s, "hook", "webhook", config={})
    with unit_of_work(runtime.session_factory) as s, pytest.raises(InvalidInput, match="unknown channel kind"):
        add_channel(s, "hook", "myspace", config={})
    _add(runtime, "hook", "webhook", {"secret": SECRET})
    with runtime.session_factory() as s:
        channel = s.scalar(select(Channel).where(Channel.key == "hook"))
        assert "secret" not in channel.config and SECRET not in (channel.secrets or "")
        connector = connector_for(channel, runtime.settings.secret_key.get_secret_value())
        assert connector.settings.secret.get_secret_value() == SECRET


def _signed(body: bytes, ts: int | None = None) -> dict:
    ts = ts or int(time.time())
    return {"X-OneVoice-Timestamp": str(ts), "X-OneVoice-Signature": sign(SECRET, ts, body)}


def test_webhook_delivery_is_verified_stored_and_idempotent(runtime):
    _add(runtime, "hook", "webhook", {"secret": SECRET})
    body = json.dumps({"messages": [{"external_id": "e1", "kind": "mention", "text": "hello <b>there</b>",
                                     "author": {"external_id": "a1", "handle": "@a"},
                                     "created_at": "2026-11-20T10:00:00Z"}]}).encode()
    with TestClient(create_app(runtime.settings, runtime=runtime, start_worker=False)) as c:
        r = c.post("/webhooks/hook", content=body, headers=_signed(body))
        assert r.status_code == 200, r.text
        again = c.post("/webhooks/hook", content=body, headers=_signed(body))
        if runtime.journal is not None:  # SQLite: durable in the intake journal; the worker stores it
            assert (r.json()["duplicate"], again.json()["duplicate"]) == (False, True)
            assert again.json()["delivery"] == r.json()["delivery"]
            assert runtime.ingest() and runtime.ingest() == []
        else:
            assert [a["duplicate"] for a in r.json()["accepted"]] == [False]
            assert [a["duplicate"] for a in again.json()["accepted"]] == [True]
        forged = c.post("/webhooks/hook", content=body, headers={**_signed(body), "X-OneVoice-Signature": "sha256=00"})
        replay = _signed(body, ts=int(time.time()) - 3600)
        replayed = c.post("/webhooks/hook", content=body, headers=replay)
        # A stranger probing for channel keys learns nothing: an unknown key, a disabled channel and a bad
        # signature get the same answer, byte for byte.
        unknown = c.post("/webhooks/nope", content=body, headers=_signed(body))
        _add(runtime, "old", "webhook", {"secret": SECRET})
        with unit_of_work(runtime.session_factory) as s:
            s.scalar(select(Channel).where(Channel.key == "old")).enabled = False
        disabled = c.post("/webhooks/old", content=body, headers=_signed(body))
        answers = {(r.status_code, r.content) for r in (forged, replayed, unknown, disabled)}
        assert answers == {(401, b'{"detail":"webhook refused"}')}
        assert {c.get(f"/webhooks/{key}").status_code for key in ("hook", "nope", "old")} == {403}
        junk = b'{"messages": 12}'
        r = c.post("/webhooks/hook", content=junk, headers=_signed(junk))
        assert r.status_code == 200
        if runtime.journal is not None:
            runtime.ingest()
        else:
            assert r.json()["failed_delivery"]
        # Signed but not JSON at all (binary, truncated): refused with the reason, nothing kept.
        for bad in (b"\x00\xff\xfe binary", b'{"messages": [', "caf\u00e9".encode("latin-1")):
            r = c.post("/webhooks/hook", content=bad, headers=_signed(bad))
            assert r.status_code == 400 and "not valid JSON" in r.json()["detail"]
        giant = b'{"messages": "' + b"x" * 5_000_001 + b'"}'
        assert c.post("/webhooks/hook", content=giant, headers=_signed(giant)).status_code == 413
        if runtime.journal is not None:
            assert runtime.ingest() == []
    with runtime.session_factory() as s:
        assert s.scalar(select(Message.text).where(Message.external_id == "e1")) == "hello <b>there</b>"
        failure = s.scalar(select(InboundFailure))
        assert failure.body == junk.decode() and failure.error
        assert s.scalar(select(func.count()).select_from(InboundFailure)) == 1


def test_meta_verification_handshake(runtime):
    _add(runtime, "fb", "meta", {"app_secret": "a" * 32, "verify_token": "tok-123", "page_access_token": "EAAB",
                                 "page_id": "1234"})
    with TestClient(create_app(runtime.settings, runtime=runtime, start_worker=False)) as c:
        ok = c.get("/webhooks/fb", params={"hub.mode": "subscribe", "hub.verify_token": "tok-123",
                                           "hub.challenge": "1158201444"})
        assert ok.status_code == 200 and ok.text == "1158201444"
        wrong = c.get("/webhooks/fb", params={"hub.mode": "subscribe", "hub.verify_token": "wrong",
                                              "hub.challenge": "x"})
        unknown = c.get("/webhooks/fb2", params={"hub.mode": "subscribe", "hub.verify_token": "wrong",
                                                 "hub.challenge": "x"})
        assert (wrong.status_code, wrong.content) == (unknown.status_code, unknown.content) == (
            403, b'{"detail":"webhook refused"}')


def test_sandbox_channels_are_polled_with_a_cursor(runtime):
    _add(runtime, "sim", "sandbox", {"batch_size": 3, "seed": 5})
    with unit_of_work(runtime.session_factory) as s:  # only the channel under test
        for other in s.scalars(select(Channel).where(Channel.key != "sim")):
            other.enabled = False
    poller = Poller(runtime, clock=lambda: 0.0)
    assert poller.tick() == 3
    poller.next_at.clear()
    assert poller.tick() == 3
    with runtime.session_factory() as s:
        channel = s.scalar(select(Channel).where(Channel.key == "sim"))
        assert channel.poll_cursor == "2" and channel.health == "connected"
        assert len(s.scalars(select(Message.id).where(Message.channel_id == channel.id)).all()) == 6


X = {"user_id": "2244994945", "consumer_key": "ck", "consumer_secret": "cs", "access_token": "at",
     "access_token_secret": "ats"}


def test_rate_limit_waits_for_the_platform_and_expired_token_marks_health(runtime):
    _add(runtime, "xacct", "x", X)
    with unit_of_work(runtime.session_factory) as s:
        for other in s.scalars(select(Channel).where(Channel.key != "xacct")):
            other.enabled = False
    now = [1000.0]
    poller = Poller(runtime, clock=lambda: now[0])
    reset = int(time.time()) + 120
    with Transport("requests") as t:
        t.add("GET", r"https://api\.(twitter|x)\.com/2/users/2244994945/mentions.*", status=429,
              json={"title": "Too Many Requests", "status": 429},
              headers={"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"})
        assert poller.tick() == 0
    with runtime.session_factory() as s:
        channel_id = s.scalar(select(Channel.id).where(Channel.key == "xacct"))
    assert poller.next_at[channel_id] >= now[0] + 60, "waits until the platform's reset"
    now[0] = poller.next_at[channel_id] + 1
    with Transport("requests") as t:
        t.add("GET", r"https://api\.(twitter|x)\.com/2/users/2244994945/mentions.*", status=401,
              json={"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})
        assert poller.tick() == 0
    with runtime.session_factory() as s:
        channel = s.get(Channel, channel_id)
        assert channel.health == "revoked"
        alert = s.scalar(select(Event).where(Event.kind == "channel.revoked"))
        assert alert.data["channel"] == "xacct"


def test_the_lean_webhook_route_answers_as_the_documented_one(runtime):
    """Deliveries take the plain route matched first (pipeline/webhooks.lean_route); with it removed, FastAPI's
    route answers every case the same, byte for byte: a delivery, a retry, a bad signature, an unknown key,
    not JSON, too large."""
    _add(runtime, "hook", "webhook", {"secret": SECRET})
    body = json.dumps({"messages": [{"external_id": "lean-1", "kind": "mention", "text": "hi",
                                     "author": {"external_id": "a1"}, "created_at": "2026-11-20T10:00:00Z"}]}).encode()
    giant = b'{"messages": "' + b"x" * 5_000_001 + b'"}'
    cases = [("hook", body, _signed(body)), ("hook", body, _signed(body)),
             ("hook", body, {**_signed(body), "X-OneVoice-Signature": "sha256=00"}), ("nope", body, _signed(body)),
             ("hook", b"\x00 binary", _signed(b"\x00 binary")), ("hook", giant, _signed(giant))]
    answers = []
    for lean in (True, False):
        app = create_app(runtime.settings, runtime=runtime, start_worker=False)
        first = app.router.routes[0]
        assert (first.path, first.methods) == ("/webhooks/{key}", {"POST"})
        if not lean:
            app.router.routes.remove(first)
        with TestClient(app) as c:
            answers.append([(r.status_code, r.content, r.headers.get("content-type"))
                            for r in (c.post(f"/webhooks/{key}", content=b, headers=h) for key, b, h in cases)])
    lean_answers, documented = answers
    assert [a[0] for a in lean_answers] == [200, 200, 401, 401, 400, 413]
    if runtime.journal is None:  # stored in the request: the second is the retry of the first, either way
        lean_answers, documented = lean_answers[2:], documented[2:]
    else:  # journaled: the same delivery each time (the first app's answer is not new to the second)
        assert json.loads(lean_answers[0][1])["duplicate"] is False and json.loads(documented[0][1])["duplicate"]
        lean_answers, documented = lean_answers[1:], documented[1:]
    assert lean_answers == documented
