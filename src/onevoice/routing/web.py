"""Mount routing into the app: JSON routes for playbooks and incidents, and their pages (inbox layout)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

HERE = Path(__file__).parent


def register(app: FastAPI) -> None:
    from onevoice.routing.api import router as api_router
    from onevoice.web.pages import add_pages

    app.include_router(api_router)
    if not add_pages(app, ("/routing", "/incidents"), HERE / "templates"):  # no pages in this app (API only)
        return

    from onevoice.routing.views import router as pages_router

    app.include_router(pages_router, include_in_schema=False)
