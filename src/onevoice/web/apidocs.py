"""The API's interactive docs at /docs (Swagger UI), served entirely from OneVoice.

FastAPI's own docs pages load Swagger UI's script and CSS from a public CDN, so on a machine without internet
(a normal self-hosted, air-gapped install) /docs stayed blank. The Swagger UI files come from the
`fastapi-offline` package (a dependency: Swagger UI 5, Apache-2.0, in its wheel), mounted at /docs/assets
next to our start-up script; the page itself has no inline script, so it is served under the pages' CSP.
ReDoc (/redoc) is turned off: it would need inline styles and blob: workers under that CSP, and Swagger UI
already lists every operation. There is no OAuth2 redirect page either: the API takes bearer tokens.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from onevoice.web.pages import CSP

OURS = Path(__file__).parent / "static" / "apidocs"
ASSETS = "/docs/assets"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="{assets}/favicon.png">
</head>
<body>
<div id="swagger-ui" data-openapi="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script>
</body>
</html>
"""


def register(app: FastAPI, docs_url: str = "/docs") -> None:
    """Serve the docs page and its assets (call with an app made with docs_url=None, redoc_url=None)."""
    # Files are looked up in our folder first (swagger-init.js), then in the package's (Swagger UI itself).
    app.mount(ASSETS, StaticFiles(directory=OURS, packages=[("fastapi_offline", "static")]), name="docs-assets")

    @app.get(docs_url, include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        html = PAGE.format(title=escape(f"{app.title} API"), assets=escape(root + ASSETS),
                           openapi=escape(root + (app.openapi_url or "/openapi.json")))
        return HTMLResponse(html, headers={"Content-Security-Policy": CSP, "X-Frame-Options": "DENY",
                                           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})
