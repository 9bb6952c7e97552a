"""Single sign-on with OpenID Connect (authorization code flow), through Authlib.

The provider is found by discovery (`<issuer>/.well-known/openid-configuration`); the code is exchanged
with Authlib's OAuth2 client; the id_token is verified with the provider's published keys (signature,
issuer, audience, expiry, nonce). A person signs in only if an active OneVoice user has the token's email
and the token says the provider verified it (`email_verified` true; no claim is a refusal): single sign-on
does not create accounts, an admin does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlencode

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from onevoice import egress
from onevoice.errors import Forbidden

TIMEOUT = 10
LEEWAY = 60
_discovery: dict[str, tuple[float, dict]] = {}


class SsoFailed(Forbidden):
    pass


@dataclass(frozen=True)
class Provider:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scope: str = "openid email profile"

    def metadata(self) -> dict:
        """The provider's discovery document (cached for an hour)."""
        cached = _discovery.get(self.issuer)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            with egress.session() as http:
                meta = http.get(url, timeout=TIMEOUT).json()
        except (requests.RequestException, ValueError) as exc:
            raise SsoFailed(f"the sign-in provider cannot be reached: {exc}") from None
        if meta.get("issuer", "").rstrip("/") != self.issuer.rstrip("/"):
            raise SsoFailed("the sign-in provider's discovery document names another issuer")
        _discovery[self.issuer] = (time.monotonic() + 3600, meta)
        return meta

    def start(self) -> tuple[str, str, str]:
        """(URL to send the browser to, state, nonce)."""
        state, nonce = generate_token(32), generate_token(32)
        query = {"response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
                 "scope": self.scope, "state": state, "nonce": nonce}
        return f"{self.metadata()['authorization_endpoint']}?{urlencode(query)}", state, nonce

    def finish(self, code: str, nonce: str) -> dict:
        """Exchange the code and return the verified id_token claims."""
        meta = self.metadata()
        # The endpoints come from the discovery document: through the outbound guard like any fetched URL.
        client = egress.mount(OAuth2Session(self.client_id, self.client_secret, redirect_uri=self.redirect_uri,
                                            token_endpoint_auth_method="client_secret_post"))
        try:
            token = client.fetch_token(meta["token_endpoint"], code=code, timeout=TIMEOUT)
            keys = KeySet.import_key_set(client.get(meta["jwks_uri"], timeout=TIMEOUT).json())
        except Exception as exc:  # noqa: BLE001 - any failure of the exchange is a failed sign-in
            raise SsoFailed(f"the sign-in provider refused the code: {exc}") from None
        id_token = token.get("id_token")
        if not id_token:
            raise SsoFailed("the sign-in provider returned no id_token")
        try:
            decoded = jwt.decode(id_token, keys, algorithms=["RS256", "ES256", "PS256"])
            JWTClaimsRegistry(leeway=LEEWAY, iss={"essential": True, "value": meta["issuer"]},
                              aud={"essential": True, "value": self.client_id},
                              sub={"essential": True}, exp={"essential": True},
                              nonce={"essential": True, "value": nonce}).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise SsoFailed(f"the sign-in token is not valid: {exc}") from None
        return decoded.claims


def email_of(claims: dict) -> str:
    """The token's email, only when the provider says it verified it (`email_verified` true).

    An account is found by its email, so an unverified one (or a provider that does not say) would let
    anyone who can put a colleague's address on their provider account sign in as that colleague. Some
    providers send the claim as the string "true"; anything else, or no claim at all, is refused.
    """
    email = (claims.get("email") or "").strip().lower()
    verified = claims.get("email_verified")
    if not email or not (verified is True or (isinstance(verified, str) and verified.lower() == "true")):
        raise SsoFailed("the sign-in provider did not give a verified email address")
    return email
