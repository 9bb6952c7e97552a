"""Mount publishing into the app: the JSON API always, the Publish page when the app has pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import ChoiceLoader, FileSystemLoader

from onevoice.errors import DomainError

HERE = Path(__file__).parent
PAGES = "/posts"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
STATIC = {"posts.css": "text/css", "posts.js": "text/javascript"}


def register(app: FastAPI) -> None:
    from onevoice.posts.api import router as api_router

    app.include_router(api_router)
    templates = getattr(app.state, "templates", None)
    if templates is None:  # an API-only app
        return
    templates.env.loader = ChoiceLoader([templates.env.loader, FileSystemLoader(str(HERE / "templates"))])

    from onevoice.posts.views import router as pages_router

    app.include_router(pages_router, include_in_schema=False)

    @app.get("/posts/static/{name}", include_in_schema=False)
    def _static(name: str):
        if name not in STATIC:
            return HTMLResponse("not found", status_code=404)
        return FileResponse(HERE / "static" / name, media_type=STATIC[name])

    previous = app.exception_handlers.get(DomainError)

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError):
        if request.url.path.startswith(PAGES):
            from onevoice.web.templating import render

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
