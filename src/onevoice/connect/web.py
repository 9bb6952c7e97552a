"""Mount the connect pages (under the governance pages' /governance prefix, sharing their layout)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from onevoice.connect.service import choices
from onevoice.connect.views import router
from onevoice.web import pages

HERE = Path(__file__).parent


def install(app: FastAPI) -> None:
    pages.add_pages(app, [router], ("/governance",), HERE / "templates")
    # The Accounts page (governance) shows "Connect a channel" and "Reconnect" only when this is installed.
    app.state.templates.env.globals["connectable"] = frozenset(c["kind"] for c in choices())
