"""The signed-in person for pages: session cookie -> Viewer, sign-in redirects, and CSRF protection.

Every state-changing page request (form or htmx POST) must carry the session's CSRF token, as the form
field `csrf_token` or the `X-CSRF-Token` header (htmx sends the header, set once on <body>).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from onevoice.auth import sessions
from onevoice.auth.principal import Principal
from onevoice.auth.users import principal_for
from onevoice.process import Runtime
from onevoice.web.deps import get_runtime

PRE_CSRF_COOKIE = "onevoice_login_csrf"


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    csrf_token: str
    session_token: str
    unread: int = 0  # personal notifications not read yet: the top bar's badge

    @property
    def user_id(self) -> int | None:
        return self.principal.user_id


class LoginRequired(Exception):
    pass


class CsrfFailed(Exception):
    pass


def secret(runtime: Runtime) -> str:
    return runtime.settings.secret_key.get_secret_value()


def secure_cookies(request: Request, runtime: Runtime) -> bool:
    """Cookies only over TLS: when the request came over https (directly, or as a trusted proxy says in
    X-Forwarded-Proto), outside development and test, or whenever ONEVOICE_COOKIE_SECURE says so."""
    settings = runtime.settings
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return request.url.scheme == "https" or settings.environment not in ("development", "test")


def set_session_cookie(request: Request, response: Response, runtime: Runtime, token: str) -> None:
    response.set_cookie(sessions.COOKIE, sessions.cookie_value(secret(runtime), token), httponly=True,
                        samesite="lax", secure=secure_cookies(request, runtime),
                        max_age=int(sessions.LIFETIME.total_seconds()), path="/")


def _unread(request: Request):
    """The header's unread-notifications count. Notifications are the inbox's, a feature above this kernel:
    the composition root (app.py) registers the inbox's counter as `app.state.unread_count`."""
    return getattr(request.app.state, "unread_count", lambda _session, _user_id: 0)


def load_viewer(request: Request, runtime: Runtime) -> Viewer | None:
    if hasattr(request.state, "viewer"):
        return request.state.viewer
    viewer, resolved = None, None
    token = sessions.token_from_cookie(secret(runtime), request.cookies.get(sessions.COOKIE))
    if token:
        with runtime.read_factory() as session:
            resolved = sessions.resolve(session, token)
            if resolved is not None:
                viewer = Viewer(principal_for(session, resolved.user), resolved.csrf_token, token,
                                _unread(request)(session, resolved.user.id))
        if resolved is not None and resolved.stale:
            with runtime.session_factory.begin() as session:
                sessions.touch(session, resolved.session_id)
    request.state.viewer = viewer
    return viewer


def current_user(request: Request, runtime: Runtime = Depends(get_runtime)) -> Viewer:
    """The signed-in person, or a redirect to /login (pages) / 401 with HX-Redirect (htmx)."""
    viewer = load_viewer(request, runtime)
    if viewer is None:
        raise LoginRequired()
    return viewer


async def csrf_protect(request: Request, viewer: Viewer = Depends(current_user)) -> Viewer:
    """current_user, plus the CSRF check for requests that change something."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return viewer
    sent = request.headers.get("x-csrf-token")
    if not sent:
        form = await request.form()
        sent = str(form.get("csrf_token") or "")
    if not sent or not hmac.compare_digest(sent, viewer.csrf_token):
        raise CsrfFailed()
    return viewer


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = f"/login?next={quote(target, safe='')}"
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": url})
    if request.url.path.startswith("/live"):
        return Response(status_code=401)
    return RedirectResponse(url, status_code=303)


def new_pre_csrf() -> str:
    return secrets.token_urlsafe(24)


def safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after sign-in would hand the session page to an attacker.

    Browsers drop tabs and newlines from URLs (so "/<tab>/evil.example" is "//evil.example") and read a
    backslash as "/", so any control character or backslash is refused too."""
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)):
        return "/inbox"
    return target
