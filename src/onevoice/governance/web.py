"""Mount governance into the app: JSON routes, pages (sharing the inbox's layout), the audit hook."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse

HERE = Path(__file__).parent


def register(app: FastAPI) -> None:
    from onevoice.governance.access_views import api as access_api
    from onevoice.governance.admin_views import api as admin_api
    from onevoice.governance.api import router as api_router
    from onevoice.governance.hooks import install
    from onevoice.web.pages import add_pages

    runtime = app.state.runtime
    install(runtime.session_factory)
    app.include_router(api_router)
    app.include_router(admin_api)
    app.include_router(access_api)

    if not add_pages(app, ("/governance",), HERE / "templates"):  # no pages in this app (API only)
        return

    from onevoice.governance.access_views import pages as access_pages
    from onevoice.governance.admin_views import pages as admin_pages
    from onevoice.governance.views import router as pages_router

    app.include_router(pages_router, include_in_schema=False)
    app.include_router(admin_pages, include_in_schema=False)
    app.include_router(access_pages, include_in_schema=False)

    @app.get("/governance/static/governance.css", include_in_schema=False)
    def _css():
        return FileResponse(HERE / "static" / "governance.css", media_type="text/css")
