"""Long-running commands: the web server, the worker, the demo."""

from __future__ import annotations

import logging
import signal

import typer

from onevoice.settings import Settings

log = logging.getLogger(__name__)


def _scheduler(runtime, poll: bool):
    """The embedded scheduler: polls every pollable channel (the demo's sandbox channels among them), retries
    the outbox, escalates approvals and sends policy reminders."""
    from onevoice.channels.poller import Poller
    from onevoice.outbox.sender import deliver_due
    from onevoice.scheduler.service import Scheduler

    scheduler = Scheduler()
    if poll:
        scheduler.add("poll-channels", 1.0, Poller(runtime).tick)
    # Replies not delivered at once (platform down, rate limited) are retried from here; claims are
    # row-locked, so every web node may run this.
    secret = runtime.settings.secret_key.get_secret_value()
    scheduler.add("outbox", 5.0, lambda: runtime.broker.publish(deliver_due(runtime.session_factory,
                                                                             secret_key=secret)))
    # Scheduled posts whose time has come are queued and sent (row-locked: every web node may run it).
    from onevoice.posts.jobs import publish_due

    scheduler.add("posts-due", 15.0, lambda: publish_due(runtime.session_factory, secret_key=secret))
    # Governance: approval requests near their SLA move to the next team; policy reminders. Every web
    # node runs these too (scale-out included): escalation skips rows another node has locked, and a
    # person reminded in the last week is not reminded again.
    from onevoice.governance import jobs

    hook = runtime.settings.escalation_webhook_secret
    scheduler.add("approval-escalation", 60.0, lambda: jobs.escalate(
        runtime.session_factory, runtime.broker.publish, webhook_url=runtime.settings.escalation_webhook_url,
        webhook_secret=hook.get_secret_value() if hook else None))
    scheduler.add("policy-reminders", 3600.0, lambda: jobs.remind(runtime.session_factory))
    # Incidents whose topic has gone quiet close by themselves (row-locked: any number of nodes).
    from onevoice.pipeline.incidents import close_quiet_job

    scheduler.add("incident-close", 60.0, lambda: close_quiet_job(runtime.session_factory, runtime.broker.publish,
                                                                   runtime.settings.incident_quiet_minutes))
    # The triage model learns from the pages' corrections: retrained when enough have come in, or daily.
    from onevoice.triage.autotrain import start_if_due

    scheduler.add("triage-retrain", 600.0, lambda: start_if_due(runtime.session_factory, runtime.settings))
    return scheduler


def run_server(settings: Settings, host: str, port: int, poll: bool = True) -> None:
    import uvicorn

    from onevoice.app import create_app
    from onevoice.migrate import upgrade
    from onevoice.ops.logging import configure_logging
    from onevoice.runtime import build_runtime

    configure_logging(settings.log_level, settings.log_json)
    if settings.database_url.startswith("sqlite"):
        # The embedded default sets itself up; a production database is migrated by the operator.
        upgrade(settings.database_url)
    runtime = build_runtime(settings)
    # Web nodes of a scale-out deployment leave polling to the workers.
    app = create_app(settings, runtime=runtime, scheduler=_scheduler(runtime, poll and not settings.redis_url))
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


def run_worker(settings: Settings, name: str | None) -> None:
    from onevoice.ops.logging import configure_logging
    from onevoice.runtime import build_processor, build_runtime

    configure_logging(settings.log_level, settings.log_json)
    runtime = build_runtime(settings)
    processor = build_processor(settings, runtime.session_factory, worker=name or "worker")
    if settings.redis_url:
        from onevoice.worker.streams import StreamWorker

        worker = StreamWorker(processor, runtime.session_factory, settings.redis_url, runtime.broker.publish,
                              batch_size=settings.worker_batch_size, reclaim_idle_ms=settings.reclaim_idle_ms,
                              requeue_after_seconds=settings.requeue_after_seconds, name=name,
                              prefix=settings.redis_prefix)
        processor.worker = worker.name
        from onevoice.channels.poller import Poller, redis_claim

        poller = Poller(runtime, claim=redis_claim(settings.redis_url, settings.redis_prefix))
        worker.periodic = poller.tick
    else:
        from onevoice.worker.runner import EmbeddedWorker

        worker = EmbeddedWorker(processor, runtime.session_factory, runtime.broker.publish,
                                batch_size=settings.worker_batch_size)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stop() if hasattr(worker, "stop") else None)
    typer.echo(f"worker started ({'redis streams' if settings.redis_url else 'database queue'})", err=True)
    worker.run()


def run_demo(settings: Settings, host: str, port: int, traffic: bool) -> None:
    from onevoice.db import make_engine, make_sessionmaker, unit_of_work
    from onevoice.demo.seed import DEMO_DOMAIN, DEMO_PASSWORD, seed_demo
    from onevoice.migrate import upgrade

    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    with unit_of_work(make_sessionmaker(engine)) as session:
        token = seed_demo(session)
    engine.dispose()
    url = f"http://{host}:{port}"
    typer.echo(f"""
OneVoice demo organization is ready ({settings.database_url})

  Open           {url}            (pages)
  Sign in        lead@{DEMO_DOMAIN} (coordinator, sees everything) or support@, pr@, legal@,
                 product@, sales@, marketing@, hr@, it@{DEMO_DOMAIN}; password {DEMO_PASSWORD}
  API docs       {url}/docs
  Try the API    curl -H 'Authorization: Bearer {token}' {url}/api/v1/cases?team=support
  Live events    curl -N -H 'Authorization: Bearer {token}' {url}/api/v1/stream

  API token      {token}
""")
    run_server(settings, host, port, poll=traffic)
