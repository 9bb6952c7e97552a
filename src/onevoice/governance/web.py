"""Mount governance into the app: JSON routes, pages (sharing the inbox's layout), the audit hook."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import ChoiceLoader, FileSystemLoader

from onevoice.errors import DomainError

HERE = Path(__file__).parent
PAGES = "/governance"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def register(app: FastAPI) -> None:
    from onevoice.governance.access_views import api as access_api
    from onevoice.governance.admin_views import api as admin_api
    from onevoice.governance.api import router as api_router
    from onevoice.governance.hooks import install

    runtime = app.state.runtime
    install(runtime.session_factory)
    app.include_router(api_router)
    app.include_router(admin_api)
    app.include_router(access_api)

    templates = getattr(app.state, "templates", None)
    if templates is None:  # no pages in this app (API only)
        return
    templates.env.loader = ChoiceLoader([templates.env.loader, FileSystemLoader(str(HERE / "templates"))])

    from onevoice.governance.access_views import pages as access_pages
    from onevoice.governance.admin_views import pages as admin_pages
    from onevoice.governance.views import router as pages_router

    app.include_router(pages_router, include_in_schema=False)
    app.include_router(admin_pages, include_in_schema=False)
    app.include_router(access_pages, include_in_schema=False)

    @app.get("/governance/static/governance.css", include_in_schema=False)
    def _css():
        return FileResponse(HERE / "static" / "governance.css", media_type="text/css")

    previous = app.exception_handlers.get(DomainError)

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError):
        if request.url.path.startswith(PAGES):
            from onevoice.web.templating import render

            if request.headers.get("hx-request"):
                return HTMLResponse(str(exc), status_code=exc.status_code)
            return render(request, "error.html", {"message": str(exc), "status": exc.status_code},
                          status_code=exc.status_code)
        return await previous(request, exc)

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        if request.url.path.startswith(PAGES):
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            response.headers.setdefault("Cache-Control", "no-store")
        return response
