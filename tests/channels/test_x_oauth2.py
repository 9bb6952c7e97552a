"""X channels connected by signing in (OAuth 2.0): calls carry the user token as Bearer, the token is renewed
before it expires, and the rotated refresh token is stored with the channel whatever the poll's outcome."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from onevoice.channels.models import Channel
from onevoice.channels.service import add_channel, channel_config
from onevoice.connectors import registry
from onevoice.connectors.base import AuthExpired
from onevoice.db import unit_of_work
from onevoice.pipeline.poller import Poller
from onevoice.runtime import build_runtime
from tests.connectors.cases.base import fixture_json
from tests.connectors.cases.x import MENTIONS
from tests.connectors.transport import Transport
from tests.factories import seed_org

TOKEN_URL = r"https://api\.x\.com/2/oauth2/token"
OAUTH2 = {"user_id": "1460112890912342016", "username": "AcmeHome", "client_id": "rG9n6402A3dbUJKzXTNX4oWHJ",
          "oauth2_access_token": "old-access-VGNibzFWSWREZm01bjN1N3dicWlN",
          "oauth2_refresh_token": "old-refresh-bWRWa3gzdnk3WHRGU1o0bmRR"}
RENEWED = {"token_type": "bearer", "expires_in": 7200, "access_token": "new-access-ZW1wbG95ZWUgb2YgdGhlIG1vbnRo",
           "scope": "tweet.read users.read tweet.write offline.access", "refresh_token": "new-refresh-Y2hhbmdlZA"}


def build(expires_at: int):
    return registry.build("x", {**OAUTH2, "oauth2_expires_at": expires_at})


def test_a_fresh_token_is_used_as_bearer_without_renewing():
    with Transport("requests") as sdk, Transport("httpx") as web:
        sdk.add("GET", MENTIONS, json=fixture_json("x", "mentions.json"))
        connector = build(int(time.time()) + 3600)
        messages, _ = connector.poll(None)
    assert messages and web.calls == [] and connector.renewed is None
    assert sdk.calls[0].headers["Authorization"] == f"Bearer {OAUTH2['oauth2_access_token']}"


def test_an_expiring_token_is_renewed_first_and_the_new_one_used():
    with Transport("requests") as sdk, Transport("httpx") as web:
        web.add("POST", TOKEN_URL, json=RENEWED)
        sdk.add("GET", MENTIONS, json=fixture_json("x", "mentions.json"))
        connector = build(int(time.time()) + 30)  # within the two minutes before expiry
        connector.poll(None)
    sent = parse_qs(web.calls[0].body.decode())
    assert sent == {"grant_type": ["refresh_token"], "client_id": [OAUTH2["client_id"]],
                    "refresh_token": [OAUTH2["oauth2_refresh_token"]]}
    assert sdk.calls[0].headers["Authorization"] == f"Bearer {RENEWED['access_token']}"
    assert connector.renewed["oauth2_refresh_token"] == RENEWED["refresh_token"]
    assert connector.renewed["oauth2_expires_at"] >= int(time.time()) + 7000


def test_a_refused_renewal_is_an_expired_token():
    with Transport("httpx") as web:
        web.add("POST", TOKEN_URL, status=400, json={"error": "invalid_request",
                                                     "error_description": "Value passed for the token was invalid."})
        with pytest.raises(AuthExpired, match="Value passed for the token was invalid"):
            build(int(datetime.now(UTC).timestamp()) - 10).poll(None)


@pytest.fixture
def runtime(settings):
    runtime = build_runtime(settings)
    seed_org(runtime.session_factory, channels=())
    yield runtime
    runtime.dispose()


@pytest.mark.both_databases
def test_the_poller_stores_the_rotated_token_even_when_the_poll_then_fails(runtime):
    key = runtime.settings.secret_key.get_secret_value()
    with unit_of_work(runtime.session_factory) as s:
        add_channel(s, "x-oauth", "x", config={**OAUTH2, "oauth2_expires_at": int(time.time()) - 5}, secret_key=key)
    with Transport("requests") as sdk, Transport("httpx") as web:
        web.add("POST", TOKEN_URL, json=RENEWED)
        sdk.add("GET", MENTIONS, status=503, json={"title": "Service Unavailable", "status": 503})
        assert Poller(runtime, clock=lambda: 0.0).tick() == 0
    with runtime.session_factory() as s:
        channel = s.scalar(select(Channel).where(Channel.key == "x-oauth"))
        stored = channel_config(channel, key)
        assert channel.health == "failing"  # the poll failed...
        assert stored["oauth2_refresh_token"] == RENEWED["refresh_token"]  # ...but the new token is kept
        assert stored["oauth2_access_token"] == RENEWED["access_token"]
        assert RENEWED["refresh_token"] not in (channel.secrets or "")
    # the next poll uses what was stored, without renewing again
    with Transport("requests") as sdk, Transport("httpx") as web:
        sdk.add("GET", MENTIONS, json=fixture_json("x", "mentions.json"))
        assert Poller(runtime, clock=lambda: 0.0).tick() > 0
    assert web.calls == [] and sdk.calls[0].headers["Authorization"] == f"Bearer {RENEWED['access_token']}"


def test_the_test_button_stores_a_renewed_token_too(runtime):
    from onevoice.channels.service import test_channel

    key = runtime.settings.secret_key.get_secret_value()
    with unit_of_work(runtime.session_factory) as s:
        add_channel(s, "x-oauth", "x", config={**OAUTH2, "oauth2_expires_at": int(time.time()) - 5}, secret_key=key)
    with Transport("requests") as sdk, Transport("httpx") as web, unit_of_work(runtime.session_factory) as s:
        web.add("POST", TOKEN_URL, json=RENEWED)
        sdk.add("GET", r"https://api\.(twitter|x)\.com/2/users/me", json=fixture_json("x", "users_me.json"))
        assert test_channel(s, "x-oauth", key)["status"] == "connected"
    with runtime.session_factory() as s:
        stored = channel_config(s.scalar(select(Channel).where(Channel.key == "x-oauth")), key)
    assert stored["oauth2_refresh_token"] == RENEWED["refresh_token"]
