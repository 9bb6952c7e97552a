"""Long-running commands: the web server, the worker, the demo."""

from __future__ import annotations

import ipaddress
import logging
import signal
import time
from datetime import timedelta

import typer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from onevoice.audit.anchor import anchor_from_settings, checkpoint_job, session_info
from onevoice.cases.models import Case
from onevoice.cases.pending import resolve_silent_job
from onevoice.cli.worker_child import worker_child
from onevoice.db import make_engine, make_sessionmaker, unit_of_work
from onevoice.demo.history import seed_history
from onevoice.demo.seed import DEMO_DOMAIN, DEMO_PASSWORD, seed_demo
from onevoice.governance import jobs
from onevoice.governance.guard_rules import seed_fresh_install
from onevoice.governance.hooks import install
from onevoice.incidents.surge import close_quiet_job
from onevoice.migrate import upgrade
from onevoice.notifications import jobs as notify_jobs
from onevoice.ops import heap, metrics
from onevoice.ops.logging import configure_logging
from onevoice.outbox.sender import deliver_due
from onevoice.pipeline.backlog import behind
from onevoice.pipeline.poller import Poller, redis_claim
from onevoice.posts.jobs import publish_due
from onevoice.privacy.retention import job as retention_job
from onevoice.reports.upkeep import UpkeepResult, upkeep_job
from onevoice.runtime import build_processor, build_runtime
from onevoice.scheduler.service import Scheduler
from onevoice.settings import Settings
from onevoice.triage.autotrain import start_if_due
from onevoice.worker.child import (
    WorkerPool,
    WorkerProcess,
)
from onevoice.worker.runner import EmbeddedWorker

log = logging.getLogger(__name__)


def _upkeep_counted(session_factory, **kw) -> UpkeepResult:
    """One scheduled upkeep run, its thread's CPU and its cases counted (`/metrics`): the upkeep's share of the
    server's CPU, measured (bench/bench_webhooks.py) rather than estimated from a pass run elsewhere."""
    started = time.thread_time()
    try:
        result = upkeep_job(session_factory, **kw)
    finally:
        metrics.UPKEEP_CPU.inc(time.thread_time() - started)
    metrics.UPKEEP_CASES.labels("folded").inc(result.folded)
    metrics.UPKEEP_CASES.labels("recomputed").inc(result.cases - result.folded)
    return result


def _scheduler(runtime, poll: bool):
    """The embedded scheduler: polls every pollable channel (the demo's sandbox channels among them), retries
    the outbox, escalates approvals and sends policy reminders."""
    scheduler = Scheduler()
    if poll:
        scheduler.add("poll-channels", 1.0, Poller(runtime).tick)
    # Replies not delivered at once (platform down, rate limited) are retried from here; claims are
    # row-locked, so every web node may run this.
    secret = runtime.settings.secret_key.get_secret_value()
    scheduler.add("outbox", 5.0, lambda: runtime.broker.publish(deliver_due(runtime.session_factory,
                                                                             secret_key=secret)))
    # Scheduled posts whose time has come are queued and sent (row-locked: every web node may run it).
    scheduler.add("posts-due", 15.0, lambda: publish_due(runtime.session_factory, secret_key=secret))
    # Governance: approval requests near their SLA move to the next team; policy reminders. Every web
    # node runs these too (scale-out included): escalation skips rows another node has locked, and a
    # person reminded in the last week is not reminded again.
    hook = runtime.settings.escalation_webhook_secret
    scheduler.add("approval-escalation", 60.0, lambda: jobs.escalate(
        runtime.session_factory, runtime.broker.publish, webhook_url=runtime.settings.escalation_webhook_url,
        webhook_secret=hook.get_secret_value() if hook else None))
    scheduler.add("policy-reminders", 3600.0, lambda: jobs.remind(runtime.session_factory))
    # The audit log's head, checkpointed to a file the database cannot write and to the logs (a node whose
    # head was checkpointed already writes nothing).
    if runtime.settings.audit_checkpoint_minutes:
        scheduler.add("audit-checkpoint", runtime.settings.audit_checkpoint_minutes * 60,
                      lambda: checkpoint_job(runtime.read_factory, runtime.anchor))
    # Incidents whose topic has gone quiet close by themselves (row-locked: any number of nodes).
    scheduler.add("incident-close", 60.0, lambda: close_quiet_job(runtime.session_factory, runtime.broker.publish,
                                                                   runtime.settings.incident_quiet_minutes))
    # Cases waiting on a customer who never answers are resolved after a while (row-locked: any number of nodes).
    scheduler.add("pending-customer", 600.0, lambda: resolve_silent_job(runtime.session_factory, runtime.broker.publish,
                                                                        runtime.settings.pending_customer_days))
    # The triage model learns from the pages' corrections: retrained when enough have come in, or daily.
    scheduler.add("triage-retrain", 600.0, lambda: start_if_due(runtime.session_factory, runtime.settings))
    # The reports' facts follow the events (reports/upkeep.py): registered here, at composition, so that the
    # pipeline knows nothing of reports. Idempotent, so every web node may run it; a node set to 0 does not.
    # While the pipeline is behind, a run waits (up to reports_upkeep_wait_seconds since the last pass).
    if runtime.settings.reports_upkeep_seconds:
        wait = timedelta(seconds=runtime.settings.reports_upkeep_wait_seconds)
        scheduler.add("reports-upkeep", runtime.settings.reports_upkeep_seconds, lambda: _upkeep_counted(
            runtime.session_factory, busy=lambda: behind(runtime.read_factory, runtime.journal), wait_at_most=wait))
    # Notifications (notifications/): alerts (incidents, SLA thresholds), the weekly digest, and the mail they
    # queue. Idempotence keys and conditional claims make each safe on every web node.
    settings = runtime.settings
    scheduler.add("alerts", notify_jobs.ALERTS_EVERY, lambda: notify_jobs.alerts_job(runtime.session_factory, settings))
    scheduler.add("weekly-digest", notify_jobs.DIGEST_EVERY,
                  lambda: notify_jobs.digest_job(runtime.session_factory, settings))
    scheduler.add("mail", notify_jobs.MAIL_EVERY, lambda: notify_jobs.mail_job(runtime.session_factory, settings))
    # Retention rules (privacy/retention.py), hourly; every node starts it, one run at a time holds a lock
    # shared by the nodes (an advisory lock on PostgreSQL), so another node's pass skips.
    scheduler.add("retention", 3600.0, lambda: retention_job(runtime.session_factory))
    return scheduler


def listens_beyond_loopback(host: str) -> bool:
    """True unless `host` is this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.strip("[]").lower() in ("localhost", "localhost."):
        return False
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return True  # a name or an interface address: reachable from elsewhere


def refuse_development_secret(settings: Settings, host: str) -> None:
    """The development secret signs cookies anyone can forge: never where another machine can connect."""
    if settings.uses_development_secret and listens_beyond_loopback(host):
        raise typer.BadParameter(f"refusing to listen on {host} with the development secret: set "
                                 "ONEVOICE_SECRET_KEY to a strong secret (or listen on 127.0.0.1)")


def uvicorn_config(app, settings: Settings, host: str, port: int):
    """How `onevoice serve` runs uvicorn. X-Forwarded-For and X-Forwarded-Proto are believed only from
    ONEVOICE_TRUSTED_PROXIES: uvicorn's own default believes them from any process on 127.0.0.1, so anyone
    who reaches the port from this machine (or through a proxy that passes the header on) could choose the
    address that sign-in limits count and the audit log records."""
    import uvicorn  # heavy: the web server loads only in `onevoice serve`

    trusted = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    return uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False,
                          proxy_headers=bool(trusted), forwarded_allow_ips=trusted or None)


def first_start(runtime) -> None:
    """What a fresh install needs before it answers anyone: the policy guard's default rules (an empty guard
    would let every text out unchecked). Nothing happens on later starts."""

    try:
        with unit_of_work(runtime.session_factory) as session:
            added = seed_fresh_install(session)
    except IntegrityError:  # another web node of a scale-out deployment seeded them at the same moment
        return
    if added:
        log.info("fresh install: %d default policy guard rules created (see /governance/guard)", added)


def run_server(settings: Settings, host: str, port: int, poll: bool = True) -> None:
    # heavy: the web server and every page and route load only in `onevoice serve`, not in a worker's process
    import uvicorn

    from onevoice.app import create_app
    refuse_development_secret(settings, host)
    configure_logging(settings.log_level, settings.log_json)
    if settings.database_url.startswith("sqlite"):
        # The embedded default sets itself up; a production database is migrated by the operator.
        upgrade(settings.database_url, secret_key=settings.secret_key.get_secret_value())
    runtime = build_runtime(settings)
    first_start(runtime)
    # Web nodes of a scale-out deployment leave polling to the workers.
    scheduler = _scheduler(runtime, poll and not settings.redis_url)
    if settings.embedded_worker and settings.worker_process and not settings.redis_url:
        count = worker_processes(settings)
        workers = (WorkerPool(settings, runtime.broker.publish, worker_child, count) if count > 1
                   else WorkerProcess(settings, runtime.broker.publish, worker_child))
        app = create_app(settings, runtime=runtime, scheduler=scheduler, start_worker=False, worker_process=workers)
    else:
        app = create_app(settings, runtime=runtime, scheduler=scheduler)
    heap.tune()
    uvicorn.Server(uvicorn_config(app, settings, host, port)).run()


def worker_processes(settings: Settings) -> int:
    """How many worker processes `onevoice serve` starts: more than one only on SQLite (a PostgreSQL deployment
    scales with `onevoice worker` processes and Redis instead)."""
    return max(1, settings.worker_processes) if settings.database_url.startswith("sqlite") else 1


def run_worker(settings: Settings, name: str | None) -> None:
    configure_logging(settings.log_level, settings.log_json)
    runtime = build_runtime(settings)
    # What a worker changes that governance audits (an incident the detector reopens) is recorded here too.
    install(runtime.session_factory)
    processor = build_processor(settings, runtime.session_factory, worker=name or "worker")
    if settings.redis_url:
        # Optional: only a scale-out deployment (ONEVOICE_REDIS_URL) loads the Redis client.
        from onevoice.worker.streams import StreamWorker

        worker = StreamWorker(processor, runtime.session_factory, settings.redis_url, runtime.broker.publish,
                              batch_size=settings.worker_batch_size, reclaim_idle_ms=settings.reclaim_idle_ms,
                              requeue_after_seconds=settings.requeue_after_seconds, name=name,
                              prefix=settings.redis_prefix)
        processor.worker = worker.name
        poller = Poller(runtime, claim=redis_claim(settings.redis_url, settings.redis_prefix))
        worker.periodic = poller.tick
        # Scale-out web nodes run the reports' upkeep in their scheduler (cli/serving._scheduler).
    else:
        worker = EmbeddedWorker(processor, runtime.session_factory, runtime.broker.publish,
                                batch_size=settings.worker_batch_size, ingest=runtime.ingest,
                                freeze_after_warm_up=True)
    heap.tune()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stop() if hasattr(worker, "stop") else None)
    typer.echo(f"worker started ({'redis streams' if settings.redis_url else 'database queue'})", err=True)
    worker.run()


def run_demo(settings: Settings, host: str, port: int, traffic: bool) -> None:
    upgrade(settings.database_url, secret_key=settings.secret_key.get_secret_value())
    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine, info=session_info(anchor_from_settings(settings)))
    with unit_of_work(factory) as session:
        token = seed_demo(session)
    # Sixty days of history on first start, so the reports are alive (demo/history.py).
    with factory() as session:

        first_start = not session.scalar(select(func.count(Case.id)))
    if first_start:
        typer.echo("first start: seeding 60 days of history through the pipeline (about a minute)...", err=True)
    processor = build_processor(settings, factory, worker="demo-history")
    processor.surge = None  # the detector measures surges against the present, not the history's days
    if seeded := seed_history(factory, processor.process, DEMO_DOMAIN):
        typer.echo(f"seeded 60 days of history ({seeded} messages)", err=True)
    upkeep_job(factory)
    engine.dispose()
    url = f"http://{host}:{port}"
    typer.echo(f"""
OneVoice demo organization is ready ({settings.database_url})

  Open           {url}            (pages)
  Sign in        lead@{DEMO_DOMAIN} (coordinator, sees everything) or support@, pr@, legal@,
                 product@, sales@, marketing@, hr@, it@{DEMO_DOMAIN}; password {DEMO_PASSWORD}
  Reports        {url}/reports as manager@{DEMO_DOMAIN} (Support's manager) or exec@{DEMO_DOMAIN}
  Administration {url}/governance/accounts as admin@{DEMO_DOMAIN} (connect accounts, privacy requests)
  API docs       {url}/docs
  Try the API    curl -H 'Authorization: Bearer {token}' {url}/api/v1/cases?team=support
  Live events    curl -N -H 'Authorization: Bearer {token}' {url}/api/v1/stream

  API token      {token}
""")
    run_server(settings, host, port, poll=traffic)
