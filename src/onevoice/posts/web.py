"""Mount publishing into the app: the JSON API always, the Publish page when the app has pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse

HERE = Path(__file__).parent
STATIC = {"posts.css": "text/css", "posts.js": "text/javascript"}


def register(app: FastAPI) -> None:
    from onevoice.posts.api import router as api_router
    from onevoice.web.pages import add_pages

    app.include_router(api_router)
    if not add_pages(app, ("/posts",), HERE / "templates"):  # an API-only app
        return

    from onevoice.posts.views import router as pages_router

    app.include_router(pages_router, include_in_schema=False)

    @app.get("/posts/static/{name}", include_in_schema=False)
    def _static(name: str):
        if name not in STATIC:
            return HTMLResponse("not found", status_code=404)
        return FileResponse(HERE / "static" / name, media_type=STATIC[name])
