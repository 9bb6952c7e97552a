"""Mount advocacy into the app: the JSON API, the pages (sharing the inbox's layout), the share links."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse

HERE = Path(__file__).parent
STATIC = {"advocacy.css": "text/css"}


def register(app: FastAPI) -> None:
    from onevoice.advocacy.api import router as api_router
    from onevoice.web.pages import add_pages

    app.include_router(api_router)
    if not add_pages(app, ("/advocates", "/advocacy", "/s/"), HERE / "templates"):  # an API-only app
        return

    from onevoice.advocacy.links import ClickLimiter
    from onevoice.advocacy.sharing_views import router as sharing_router
    from onevoice.advocacy.views import router as pages_router
    from onevoice.advocacy.voice_views import router as voice_router

    app.state.click_limiter = ClickLimiter()
    app.include_router(pages_router, include_in_schema=False)
    app.include_router(sharing_router, include_in_schema=False)
    app.include_router(voice_router, include_in_schema=False)

    @app.get("/advocacy/static/{name}", include_in_schema=False)
    def _static(name: str):
        if name not in STATIC:
            return HTMLResponse("not found", status_code=404)
        return FileResponse(HERE / "static" / name, media_type=STATIC[name])
