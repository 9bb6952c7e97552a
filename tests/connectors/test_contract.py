"""The shared contract every built-in connector passes (see CONVENTIONS rule 5).

Payloads are recorded fixtures shaped like each platform's documented ones; HTTP is mocked only at the
transport under the connector (and under its SDK).
"""

from __future__ import annotations

import inspect
import json
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr, TypeAdapter

from onevoice.connectors import registry
from onevoice.connectors.base import (
    ATTACHMENT_TYPES,
    MESSAGE_KINDS,
    AuthExpired,
    BaseConnector,
    Capability,
    ConnectorError,
    InboundMessage,
    PayloadError,
    RateLimited,
    SettingsError,
    SignatureError,
    WebhookRequest,
)

from .cases import BUILT_IN, CASES
from .cases.base import IMAGE, IMAGE_BYTES, NOW, Case, ErrorCase, fixture_bytes, fixture_json, key_of
from .transport import Transport

ALL = sorted(CASES)
WEBHOOK = [k for k in ALL if CASES[k].webhooks]
POLLING = [k for k in ALL if CASES[k].setup_poll]
HTTP = [k for k in ALL if CASES[k].call]
MESSAGE = TypeAdapter(InboundMessage)


def connector(case: Case, **overrides: Any) -> Any:
    return registry.build(case.kind, {**case.config, **overrides}, now=lambda: NOW)


def sub_dicts(value: Any) -> list[dict]:
    out: list[dict] = []
    if isinstance(value, dict):
        out.append(value)
        for v in value.values():
            out.extend(sub_dicts(v))
    elif isinstance(value, list):
        for v in value:
            out.extend(sub_dicts(v))
    return out


def assert_valid(msg: InboundMessage, sources: list[Any], raw_matches: Any = None) -> None:
    MESSAGE.validate_python(msg, strict=True)
    assert msg["kind"] in MESSAGE_KINDS
    assert msg["channel"] is None, "the caller fills channel"
    assert datetime.fromisoformat(msg["created_at"]).tzinfo is not None, "created_at must be aware"
    assert msg["external_id"] and isinstance(msg["external_id"], str)
    assert isinstance(msg["author"]["external_id"], str)
    json.dumps(msg)  # storable as JSON as is
    for a in msg.get("attachments", []):
        # Shown as links on the case page: only web links, of a known type.
        assert a["type"] in ATTACHMENT_TYPES and a["url"].startswith(("https://", "http://"))
    # The platform payload is kept verbatim: raw is one of the objects the platform sent.
    if raw_matches is not None:
        assert raw_matches(msg["raw"]), "raw is not the platform payload"
        return
    assert any(msg["raw"] == d for src in sources for d in sub_dicts(src)), "raw is not the platform payload"


def parse(case: Case, c: Any, req: WebhookRequest) -> list[InboundMessage]:
    """parse_webhook with the network closed except for the look-ups the case records."""
    with Transport(case.stack) as t:
        if case.setup_webhook:
            case.setup_webhook(t)
        return c.parse_webhook(req)


def signed(case: Case, body: bytes, at: datetime = NOW) -> WebhookRequest:
    assert case.sign is not None
    return WebhookRequest.build("POST", case.sign(body, at), body=body, received_at=NOW)


def test_every_built_in_is_registered_and_has_a_case() -> None:
    kinds = registry.kinds()
    for kind in CASES:
        assert kind in kinds
    assert set(CASES) <= set(BUILT_IN)


def test_unknown_kind_lists_known_kinds() -> None:
    with pytest.raises(SettingsError, match="known kinds: .*webhook"):
        registry.get("myspace")


# --- settings and capabilities ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL)
def test_settings_validate(kind: str) -> None:
    case = CASES[kind]
    cls = registry.get(kind)
    assert cls.kind == kind
    assert issubclass(cls.settings_model, BaseModel)
    settings = registry.validate(kind, case.config)
    assert isinstance(settings, cls.settings_model)
    with pytest.raises(SettingsError, match=f"invalid {kind} settings"):
        registry.build(kind, case.bad_config)
    # Secrets never show in a repr or a log line.
    for name, value in settings:
        if isinstance(value, SecretStr):
            assert value.get_secret_value() not in repr(settings), name


METHODS = {
    Capability.WEBHOOK: "parse_webhook",
    Capability.POLLING: "poll",
    Capability.REPLY: "reply",
    Capability.PUBLISH: "publish",
    Capability.DELETE: "delete",
}


@pytest.mark.parametrize("kind", ALL)
def test_capabilities_match_implemented_methods(kind: str) -> None:
    cls = registry.get(kind)
    assert all(isinstance(c, Capability) for c in cls.capabilities)
    for cap, method in METHODS.items():
        overridden = getattr(cls, method) is not getattr(BaseConnector, method)
        assert overridden == (cap in cls.capabilities), f"{kind}: {cap} vs {method}()"
    if Capability.WEBHOOK in cls.capabilities:
        assert cls.verify_webhook is not BaseConnector.verify_webhook
    if Capability.DIRECT_MESSAGE in cls.capabilities:
        assert Capability.REPLY in cls.capabilities
    c = connector(CASES[kind])
    for cap, method in METHODS.items():
        if cap not in cls.capabilities:
            with pytest.raises(NotImplementedError):
                args = [None] * (len(inspect.signature(getattr(c, method)).parameters))
                getattr(c, method)(*args)


# --- webhooks -----------------------------------------------------------------------------------------


def webhook_cases() -> list[tuple[str, str]]:
    return [(k, name) for k in WEBHOOK for name in CASES[k].webhooks]


@pytest.mark.parametrize(("kind", "fixture"), webhook_cases())
def test_fixture_parses_into_messages(kind: str, fixture: str) -> None:
    case = CASES[kind]
    body = fixture_bytes(case.platform, fixture)
    c = connector(case)
    req = signed(case, body)
    c.verify_webhook(req)
    msgs = parse(case, c, req)
    assert [key_of(m) for m in msgs] == [e.key() for e in case.webhooks[fixture]]
    for m in msgs:
        assert_valid(m, [json.loads(body)])


@pytest.mark.parametrize(("kind", "fixture"), webhook_cases())
def test_duplicate_and_late_deliveries_parse_identically(kind: str, fixture: str) -> None:
    """A retried delivery, minutes later, maps to the same ids so intake idempotency absorbs it."""
    case = CASES[kind]
    body = fixture_bytes(case.platform, fixture)
    c = connector(case)
    first = parse(case, c, signed(case, body))
    later = WebhookRequest.build("POST", case.sign(body, NOW), body=body, received_at=NOW + timedelta(seconds=5))
    assert parse(case, c, later) == first


@pytest.mark.parametrize("kind", WEBHOOK)
def test_out_of_order_deliveries_yield_the_same_messages(kind: str) -> None:
    case = CASES[kind]
    c = connector(case)
    names = list(case.webhooks)
    forward = [m for n in names for m in parse(case, c, signed(case, fixture_bytes(case.platform, n)))]
    backward = [m for n in reversed(names) for m in parse(case, c, signed(case, fixture_bytes(case.platform, n)))]

    def key(m: InboundMessage) -> str:
        return json.dumps(m, sort_keys=True)

    assert sorted(forward, key=key) == sorted(backward, key=key)


@pytest.mark.parametrize("kind", WEBHOOK)
def test_signature_mismatch_is_rejected(kind: str) -> None:
    case = CASES[kind]
    body = fixture_bytes(case.platform, next(iter(case.webhooks)))
    c = connector(case)
    good = signed(case, body)
    tampered = WebhookRequest.build("POST", dict(good.headers), body=body.replace(b"e", b"E", 1), received_at=NOW)
    with pytest.raises(SignatureError) as err:
        c.verify_webhook(tampered)
    assert err.value.permanent
    unsigned = WebhookRequest.build("POST", {}, body=body, received_at=NOW)
    with pytest.raises(SignatureError):
        c.verify_webhook(unsigned)
    if case.wrong_secret_config is not None:
        with pytest.raises(SignatureError):
            connector(case, **case.wrong_secret_config).verify_webhook(good)


@pytest.mark.parametrize("kind", [k for k in WEBHOOK if CASES[k].replay_window])
def test_replayed_webhook_is_rejected(kind: str) -> None:
    case = CASES[kind]
    window = case.replay_window
    assert window is not None
    body = fixture_bytes(case.platform, next(iter(case.webhooks)))
    c = connector(case)
    c.verify_webhook(signed(case, body, NOW - timedelta(seconds=window - 5)))
    with pytest.raises(SignatureError, match="replay"):
        c.verify_webhook(signed(case, body, NOW - timedelta(seconds=window + 5)))
    with pytest.raises(SignatureError, match="replay"):
        c.verify_webhook(signed(case, body, NOW + timedelta(seconds=window + 5)))


@pytest.mark.parametrize("kind", WEBHOOK)
def test_malformed_payload_raises_payload_error(kind: str) -> None:
    case = CASES[kind]
    c = connector(case)
    for body in [b"not json", b'{"truncated": ', *case.malformed]:
        with pytest.raises(PayloadError) as err:
            parse(case, c, signed(case, body))
        assert err.value.permanent
        assert str(err.value), "the error says what is wrong"


# --- polling ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", POLLING)
def test_poll_maps_recorded_responses(kind: str) -> None:
    case = CASES[kind]
    assert case.setup_poll is not None
    with case.servers() if case.servers else nullcontext({}) as overrides, Transport(case.stack) as t:
        case.setup_poll(t)
        msgs, cursor = connector(case, **overrides).poll(None)
    assert [key_of(m) for m in msgs] == [e.key() for e in case.poll_expect]
    assert isinstance(cursor, str) and cursor
    sources = [fixture_json(case.platform, f) for f in case.poll_fixtures]
    for m in msgs:
        assert_valid(m, sources, case.raw_matches)


# --- platform errors ----------------------------------------------------------------------------------


def failing(case: Case, error: Any) -> Exception:
    assert case.route is not None and case.call is not None
    with Transport(case.stack) as t:
        if case.prepare:
            case.prepare(t)
        t.add(case.route[0], case.route[1], error.status, json=error.json, headers=error.headers)
        with pytest.raises(ConnectorError) as err:
            case.call(connector(case))
    return err.value


@pytest.mark.parametrize("kind", [k for k in HTTP if CASES[k].rate_limited])
def test_rate_limit_is_transient_with_retry_after(kind: str) -> None:
    case = CASES[kind]
    err = failing(case, case.rate_limited)
    assert isinstance(err, RateLimited)
    assert not err.permanent
    assert err.retry_after == pytest.approx(case.rate_limited.retry_after, abs=1)


@pytest.mark.parametrize("kind", [k for k in HTTP if CASES[k].expired])
def test_expired_token_is_auth_expired(kind: str) -> None:
    case = CASES[kind]
    err = failing(case, case.expired)
    assert isinstance(err, AuthExpired)
    assert err.permanent


@pytest.mark.parametrize("kind", HTTP)
def test_platform_5xx_is_transient(kind: str) -> None:
    case = CASES[kind]
    err = failing(case, case.server_error)
    assert type(err) is ConnectorError
    assert not err.permanent


@pytest.mark.parametrize("kind", ALL)
def test_check_reports_health_shape(kind: str) -> None:
    case = CASES[kind]
    if case.call is not None:
        return  # HTTP connectors check health in their own tests, against recorded answers
    h = connector(case).check()
    assert set(h) == {"status", "detail", "expires_at"}
    assert h["status"] in {"connected", "failing", "expiring", "revoked"}


@pytest.mark.parametrize("kind", POLLING)
def test_repeated_poll_yields_identical_messages(kind: str) -> None:
    """A poll retried after a crash (same cursor) maps to the same ids, so intake stores each once."""
    case = CASES[kind]
    assert case.setup_poll is not None
    results = []
    for _ in range(2):
        with case.servers() if case.servers else nullcontext({}) as overrides, Transport(case.stack) as t:
            case.setup_poll(t)
            results.append(connector(case, **overrides).poll(None))
    assert results[0] == results[1]


def test_missing_settings_are_named_in_the_error() -> None:
    with pytest.raises(SettingsError) as err:
        registry.build("meta", {"app_secret": "x"})
    message = str(err.value)
    for key in ("verify_token", "page_access_token", "page_id"):
        assert key in message


# --- delete and media ---------------------------------------------------------------------------------

DELETE = [k for k in ALL if CASES[k].delete]
MEDIA = [k for k in ALL if CASES[k].media]


@pytest.mark.parametrize("kind", [k for k in ALL if k != "sandbox"])
def test_declared_delete_and_media_are_exercised(kind: str) -> None:
    """A capability a connector declares is one the suite runs against recorded platform answers."""
    caps = registry.get(kind).capabilities
    assert (Capability.DELETE in caps) == (CASES[kind].delete is not None)
    assert (Capability.MEDIA in caps) == (CASES[kind].media is not None)


def deleting(case: Case, answer: ErrorCase) -> list:
    assert case.delete is not None
    with Transport(case.stack) as t:
        if case.prepare:
            case.prepare(t)
        t.add(case.delete.route[0], case.delete.route[1], answer.status, json=answer.json, headers=answer.headers)
        try:
            connector(case).delete(case.delete.target)
        finally:
            calls = t.calls
    return calls


@pytest.mark.parametrize("kind", DELETE)
def test_delete_reaches_the_platform(kind: str) -> None:
    case = CASES[kind]
    assert case.delete is not None
    calls = deleting(case, case.delete.ok)
    method, _ = case.delete.route
    assert any(c.method == method and case.delete.target.split("/")[-1] in c.url + c.body.decode("utf-8", "replace")
               for c in calls), "delete names the target"


@pytest.mark.parametrize("kind", DELETE)
def test_delete_of_something_already_gone_succeeds(kind: str) -> None:
    case = CASES[kind]
    assert case.delete is not None
    deleting(case, case.delete.gone)  # no exception: the outcome the caller wanted is there


@pytest.mark.parametrize("kind", [k for k in DELETE if CASES[k].rate_limited])
def test_delete_rate_limited_is_transient(kind: str) -> None:
    case = CASES[kind]
    assert case.rate_limited is not None
    with pytest.raises(RateLimited) as err:
        deleting(case, case.rate_limited)
    assert not err.value.permanent
    assert err.value.retry_after == pytest.approx(case.rate_limited.retry_after, abs=1)


@pytest.mark.parametrize("kind", [k for k in DELETE if CASES[k].expired])
def test_delete_with_expired_token_is_auth_expired(kind: str) -> None:
    case = CASES[kind]
    assert case.expired is not None
    with pytest.raises(AuthExpired):
        deleting(case, case.expired)


@pytest.mark.parametrize("kind", DELETE)
def test_delete_on_platform_5xx_is_transient(kind: str) -> None:
    case = CASES[kind]
    with pytest.raises(ConnectorError) as err:
        deleting(case, case.server_error)
    assert not err.value.permanent


@pytest.mark.parametrize("kind", MEDIA)
def test_publish_with_media(kind: str) -> None:
    case = CASES[kind]
    assert case.media is not None
    with Transport("httpx") as web, (Transport(case.stack) if case.stack != "httpx" else nullcontext(web)) as t:
        # The image lives on the organization's own server; connectors that upload fetch it from there.
        web.add("GET", r"https://media\.acme\.example/.*", body=IMAGE_BYTES, headers={"Content-Type": "image/png"})
        if case.prepare:
            case.prepare(t)
        case.media.setup(t)
        result = connector(case).publish("Our spring kettle is here.", "post-media-1", [IMAGE])
        calls = t.calls
    assert result.external_id
    case.media.check(calls, result)


@pytest.mark.parametrize("kind", [k for k in MEDIA if not CASES[k].media.fetched_by_platform])
def test_media_that_cannot_be_fetched_is_a_clear_error(kind: str) -> None:
    case = CASES[kind]
    assert case.media is not None
    with Transport("httpx") as web, (Transport(case.stack) if case.stack != "httpx" else nullcontext(web)) as t:
        web.add("GET", r"https://media\.acme\.example/.*", 404, body=b"not found")
        if case.prepare:
            case.prepare(t)
        case.media.setup(t)
        c = connector(case)
        with pytest.raises(ConnectorError, match="media") as err:
            c.publish("Our spring kettle is here.", "post-media-2", [IMAGE])
    assert err.value.permanent
