"""Mount the connect pages (under the governance pages' /governance prefix, sharing their layout)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

HERE = Path(__file__).parent


def register(app: FastAPI) -> None:
    from onevoice.web.pages import add_pages

    if not add_pages(app, ("/governance",), HERE / "templates"):  # an app without pages (API only)
        return
    from onevoice.connect.service import choices
    from onevoice.connect.views import router

    # The Accounts page (governance) shows "Connect a channel" and "Reconnect" only when this is installed.
    app.state.templates.env.globals["connectable"] = frozenset(c["kind"] for c in choices())

    app.include_router(router, include_in_schema=False)
