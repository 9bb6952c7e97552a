"""Single sign-on against a stand-in OpenID Connect provider served on localhost, which signs its id_tokens
with a test key: the happy path and the ways a sign-in must fail."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
from fastapi import FastAPI, Form, HTTPException
from fastapi.responses import RedirectResponse
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select

from onevoice.auth.models import UserSession
from onevoice.auth.users import create_user
from onevoice.db import unit_of_work, utcnow
from tests.factories import seed_org
from tests.server import ServerThread

pytestmark = pytest.mark.both_databases
CLIENT_ID, CLIENT_SECRET = "onevoice-test", "s3cret-for-tests"
MISSING = object()


class StandIn:
    """A tiny OpenID Connect provider: discovery, authorize (signs in `email` at once), token, keys."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
        self.email, self.nonce_override, self.sign_with = "sam@acme.test", None, None
        self.verified: object = True  # the email_verified claim; MISSING leaves it out
        self.codes: dict[str, dict] = {}
        self.app = FastAPI()
        self.server = ServerThread(self.app)
        self.issuer = self.server.url
        app = self.app

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                    "id_token_signing_alg_values_supported": ["RS256"]}

        @app.get("/authorize")
        def authorize(client_id: str, redirect_uri: str, state: str, nonce: str, response_type: str, scope: str):
            assert client_id == CLIENT_ID and response_type == "code" and "openid" in scope.split()
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"nonce": nonce, "redirect_uri": redirect_uri}
            return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=302)

        @app.post("/token")
        def token(grant_type: str = Form(...), code: str = Form(...), redirect_uri: str = Form(...),
                  client_id: str = Form(...), client_secret: str = Form(...)):
            issued = self.codes.pop(code, None)
            if issued is None or client_secret != CLIENT_SECRET or redirect_uri != issued["redirect_uri"]:
                raise HTTPException(400, "invalid_grant")
            now = int(utcnow().timestamp())
            claims = {"iss": self.issuer, "aud": client_id, "sub": "u-1", "email": self.email,
                      "email_verified": self.verified, "iat": now, "exp": now + 300,
                      "nonce": self.nonce_override or issued["nonce"]}
            if self.verified is MISSING:
                del claims["email_verified"]
            key = self.sign_with or self.key
            id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, key)
            return {"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": id_token}

        @app.get("/jwks")
        def jwks():
            return KeySet([self.key]).as_dict(private=False)


@pytest.fixture
def provider():
    stand_in = StandIn()
    with stand_in.server:
        yield stand_in


@pytest.fixture
def client(settings, provider):
    from onevoice.app import create_app
    from onevoice.runtime import build_runtime

    # The stand-in listens on loopback, which the outbound guard refuses unless the operator exempts it.
    sso = settings.model_copy(update={"oidc_issuer": provider.issuer, "oidc_client_id": CLIENT_ID,
                                      "oidc_client_secret": __import__("pydantic").SecretStr(CLIENT_SECRET),
                                      "outbound_allow_networks": "127.0.0.0/8"})
    runtime = build_runtime(sso)
    seed_org(runtime.session_factory, channels=())
    with unit_of_work(runtime.session_factory) as s:
        create_user(s, "sam@acme.test", "Sam", None, "responder", ["support"])  # no password: SSO only
        gone = create_user(s, "old@acme.test", "Old", None, "responder", ["support"])
        gone.active = False
    with TestClient(create_app(sso, runtime=runtime, start_worker=False)) as c:
        c.runtime = runtime
        yield c
    runtime.dispose()


def sso(client, next_url="/governance/policy"):
    r = client.get(f"/login/sso?next={next_url}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(client.runtime.settings.oidc_issuer)
    at_provider = httpx.get(r.headers["location"], follow_redirects=False)
    assert at_provider.status_code == 302
    return client.get(at_provider.headers["location"], follow_redirects=False)


def test_sign_in_through_the_provider(client):
    assert "Sign in with single sign-on" in client.get("/login").text
    r = sso(client)
    assert r.status_code == 303 and r.headers["location"] == "/governance/policy"
    assert client.get("/inbox").status_code == 200
    with client.runtime.session_factory() as s:
        assert s.scalar(select(UserSession.user_agent)).startswith("sso;")


def test_email_verified_sent_as_the_string_true_is_accepted(client, provider):
    provider.verified = "true"
    assert sso(client).status_code == 303


@pytest.mark.parametrize("attack", ["unknown email", "deactivated", "forged signature", "replayed nonce",
                                    "wrong state", "email not verified", "no email_verified claim",
                                    "email_verified is a word"])
def test_failed_sign_ins(client, provider, attack):
    if attack == "email not verified":
        provider.verified = False
    elif attack == "no email_verified claim":
        # A provider account that merely claims a colleague's address must not become that colleague.
        provider.verified = MISSING
    elif attack == "email_verified is a word":
        provider.verified = "yes"
    if attack == "unknown email":
        provider.email = "stranger@acme.test"
    elif attack == "deactivated":
        provider.email = "old@acme.test"
    elif attack == "forged signature":
        provider.sign_with = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
    elif attack == "replayed nonce":
        provider.nonce_override = "a-nonce-from-another-sign-in"
    if attack == "wrong state":
        r = client.get("/login/sso", follow_redirects=False)
        at_provider = httpx.get(r.headers["location"], follow_redirects=False)
        callback = urlparse(at_provider.headers["location"])
        code = parse_qs(callback.query)["code"][0]
        r = client.get(f"/login/sso/callback?code={code}&state=forged", follow_redirects=False)
        assert r.status_code == 400
    else:
        r = sso(client)
        assert r.status_code == 403, r.text
    assert client.get("/inbox", follow_redirects=False).status_code == 303  # still signed out


def test_without_configuration_there_is_no_sso(settings):
    from onevoice.app import create_app

    with TestClient(create_app(settings, start_worker=False)) as c:
        assert c.get("/login/sso", follow_redirects=False).status_code == 404
        assert "single sign-on" not in c.get("/login").text
