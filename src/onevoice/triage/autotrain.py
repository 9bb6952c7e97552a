"""Automatic retraining: after enough new corrections from the pages, or once a day when there are any.

The scheduler of every web node runs `retrain_if_due` (cli/serving.py); on PostgreSQL a transaction-level
advisory lock lets only one node train at a time. The run is `service.train_model`, so a candidate is
judged on the organization's held-out labels and switched on only when it helps; running workers and web
nodes load it within 30 s (triage.factory.ReloadingTriager), no restart.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from onevoice.db import unit_of_work
from onevoice.triage.models import ModelVersion, TriageCorrection
from onevoice.triage.service import train_model, training_available

log = logging.getLogger(__name__)
DAILY = timedelta(hours=24)
_LOCK_KEY = 0x0E7A1E  # any constant shared by the nodes
_RUNNING = threading.Lock()


def due(session: Session, after_corrections: int, now: datetime | None = None) -> str | None:
    """Why a retraining is due now, or None."""
    now = now or datetime.now(UTC)
    last = session.scalar(select(func.max(ModelVersion.created_at)))
    query = select(func.count(TriageCorrection.id)).where(TriageCorrection.field.in_(("intent", "sentiment",
                                                                                      "complaint")))
    if last is not None:
        query = query.where(TriageCorrection.created_at > last)
    new = session.scalar(query) or 0
    if new >= after_corrections:
        return f"{new} corrections since the last training (>= {after_corrections})"
    if new and (last is None or now - _aware(last) >= DAILY):
        return f"{new} corrections and no training in the last 24 hours"
    return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _claim(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: one node
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _LOCK_KEY}))


def retrain_if_due(session_factory, settings, now: datetime | None = None):
    """Train (and maybe switch on) a new version when one is due; the TrainReport, or None."""
    if settings.retrain_after_corrections <= 0 or not training_available():
        return None
    with unit_of_work(session_factory) as session:
        if not _claim(session):
            return None
        why = due(session, settings.retrain_after_corrections, now)
        if why is None:
            return None
        log.info("triage: retraining (%s)", why)
        report = train_model(session, settings.model_dir, data_dir=settings.training_data_dir, log=log.info)
        log.info("triage: model %s %s: %s", report.version, "switched on" if report.activated else "kept off",
                 report.reason)
        return report


def start_if_due(session_factory, settings) -> bool:
    """The scheduler's job: train in a thread of its own, so polling, the outbox and the other jobs never
    wait for a training run; at most one run per process. True when a run was started."""
    if not _RUNNING.acquire(blocking=False):
        return False

    def run() -> None:
        try:
            retrain_if_due(session_factory, settings)
        except Exception:  # noqa: BLE001 - logged; the next check tries again
            log.exception("triage: automatic retraining failed")
        finally:
            _RUNNING.release()

    threading.Thread(target=run, name="onevoice-retrain", daemon=True).start()
    return True
