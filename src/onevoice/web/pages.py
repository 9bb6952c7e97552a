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

    @app.middleware("http")
    async def _security_headers(request: Request, call_next):
        response = await call_next(request)
        if _is_page(request) or request.url.path == "/":
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            if response.headers.get("content-type", "").startswith("text/html"):
                response.headers.setdefault("Cache-Control", "no-store")
        return response


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
