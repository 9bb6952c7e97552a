"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily

from onevoice.db import ping
from onevoice.messages.service import count_by_status
from onevoice.ops.schemas import Health, Readiness
from onevoice.process import Runtime
from onevoice.web.deps import get_runtime, require_token, scope_allows
from onevoice.web.responses import Problem

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
def healthz():
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "the database or Redis does not answer"}})
def readyz(runtime: Runtime = Depends(get_runtime)):
    """The database and, when configured, Redis answer."""
    checks: dict[str, str] = {}
    try:
        ping(runtime.engine)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    if runtime.settings.redis_url:
        try:
            # Optional: only a scale-out deployment (ONEVOICE_REDIS_URL) loads the Redis client.
            import redis

            redis.Redis.from_url(runtime.settings.redis_url, socket_timeout=2).ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                        status_code=200 if ready else 503)


class QueueDepth:
    """Collected at scrape time so the gauge is never stale."""

    def __init__(self, runtime: Runtime | None) -> None:
        self.runtime = runtime

    def collect(self):
        gauge = GaugeMetricFamily("onevoice_queue_depth", "Messages accepted and not yet processed")
        failed = GaugeMetricFamily("onevoice_messages_failed_current", "Messages currently in failed state")
        if self.runtime is None:
            return
        try:
            with self.runtime.read_factory() as session:
                counts = count_by_status(session, ("accepted", "failed"))
            gauge.add_metric([], counts.get("accepted", 0))
            failed.add_metric([], counts.get("failed", 0))
            journal = self.runtime.journal
            pending = journal.backlog() if journal is not None else 0
        except Exception:
            return
        yield gauge
        yield failed
        journaled = GaugeMetricFamily("onevoice_intake_journal_pending",
                                      "Webhook deliveries acknowledged and not yet stored as messages")
        journaled.add_metric([], pending)
        yield journaled


_DEPTH = QueueDepth(None)
REGISTRY.register(_DEPTH)


@router.get("/metrics", response_class=PlainTextResponse, responses={
    200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "the Prometheus text format"},
    401: {"model": Problem, "description": "no valid API token (unless ONEVOICE_METRICS_PUBLIC=true)"},
    403: {"model": Problem, "description": "the token lacks the metrics:read scope"}})
def metrics(request: Request, runtime: Runtime = Depends(get_runtime)):
    """Prometheus metrics: an API token with the metrics:read scope (`Authorization: Bearer`), unless
    ONEVOICE_METRICS_PUBLIC=true. Volumes, failures and queue depth say a lot about an organization."""
    if not runtime.settings.metrics_public:
        token = require_token(request, runtime)
        if not scope_allows(token.scopes, "metrics:read"):
            raise HTTPException(403, "this token lacks the scope 'metrics:read'")
    # One collector per process, pointed at the runtime that serves this request.
    _DEPTH.runtime = runtime
    return PlainTextResponse(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
