"""create_app(settings): the web process, and in the embedded default its worker and scheduler too."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from onevoice import __version__
from onevoice.advocacy import api as advocacy_api
from onevoice.advocacy import sharing_views as advocacy_sharing
from onevoice.advocacy import views as advocacy_views
from onevoice.advocacy import voice_views as advocacy_voice
from onevoice.advocacy.links import ClickLimiter
from onevoice.cases import api as cases_api
from onevoice.connect import views as connect_views
from onevoice.connect.service import choices as connect_choices
from onevoice.contacts import api as contacts_api
from onevoice.desk import approvals_views
from onevoice.desk import views as desk_views
from onevoice.errors import DomainError
from onevoice.governance import access_views, admin_views, login, sso
from onevoice.governance import api as governance_api
from onevoice.governance import hooks as governance_hooks
from onevoice.governance import views as governance_views
from onevoice.inbox import notify
from onevoice.inbox import views as inbox_views
from onevoice.incidents import api as incidents_api
from onevoice.incidents import views as incidents_views
from onevoice.library import views as library_views
from onevoice.live import api as live_api
from onevoice.live import pages as live_pages
from onevoice.notifications import api as notifications_api
from onevoice.notifications import views as notifications_views
from onevoice.ops import api as ops_api
from onevoice.pipeline import api as intake_api
from onevoice.pipeline import webhooks
from onevoice.posts import api as posts_api
from onevoice.posts import views as posts_views
from onevoice.privacy import api as privacy_api
from onevoice.privacy import views as privacy_views
from onevoice.process import Runtime
from onevoice.reports import api as reports_api
from onevoice.reports import views as reports_views
from onevoice.routing import api as routing_api
from onevoice.routing import views as routing_views
from onevoice.runtime import build_runtime
from onevoice.settings import Settings
from onevoice.triage import api as triage_api
from onevoice.triage import views as triage_views
from onevoice.web import apidocs, pages, unavailable
from onevoice.worker.runner import EmbeddedWorker

log = logging.getLogger(__name__)
HERE = Path(__file__).parent


def create_app(settings: Settings | None = None, runtime: Runtime | None = None,
               start_worker: bool | None = None, scheduler=None, worker_process=None) -> FastAPI:
    settings = settings or (runtime.settings if runtime else Settings())
    runtime = runtime or build_runtime(settings)
    if start_worker is None:
        start_worker = settings.embedded_worker and not settings.redis_url

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await runtime.broker.start()
        worker = None
        if start_worker:
            worker = EmbeddedWorker(runtime.processor, runtime.session_factory, runtime.broker.publish,
                                    batch_size=settings.worker_batch_size, ingest=runtime.ingest)
            runtime.worker = worker
            worker.start()
        elif worker_process is not None:  # `onevoice serve`'s worker in its own process (worker/child.py)
            worker = runtime.worker = worker_process
            worker.start()
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            if worker is not None:
                worker.stop()
                runtime.worker = None
            await runtime.broker.stop()

    # docs_url/redoc_url off: FastAPI's pages load Swagger UI and ReDoc from a CDN; web.apidocs serves /docs itself.
    app = FastAPI(title="OneVoice", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Every post, comment, mention and message, understood and routed to every team "
                              "that has a part in it. Authenticate with `Authorization: Bearer <token>` "
                              "(create one with `onevoice token create NAME`).")
    app.state.runtime = runtime
    app.state.settings = settings
    app.add_middleware(StrictTransport)
    unavailable.register(app)

    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, exc: DomainError):
        return JSONResponse({"detail": str(exc)}, status_code=exc.status_code)

    @app.exception_handler(DataError)
    async def data_error(_request: Request, exc: DataError):
        # PostgreSQL text cannot hold a NUL character, whatever the route (psycopg refuses the parameter before
        # the query is sent). That is the request's fault and the unit of work has rolled back, so nothing is
        # half-written: say what is wrong instead of a 500. Any other DataError stays a 500: it may be our bug.
        if "NUL (0x00)" in str(exc.orig if exc.orig is not None else exc):
            return JSONResponse({"detail": "text contains a NUL character (\\u0000), which cannot be stored: "
                                           "remove it and send again"}, status_code=422)
        # An id beyond PostgreSQL's integer range in a URL or form names nothing (same as OverflowError below).
        if type(exc.orig).__name__ == "NumericValueOutOfRange":
            return JSONResponse({"detail": "a number in this request is too large (out of range for an id)"},
                                status_code=422)
        raise exc

    @app.exception_handler(OverflowError)
    async def overflow_error(_request: Request, exc: OverflowError):
        # SQLite integers are 64-bit: an id beyond that in a page's URL or query string (the API's ids are
        # bounded by web.params.RowId) cannot name anything. The request's fault, not a 500.
        if "SQLite INTEGER" in str(exc):
            return JSONResponse({"detail": "a number in this request is too large (ids fit in 64 bits)"},
                                status_code=422)
        raise exc

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError):
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
        return JSONResponse({"detail": "; ".join(problems) or "invalid request"}, status_code=422)

    default_openapi = app.openapi

    def openapi() -> dict:
        # The validation handler answers one readable string; say so, or clients generated from the schema
        # (and schemathesis) expect FastAPI's list of errors in every 422.
        if app.openapi_schema is None:
            schemas = default_openapi().get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = {
                    "title": "HTTPValidationError", "type": "object", "required": ["detail"],
                    "properties": {"detail": {"type": "string", "title": "Detail",
                                              "description": "what is wrong, e.g. 'path.post_id: ...'"}}}
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    _register_routes(app, runtime)
    return app


class StrictTransport:
    """Behind TLS (the request came over https, directly or as a trusted proxy says), tell browsers to use
    https only from now on (HSTS, a year). Never over plain http, where an attacker could strip it anyway."""

    HEADER = (b"strict-transport-security", b"max-age=31536000")

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("scheme") != "https":
            return await self.app(scope, receive, send)

        async def send_with_hsts(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), self.HEADER]}
            await send(message)

        return await self.app(scope, receive, send_with_hsts)


def _register_routes(app: FastAPI, runtime: Runtime) -> None:
    """Every router and page of OneVoice, registered here and nowhere else. The order is the matching order
    (the API first, then the pages), and the hooks that let lower layers reach higher ones are set here too."""
    governance_hooks.install(runtime.session_factory)  # the audit log records row changes of every feature
    app.state.unread_count = notify.unread_count  # the header's badge (web kernel) counts the inbox's notes
    # Platforms' deliveries are most of the requests: matched first, handled without the routers' walk.
    app.router.routes.insert(0, webhooks.lean_route())
    for router in (ops_api.router, intake_api.router, cases_api.router, cases_api.outcome_router,
                   contacts_api.router, live_api.router, webhooks.router):
        app.include_router(router)
    apidocs.register(app)
    for router in (triage_api.router, governance_api.router, admin_views.api, access_views.api, routing_api.router,
                   incidents_api.router, posts_api.router, advocacy_api.router, reports_api.router,
                   privacy_api.router, notifications_api.router):
        app.include_router(router)

    pages.install(app)
    pages.add_pages(app, [login.router, sso.router], ("/login", "/logout"))
    pages.add_pages(app, [inbox_views.router], ("/inbox", "/notifications"), HERE / "inbox" / "templates")
    pages.add_pages(app, [desk_views.router], ("/cases",), HERE / "desk" / "templates")
    pages.add_pages(app, [library_views.router], ("/library",), HERE / "library" / "templates")
    pages.add_pages(app, [approvals_views.router], ("/approvals",))
    pages.add_pages(app, [live_pages.router], ("/live",))
    pages.add_pages(app, [governance_views.router, admin_views.pages, access_views.pages], ("/governance",),
                    HERE / "governance" / "templates")
    pages.add_pages(app, [routing_views.router], ("/routing",), HERE / "routing" / "templates")
    pages.add_pages(app, [incidents_views.router], ("/incidents",), HERE / "incidents" / "templates")
    pages.add_pages(app, [triage_views.router], ("/triage",), HERE / "triage" / "templates")
    pages.add_pages(app, [posts_views.router], ("/posts",), HERE / "posts" / "templates")
    app.state.click_limiter = ClickLimiter()  # per process, in memory: the short links' rate limits
    pages.add_pages(app, [advocacy_views.router, advocacy_sharing.router, advocacy_voice.router],
                    ("/advocates", "/advocacy", "/s/"), HERE / "advocacy" / "templates")
    pages.add_pages(app, [reports_views.router], ("/reports",), HERE / "reports" / "templates")
    pages.add_pages(app, [notifications_views.router], ("/me/",), HERE / "notifications" / "templates")
    pages.add_pages(app, [connect_views.router], ("/governance",), HERE / "connect" / "templates")
    # The Accounts page (governance) shows "Connect a channel" and "Reconnect" only for the kinds connect offers.
    app.state.templates.env.globals["connectable"] = frozenset(c["kind"] for c in connect_choices())
    pages.add_pages(app, [privacy_views.pages], ("/governance",), HERE / "privacy" / "templates")
