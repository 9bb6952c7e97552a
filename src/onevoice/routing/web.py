"""Mount routing into the app: JSON routes for playbooks and incidents, and their pages (inbox layout)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, FileSystemLoader

from onevoice.errors import DomainError

HERE = Path(__file__).parent
PAGES = ("/routing", "/incidents")


def register(app: FastAPI) -> None:
    from onevoice.routing.api import router as api_router

    app.include_router(api_router)
    templates = getattr(app.state, "templates", None)
    if templates is None:  # no pages in this app (API only)
        return
    templates.env.loader = ChoiceLoader([templates.env.loader, FileSystemLoader(str(HERE / "templates"))])

    from onevoice.routing.views import router as pages_router

    app.include_router(pages_router, include_in_schema=False)
    previous = app.exception_handlers.get(DomainError)

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError):
        # Pages answer a refusal or bad input with a page, the API keeps its JSON.
        if request.url.path.startswith(PAGES):
            from onevoice.web.templating import render

            if request.headers.get("hx-request"):
                return HTMLResponse(str(exc), status_code=exc.status_code)
            return render(request, "error.html", {"message": str(exc), "status": exc.status_code},
                          status_code=exc.status_code)
        return await previous(request, exc)
