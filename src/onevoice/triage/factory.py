"""Build the triager the pipeline uses: the active trained model version and the product catalog.

The database says which model version is active (model_versions) and what the catalog holds (products);
without a database, or when the active version's files are not on this machine, the model shipped in the
package is used, so triage never stops because of a missing file.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.triage.catalog import CatalogEntry
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
    return [CatalogEntry(p.key, p.name, tuple(p.aliases or ())) for p in session.scalars(select(Product))]


def build_from_session(session: Session) -> FastTriager:
    return FastTriager(model_dir=active_model_path(session), catalog=load_catalog(session))


def build_triager(settings) -> FastTriager:
    """The pipeline's triager. Reads the database once; rebuild it after a new model is switched on."""
    from onevoice.db import make_engine, make_sessionmaker

    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine, readonly=True)() as session:
            return build_from_session(session)
    except Exception as exc:  # noqa: BLE001 - no schema yet (first start): triage must still run
        log.warning("triage: could not read model versions or catalog (%s); using the packaged model",
                    str(exc).splitlines()[0])
        return FastTriager()
    finally:
        engine.dispose()
