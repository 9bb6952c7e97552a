"""What every page shares (layout, static files, error pages, CSRF and sign-in redirects, security headers).

The web kernel imports no feature: each feature's pages are added by the composition root (app.py) with
`add_pages`, which joins the feature's own templates to the shared `base.html`."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import ChoiceLoader, FileSystemLoader

from onevoice.errors import DomainError
from onevoice.web.session import CsrfFailed, LoginRequired, login_redirect, safe_next
from onevoice.web.templating import make_templates, render

STATIC = Path(__file__).parent / "static"
# Pages only load what we serve ourselves; user text can never become script (and no CDN is needed).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def install(app: FastAPI) -> None:
    """The shared part of the pages: templates (base.html, error.html), /static, the root's files, the error
    pages and security headers for every path a feature claims with `add_pages`."""
    app.state.templates = make_templates()
    app.state.page_prefixes = ()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def home():
        return RedirectResponse("/inbox", status_code=303)

    # Browsers ask for these at the site's root on every page (no 404 in the console), and the manifest makes
    # OneVoice installable as an app on a phone or a desktop. Public: browsers fetch them without cookies.
    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return FileResponse(STATIC / "icons" / "favicon.ico", media_type="image/vnd.microsoft.icon",
                            headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/manifest.webmanifest", include_in_schema=False)
    def manifest():
        return FileResponse(STATIC / "manifest.webmanifest", media_type="application/manifest+json",
                            headers={"Cache-Control": "public, max-age=3600"})

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired):
        return login_redirect(request)

    @app.exception_handler(CsrfFailed)
    async def _csrf_failed(request: Request, _exc: CsrfFailed):
        message = "This form expired or did not come from OneVoice (a page open from before you signed in again)."
        if request.headers.get("hx-request"):
            return HTMLResponse(message + " Reload the page and try again.", status_code=403)
        # A page, not a bare line: what the person typed comes back to copy, since the form is gone.
        return render(request, "error.html", {"message": message + " Nothing was changed.", "status": 403,
                                              "typed": await typed_fields(request), "back": same_site_back(request)},
                      status_code=403)

    previous = app.exception_handlers.get(DomainError)

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError):
        # Pages get a readable message (htmx shows it in the toast); the JSON API keeps its JSON errors.
        if _is_page(request):
            if request.headers.get("hx-request"):
                return HTMLResponse(str(exc), status_code=exc.status_code)
            return render(request, "error.html", {"message": str(exc), "status": exc.status_code},
                          status_code=exc.status_code)
        return await previous(request, exc)

    app.add_middleware(SecurityHeaders, state=app.state)


class SecurityHeaders:
    """Pages' security headers (CSP, framing, sniffing, referrer; no-store for HTML), added as the response
    starts. A plain ASGI middleware: `@app.middleware("http")` wraps every request of every route, webhooks and
    the API included, in a task and two memory streams, which cost more than a webhook's own work."""

    def __init__(self, app, state) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if not (path == "/" or (path.startswith(self.state.page_prefixes) and not path.startswith("/api"))):
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = [(b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY"),
                         (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    extra.append((b"cache-control", b"no-store"))
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


def add_pages(app: FastAPI, routers, prefixes: tuple[str, ...], templates_dir: Path | None = None) -> None:
    """How a feature's pages join the app: its templates join the shared layout's loader, its paths get the
    error pages and security headers above, its routers stay out of the API document."""
    templates = app.state.templates
    if templates_dir is not None:
        templates.env.loader = ChoiceLoader([templates.env.loader, FileSystemLoader(str(templates_dir))])
    app.state.page_prefixes = app.state.page_prefixes + prefixes
    for router in routers:
        app.include_router(router, include_in_schema=False)


def _is_page(request: Request) -> bool:
    path = request.url.path
    return path.startswith(request.app.state.page_prefixes) and not path.startswith("/api")


# Never echoed back: secrets and the form's own plumbing.
NOT_ECHOED = ("password", "csrf", "secret", "token")


async def typed_fields(request: Request) -> list[tuple[str, str]]:
    """(field, value) of the non-empty text a refused form carried, for the person to copy back."""
    try:
        form = await request.form()
    except Exception:  # a body that is not a form: nothing to give back
        return []
    return [(k, str(v)) for k, v in form.multi_items()
            if isinstance(v, str) and v.strip() and not any(word in k.lower() for word in NOT_ECHOED)]


def same_site_back(request: Request) -> str:
    """The page the form was on, when it is one of ours (the Referer's path), else the inbox."""
    ref = urlsplit(request.headers.get("referer", ""))
    if ref.netloc and ref.netloc != request.url.netloc:
        return "/inbox"
    return safe_next(ref.path + (f"?{ref.query}" if ref.query else ""))
