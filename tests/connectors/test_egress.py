"""The outbound guard, attacked the way a poster would: a post's media URL that points inside our network.

A real server on 127.0.0.1 plays the internal service holding a secret. Name resolution is replaced at the
edge (a fake resolver), and "public" addresses are rewired by a fake network to that same local server, so
the redirects and the rebinding below run over real sockets without leaving the machine.
"""

from __future__ import annotations

import asyncio

import httpcore
import httpx
import pytest
import requests
from fastapi import FastAPI
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from onevoice import egress
from onevoice.connectors.base import ConnectorError, Media
from onevoice.connectors.media import fetch
from tests.server import ServerThread

PUBLIC, PUBLIC_2 = "93.184.216.34", "93.184.216.35"


class Internal:
    """An internal service: /secret.png must never be fetched; /go redirects where it is told."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        app = FastAPI()

        @app.get("/secret.png")
        def secret():
            self.hits.append("/secret.png")
            return Response(b"INTERNAL SECRET", media_type="image/png")

        @app.get("/image.png")
        def image():
            self.hits.append("/image.png")
            return Response(b"\x89PNG public", media_type="image/png")

        @app.get("/go")
        def go(to: str):
            self.hits.append("/go")
            return RedirectResponse(to, status_code=302)

        @app.get("/drip")
        async def drip():
            async def slowly():
                for _ in range(40):
                    yield b"x" * 10
                    await asyncio.sleep(0.05)
            return StreamingResponse(slowly(), media_type="image/png")

        self.server = ServerThread(app)
        self.port = self.server.port


@pytest.fixture(scope="module")
def internal():
    service = Internal()
    with service.server:
        yield service


@pytest.fixture(autouse=True)
def _fresh_hits(internal):
    internal.hits.clear()


class FakeDNS:
    """Name resolution at the edge: names -> answers (a list per call, so a name can change its answer)."""

    def __init__(self, answers: dict[str, list[list[str]] | list[str]]) -> None:
        self.answers = {k: (v if v and isinstance(v[0], list) else [v]) for k, v in answers.items()}
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        seq = self.answers[host]
        return seq[min(len(self.asked_for(host)) - 1, len(seq) - 1)]

    def asked_for(self, host: str) -> list[str]:
        return [h for h in self.asked if h == host]


class Network(httpcore.NetworkBackend):
    """Real sockets, but the pretend public addresses lead to the local server. Records every connect."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connects: list[str] = []
        self.real = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.connects.append(host)
        if host in (PUBLIC, PUBLIC_2):
            host, port = "127.0.0.1", self.port
        return self.real.connect_tcp(host, port, timeout=timeout, local_address=local_address,
                                     socket_options=socket_options)


def guarded(internal, dns: FakeDNS | None = None, **policy) -> tuple[httpx.Client, Network]:
    network = Network(internal.port)
    resolver = dns or FakeDNS({})
    return egress.client(policy=egress.Policy(resolver=resolver, **policy), network=network), network


LOOPBACK_FORMS = ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "2130706433", "0x7f.0.0.1", "127.1", "0x7f000001"]


@pytest.mark.parametrize("host", LOOPBACK_FORMS)
def test_media_on_loopback_is_refused_in_every_notation(internal, host):
    """The attack: a post whose image is http://<this machine>/secret.png would publish the secret."""
    with pytest.raises(ConnectorError, match="not a public address") as err:
        fetch(Media(f"http://{host}:{internal.port}/secret.png"))
    assert err.value.permanent
    assert internal.hits == []


def test_octal_dotted_quad_is_refused(internal):
    # httpx will not parse 0177.0.0.1; the system resolver reads it as 127.0.0.1 (requests passes it on).
    with pytest.raises(ConnectorError) as err:
        fetch(Media(f"http://0177.0.0.1:{internal.port}/secret.png"))
    assert err.value.permanent
    with pytest.raises(requests.ConnectionError, match="not a public address"), egress.session() as http:
        http.get(f"http://0177.0.0.1:{internal.port}/secret.png", timeout=5)
    assert internal.hits == []


@pytest.mark.parametrize("host", ["10.0.0.7", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
                                  "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "[fe80::1]", "[fc00::1]",
                                  "[::]", "[ff02::1]", "[64:ff9b::a9fe:a9fe]", "[2002:a9fe:a9fe::1]",
                                  "[::ffff:169.254.169.254]", "[fec0::1]"])
def test_private_link_local_and_reserved_addresses_are_refused_before_connecting(internal, host):
    http, network = guarded(internal)
    with pytest.raises(ConnectorError, match="not a public address") as err:
        fetch(Media(f"http://{host}/latest/meta-data/"), http=http)
    assert err.value.permanent and network.connects == []


def test_a_name_resolving_to_a_private_address_is_refused(internal):
    dns = FakeDNS({"assets.acme.example": ["10.0.0.7"], "mixed.acme.example": [PUBLIC, "169.254.169.254"]})
    http, network = guarded(internal, dns)
    with pytest.raises(ConnectorError, match=r"resolves to 10\.0\.0\.7, which is not a public address"):
        fetch(Media("http://assets.acme.example/a.png"), http=http)
    # One bad record is enough: the connection could go to either.
    with pytest.raises(ConnectorError, match="169.254.169.254"):
        fetch(Media("http://mixed.acme.example/a.png"), http=http)
    assert network.connects == [] and internal.hits == []


def test_a_redirect_from_a_public_name_to_a_private_address_is_refused(internal):
    dns = FakeDNS({"cdn.public.example": [PUBLIC], "intranet.corp.example": ["127.0.0.1"]})
    http, network = guarded(internal, dns)
    for target in (f"http://127.0.0.1:{internal.port}/secret.png",
                   f"http://intranet.corp.example:{internal.port}/secret.png"):
        with pytest.raises(ConnectorError, match="not a public address") as err:
            fetch(Media(f"http://cdn.public.example/go?to={target}"), http=http)
        assert err.value.permanent
    assert internal.hits == ["/go", "/go"] and set(network.connects) == {PUBLIC}


def test_a_public_redirect_still_works_and_connects_to_the_checked_address(internal):
    # The name answers a public address first and the internal one afterwards (DNS rebinding): the
    # connection goes to the address that was checked, and the name is resolved once per connection.
    dns = FakeDNS({"cdn.public.example": [[PUBLIC], ["127.0.0.1"]], "img.public.example": [PUBLIC_2]})
    http, network = guarded(internal, dns)
    got = fetch(Media("http://cdn.public.example/go?to=http://img.public.example/image.png"), http=http)
    assert got.data == b"\x89PNG public" and got.mime == "image/png"
    assert network.connects == [PUBLIC, PUBLIC_2] and dns.asked == ["cdn.public.example", "img.public.example"]
    assert internal.hits == ["/go", "/image.png"]


def test_the_organizations_media_hosts_are_the_only_ones_fetched_on_every_hop(internal):
    dns = FakeDNS({"media.acme.example": [PUBLIC], "elsewhere.example": [PUBLIC_2]})
    http, network = guarded(internal, dns)
    policy = egress.Policy(resolver=dns, media_hosts=("media.acme.example",))
    allowed = egress.client(policy=policy, hosts=policy.media_hosts, network=network)
    assert fetch(Media("http://media.acme.example/image.png"), http=allowed).data == b"\x89PNG public"
    with pytest.raises(ConnectorError, match="not one of the allowed hosts") as err:
        fetch(Media("http://elsewhere.example/image.png"), http=allowed)
    assert err.value.permanent
    with pytest.raises(ConnectorError, match="elsewhere.example is not one of the allowed hosts"):
        fetch(Media("http://media.acme.example/go?to=http://elsewhere.example/image.png"), http=allowed)
    assert network.connects == [PUBLIC]  # one pooled connection to the allowed host, none elsewhere
    assert egress.host_allowed("cdn.media.acme.example", ["*.acme.example"])
    assert not egress.host_allowed("acme.example.evil.test", [".acme.example"])


def test_size_and_time_are_bounded(internal):
    dns = FakeDNS({"cdn.public.example": [PUBLIC]})
    with pytest.raises(ConnectorError, match="larger than 10 bytes") as err:
        fetch(Media("http://cdn.public.example/image.png"), max_bytes=10, http=guarded(internal, dns)[0])
    assert err.value.permanent
    slow = egress.client(policy=egress.Policy(resolver=dns), network=Network(internal.port), deadline=0.5)
    with pytest.raises(ConnectorError, match="longer than"):
        fetch(Media("http://cdn.public.example/drip"), http=slow)


def test_the_default_client_and_the_settings_policy(internal):
    """Without an exemption, the process's policy refuses loopback; ONEVOICE_OUTBOUND_ALLOW_NETWORKS exempts it.

    The demo's sandbox channels fetch nothing, so the demo needs no exemption; tests with a stand-in server
    on this machine (the single sign-on provider in tests/auth/test_sso.py) do, and so would a development
    setup with a local receiver: that is what the setting is for, and it is off unless set.
    """
    from onevoice.runtime import configure_egress
    from onevoice.settings import Settings

    url = f"http://127.0.0.1:{internal.port}/image.png"
    with pytest.raises(ConnectorError, match="not a public address"):
        fetch(Media(url))
    configure_egress(Settings(outbound_allow_networks="127.0.0.0/8"))
    assert fetch(Media(url)).data == b"\x89PNG public"
    with egress.session() as http:
        assert http.get(url, timeout=5).content == b"\x89PNG public"
    with pytest.raises(ValueError, match="not an IP address or network"):
        Settings(outbound_allow_networks="10.0.0.0/8, intranet")


def test_requests_sessions_are_guarded_too(internal):
    """The SDKs built on requests (Mastodon.py, tweepy, praw, Authlib) get the same guard."""
    dns = FakeDNS({"mastodon.acme.example": ["192.168.1.20"]})
    for url in (f"http://127.0.0.1:{internal.port}/secret.png", f"http://[::1]:{internal.port}/secret.png",
                f"http://2130706433:{internal.port}/secret.png", "http://mastodon.acme.example/api/v1/instance"):
        with pytest.raises(requests.ConnectionError, match="not a public address"), \
                egress.session(policy=egress.Policy(resolver=dns)) as http:
            http.get(url, timeout=5)
    # A redirect from the (exempted, for this test) loopback service to the metadata address: refused at the hop.
    exempt = egress.Policy(allow_networks=egress.parse_networks("127.0.0.0/8"))
    with pytest.raises(requests.ConnectionError, match="169.254.169.254"), egress.session(policy=exempt) as http:
        http.get(f"http://127.0.0.1:{internal.port}/go?to=http://169.254.169.254/latest/meta-data/", timeout=5)
    assert internal.hits == ["/go"]


def test_escalation_webhook_and_outbound_webhook_channel_refuse_internal_receivers(internal):
    from onevoice.connectors.webhook.connector import WebhookConnector
    from onevoice.governance.jobs import send_webhook

    url = f"http://127.0.0.1:{internal.port}/secret.png"
    assert send_webhook(url, "s3cret", [{"approval_id": 1}]) is False
    channel = WebhookConnector({"secret": "x" * 16, "outbound_url": "http://169.254.169.254/hook"})
    with pytest.raises(ConnectorError, match="not a public address") as err:
        channel.publish("hello", "key-1")
    assert err.value.permanent
    assert internal.hits == []


def test_sign_in_provider_on_an_internal_address_is_refused(internal):
    from onevoice.auth.oidc import Provider, SsoFailed

    provider = Provider(f"http://127.0.0.1:{internal.port}", "client", "secret", "http://localhost/cb")
    with pytest.raises(SsoFailed, match="not a public address"):
        provider.metadata()
