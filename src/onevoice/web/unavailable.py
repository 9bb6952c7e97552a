"""The answer while the database cannot be reached: 503 with Retry-After, never a 500 and never a 200.

A platform that gets a 5xx delivers the webhook again later, and so does a well-behaved API client; a 500
says "our bug" to the operator and to the platform alike, which is wrong while PostgreSQL restarts or fails
over. Nothing is answered 2xx unless its transaction committed, so a message the database did not store is
never acknowledged; a delivery whose commit did land but whose answer was lost comes back as a duplicate,
which intake recognizes (idempotent on the platform's id).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5
MESSAGE = ("the database is unavailable for a moment: nothing was acknowledged; send the same request again "
           "shortly (a repeat of something already stored is recognized, not stored twice)")


def unavailable(request: Request, exc: Exception):
    # The driver's message names the host and port, which is for the operator's log, not the caller.
    log.warning("database unavailable, answered 503 to %s %s: %s", request.method, request.url.path,
                str(getattr(exc, "orig", None) or exc).splitlines()[0][:300])
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse("<!doctype html><html lang=en><meta charset=utf-8><title>Unavailable</title>"
                            "<h1>OneVoice is unavailable for a moment</h1><p>The database cannot be reached. "
                            "Reload this page in a few seconds.</p>", status_code=503, headers=headers)
    return JSONResponse({"detail": MESSAGE}, status_code=503, headers=headers)


def register(app: FastAPI) -> None:
    """Connection refused or lost (OperationalError, InterfaceError on a closed connection) and a pool with no
    connection to give within its timeout all mean the same to the caller: try again shortly."""
    for error in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(error, unavailable)
