"""Sign in through the organization's OpenID Connect provider (when configured): /login/sso and its callback.

The state, nonce and the page to return to travel in a short-lived signed cookie, so any web node can
finish a sign-in another one started.
"""

from __future__ import annotations

import asyncio
import hmac

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer

from onevoice.auth import oidc, sessions
from onevoice.auth.users import active_user
from onevoice.db import unit_of_work
from onevoice.errors import NotFound
from onevoice.governance.login import login_page
from onevoice.process import Runtime
from onevoice.web.deps import get_runtime
from onevoice.web.session import safe_next, secret, secure_cookies, set_session_cookie

router = APIRouter()
COOKIE = "onevoice_sso"


def provider(runtime: Runtime, request: Request) -> oidc.Provider:
    s = runtime.settings
    if not (s.oidc_issuer and s.oidc_client_id and s.oidc_client_secret):
        raise NotFound("single sign-on is not configured")
    return oidc.Provider(s.oidc_issuer, s.oidc_client_id, s.oidc_client_secret.get_secret_value(),
                         s.oidc_redirect_url or str(request.url_for("sso_callback")))


STATE_SECONDS = 600  # a sign-in started longer ago than this is started again


def _seal(key: str, data: dict) -> str:
    return URLSafeTimedSerializer(key, salt="onevoice-sso").dumps(data)


def _open(key: str, value: str | None) -> dict | None:
    """The state sealed at the start of this sign-in; None when forged, altered or older than STATE_SECONDS."""
    if not value:
        return None
    try:
        data = URLSafeTimedSerializer(key, salt="onevoice-sso").loads(value, max_age=STATE_SECONDS)
    except BadSignature:  # SignatureExpired is one
        return None
    return data if isinstance(data, dict) else None


@router.get("/login/sso")
async def sso_start(request: Request, next: str = "/inbox", runtime: Runtime = Depends(get_runtime)):
    p = provider(runtime, request)
    url, state, nonce = await asyncio.to_thread(p.start)
    response = RedirectResponse(url, status_code=303)
    # SameSite=Lax: the provider's redirect back is a top-level GET, which carries it.
    response.set_cookie(COOKIE, _seal(secret(runtime), {"state": state, "nonce": nonce, "next": safe_next(next)}),
                        max_age=STATE_SECONDS, httponly=True, samesite="lax", secure=secure_cookies(request, runtime),
                        path="/login")
    return response


@router.get("/login/sso/callback", name="sso_callback")
async def sso_callback(request: Request, code: str = "", state: str = "", error: str = "",
                       runtime: Runtime = Depends(get_runtime)):
    pending = _open(secret(runtime), request.cookies.get(COOKIE))
    if error or not code or pending is None or not hmac.compare_digest(state, pending.get("state", "")):
        return login_page(request, runtime, "/inbox", "Single sign-on did not complete. Try again.", status=400)
    p = provider(runtime, request)
    try:
        claims = await asyncio.to_thread(p.finish, code, pending["nonce"])
        email = oidc.email_of(claims)
    except oidc.SsoFailed as exc:
        return login_page(request, runtime, pending["next"], str(exc), status=403)

    def sign_in():
        with unit_of_work(runtime.session_factory) as session:
            user = active_user(session, email)
            if user is None:
                return None
            return sessions.start_session(session, user, ip=request.client.host if request.client else None,
                                          user_agent=f"sso; {request.headers.get('user-agent', '')}")

    token = await asyncio.to_thread(sign_in)
    if token is None:
        return login_page(request, runtime, pending["next"],
                           f"No active OneVoice account for {email}. Ask an admin to create one.", status=403)
    response = RedirectResponse(pending["next"], status_code=303)
    set_session_cookie(request, response, runtime, token)
    response.delete_cookie(COOKIE, path="/login")
    return response
