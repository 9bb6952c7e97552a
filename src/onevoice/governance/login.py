"""Sign in and sign out."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from onevoice.auth import sessions
from onevoice.auth.users import authenticate
from onevoice.db import unit_of_work
from onevoice.governance import people as admin
from onevoice.governance import signin
from onevoice.process import Runtime
from onevoice.web.deps import get_runtime
from onevoice.web.session import (
    PRE_CSRF_COOKIE,
    CsrfFailed,
    csrf_protect,
    load_viewer,
    new_pre_csrf,
    safe_next,
    secure_cookies,
    set_session_cookie,
)
from onevoice.web.templating import render

router = APIRouter()


def login_page(request: Request, runtime: Runtime, next_url: str, error: str | None = None, email: str = "",
                status: int = 200):
    token = new_pre_csrf()
    response = render(request, "login.html", {"next": safe_next(next_url), "error": error, "email": email,
                                              "login_csrf": token, "demo": runtime.settings.environment
                                              in ("development", "test"),
                                              "sso": runtime.settings.oidc_label if runtime.settings.oidc_issuer
                                              else None}, status_code=status)
    # Before sign-in there is no session to hold a CSRF token: a double-submit cookie stands in for it.
    response.set_cookie(PRE_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=secure_cookies(request, runtime))
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/inbox", runtime: Runtime = Depends(get_runtime)):
    if load_viewer(request, runtime) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return login_page(request, runtime, next)


@router.post("/login")
def login(request: Request, email: str = Form(""), password: str = Form(""), next: str = Form("/inbox"),
          csrf_token: str = Form(""), runtime: Runtime = Depends(get_runtime)):
    cookie = request.cookies.get(PRE_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, csrf_token):
        raise CsrfFailed()
    ip = request.client.host if request.client else None
    try:
        with unit_of_work(runtime.session_factory) as session:
            signin.check_allowed(session, email, ip)
            user = authenticate(session, email, password)
            if user is None:
                token = None
                signin.record_failure(session, email, ip)
            else:
                token = sessions.start_session(session, user, ip=ip, user_agent=request.headers.get("user-agent"))
    except signin.TooManyAttempts as exc:
        response = login_page(request, runtime, next, str(exc), email=email, status=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if token is None:
        return login_page(request, runtime, next, "That email and password do not match an active account.",
                           email=email, status=401)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(request, response, runtime, token)
    response.delete_cookie(PRE_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, runtime: Runtime = Depends(get_runtime), viewer=Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        admin.sign_out(session, viewer.principal, viewer.session_token,
                       request.client.host if request.client else None)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response
