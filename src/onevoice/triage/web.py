"""Mount triage's pages (the models page) into the app, after the inbox's pages (one layout)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI


def register(app: FastAPI) -> None:
    from onevoice.web.pages import add_pages

    if not add_pages(app, ("/triage",), Path(__file__).parent / "templates"):  # no pages in this app (API only)
        return

    from onevoice.triage.views import router as pages_router

    app.include_router(pages_router, include_in_schema=False)
