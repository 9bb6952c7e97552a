"""Mount privacy into the app: the JSON API always, the pages (under /governance) when the app has pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

HERE = Path(__file__).parent


def register(app: FastAPI) -> None:
    from onevoice.privacy.api import router as api_router
    from onevoice.web.pages import add_pages

    app.include_router(api_router)
    if not add_pages(app, ("/governance",), HERE / "templates"):
        return
    from onevoice.privacy.views import pages

    app.include_router(pages, include_in_schema=False)
