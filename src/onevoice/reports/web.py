"""Mount the reports into the app: the JSON API always, the /reports pages when the app has pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse

HERE = Path(__file__).parent


def register(app: FastAPI) -> None:
    from onevoice.reports.api import router as api_router
    from onevoice.web.pages import add_pages

    app.include_router(api_router)
    if not add_pages(app, ("/reports",), HERE / "templates"):  # an API-only app
        return
    from onevoice.reports.views import router as pages_router

    app.include_router(pages_router, include_in_schema=False)

    @app.get("/reports/static/reports.css", include_in_schema=False)
    def _css():
        return FileResponse(HERE / "static" / "reports.css", media_type="text/css")
