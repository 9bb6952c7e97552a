"""Build the triager the pipeline uses: the active trained model version and the product catalog.

The database says which model version is active (model_versions) and what the catalog holds (products);
without a database, or when the active version's files are not on this machine, the model shipped in the
package is used, so triage never stops because of a missing file.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onevoice.db import make_engine, make_sessionmaker
from onevoice.triage.catalog import CatalogEntry
from onevoice.triage.escalation import EscalatingTriager
from onevoice.triage.models import ModelVersion, Product
from onevoice.triage.triager import FastTriager

log = logging.getLogger(__name__)


def active_model_path(session: Session) -> Path | None:
    row = session.scalars(select(ModelVersion).where(ModelVersion.active.is_(True))
                          .order_by(ModelVersion.id.desc()).limit(1)).first()
    if row is None:
        return None
    path = Path(row.path)
    if not (path / "heads.npz").is_file():
        log.warning("active model %s is not at %s on this machine; using the packaged model", row.version, path)
        return None
    return path


def load_catalog(session: Session) -> list[CatalogEntry]:
    return [CatalogEntry(p.key, p.name, tuple(p.aliases or ()), p.kind or "product", p.intent, p.team)
            for p in session.scalars(select(Product))]


def build_from_session(session: Session, escalation: bool = False, transformer: bool = True):
    """The fast triager of the active version; wrapped by the escalation layer when asked for."""
    model_dir = active_model_path(session)
    fast = FastTriager(model_dir=model_dir, catalog=load_catalog(session))
    return with_escalation(fast, model_dir, transformer) if escalation else fast


def with_escalation(fast: FastTriager, model_dir: Path | None = None, transformer: bool = True):
    """The escalation layer around `fast`; loads nothing until a message needs it (see escalation.py).

    transformer: escalation also reads sentiment with the packaged sentiment transformer."""
    return EscalatingTriager(fast, model_dir, sentiment_model=transformer)


def _generation(session: Session) -> tuple:
    """Changes whenever another model is switched on or the catalog is edited."""
    active = session.scalar(select(func.max(ModelVersion.id)).where(ModelVersion.active.is_(True)))
    catalog = session.execute(select(func.count(Product.id), func.max(Product.id))).one()
    return active, tuple(catalog)


def build_triager(settings, check_every: float = 30.0) -> ReloadingTriager:
    """The pipeline's triager: follows the active model version and the catalog without a restart."""
    return ReloadingTriager(settings, check_every)


class ReloadingTriager:
    """Every `check_every` seconds, a cheap look at the database; a new model or catalog is loaded then.

    Workers run for weeks: a model trained and switched on with `onevoice model train` must reach them.
    """

    def __init__(self, settings, check_every: float = 30.0) -> None:
        self._engine = make_engine(settings.database_url, **({} if settings.database_url.startswith("sqlite")
                                                              else {"pool_size": 1, "max_overflow": 0}))
        self._sessions = make_sessionmaker(self._engine, readonly=True)
        self.check_every = check_every
        self.escalation = bool(getattr(settings, "triage_escalation", False))
        self.transformer = bool(getattr(settings, "triage_sentiment_transformer", True))
        self._checked_at = time.monotonic()
        self._generation, self.current = self._load()

    def _load(self) -> tuple[tuple | None, FastTriager]:
        try:
            with self._sessions() as session:
                return _generation(session), build_from_session(session, self.escalation, self.transformer)
        except Exception as exc:  # noqa: BLE001 - no schema yet (first start): triage must still run
            log.warning("triage: could not read model versions or catalog (%s); using the packaged model",
                        str(exc).splitlines()[0])
            fast = FastTriager()
            return None, with_escalation(fast, None, self.transformer) if self.escalation else fast

    def refresh(self, force: bool = False) -> bool:
        """Load a newly activated model or edited catalog; True when something changed."""
        self._checked_at = time.monotonic()
        try:
            with self._sessions() as session:
                generation = _generation(session)
        except Exception:  # noqa: BLE001 - keep triaging with what we have
            return False
        if generation == self._generation and not force:
            return False
        self._generation, self.current = self._load()
        log.info("triage: loaded model %s", self.current.model_version)
        return True

    @property
    def model_version(self) -> str:
        return self.current.model_version

    def warm(self) -> None:
        """Load what the current triager loads on first use (the escalation layer's encoders), if anything."""
        warm = getattr(self.current, "warm", None)
        if warm is not None:
            warm()

    def triage(self, item):
        return self.triage_batch([item])[0]

    def triage_batch(self, items):
        if time.monotonic() - self._checked_at >= self.check_every:
            self.refresh()
        return self.current.triage_batch(items)
