"""Build the router the pipeline uses: the active playbook from the database, else the packaged default."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select

from onevoice.routing.models import Playbook as PlaybookRow
from onevoice.routing.playbook import Playbook, PlaybookError
from onevoice.routing.types import Decision, RouteInput

log = logging.getLogger(__name__)
DEFAULT_PLAYBOOK = Path(__file__).parent / "default_playbook.yaml"


def default_playbook() -> Playbook:
    return Playbook.from_yaml(DEFAULT_PLAYBOOK.read_text(encoding="utf-8"))


class PlaybookRouter:
    """Routes with one playbook; `reload()` picks up a newly activated one without a restart."""

    def __init__(self, playbook: Playbook, session_factory=None) -> None:
        self.playbook = playbook
        self._session_factory = session_factory

    @property
    def version(self) -> str:
        return self.playbook.version

    def route(self, item: RouteInput) -> Decision:
        return self.playbook.route(item)

    def reload(self) -> None:
        if self._session_factory is not None:
            self.playbook = load_playbook(self._session_factory)


def load_playbook(session_factory) -> Playbook:
    """The active playbook row if there is one and it parses; otherwise the packaged default."""
    try:
        with session_factory() as session:
            row = session.scalars(select(PlaybookRow).where(PlaybookRow.active.is_(True))
                                  .order_by(PlaybookRow.updated_at.desc(), PlaybookRow.id.desc()).limit(1)).first()
            if row is not None:
                return Playbook.from_yaml(row.source, version=f"{row.name}-{row.version}")
    except PlaybookError as exc:
        log.error("the active playbook does not parse (%s); routing with the default playbook", exc)
    except Exception as exc:  # noqa: BLE001 - no schema yet: routing must still work
        log.warning("could not read playbooks (%s); routing with the default playbook", exc)
    return default_playbook()


def build_router(settings, session_factory) -> PlaybookRouter:
    return PlaybookRouter(load_playbook(session_factory) if session_factory else default_playbook(),
                          session_factory)
