"""Build the router the pipeline uses: the active playbook from the database, else the packaged default,
followed by the rules learned from team corrections.

Workers and web nodes run for weeks: every `check_every` seconds the router asks the database one cheap
question (which playbook is active, the newest team correction, the newest decision on a learned rule,
the channels) and reloads only when the answer changed, so an activated playbook or a new correction
reaches every process without a restart.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onevoice.channels.models import Channel
from onevoice.db import make_sessionmaker, utcnow
from onevoice.routing import learning, vocabulary
from onevoice.routing.models import LearnedRoute
from onevoice.routing.models import Playbook as PlaybookRow
from onevoice.routing.playbook import Playbook, PlaybookError
from onevoice.routing.types import Decision, RouteInput
from onevoice.triage.models import TriageCorrection

log = logging.getLogger(__name__)
DEFAULT_PLAYBOOK = Path(__file__).parent / "default_playbook.yaml"
CHECK_EVERY = 10.0  # seconds between generation checks


def default_playbook() -> Playbook:
    return Playbook.from_yaml(DEFAULT_PLAYBOOK.read_text(encoding="utf-8"))


def _active(*columns):
    return select(*columns).where(PlaybookRow.active.is_(True)).order_by(PlaybookRow.id.desc()).limit(1)


def active_row(session: Session) -> PlaybookRow | None:
    return session.scalars(_active(PlaybookRow)).first()


_ACTIVE_SOURCE = _active(PlaybookRow.source)


def active_source(session: Session) -> str | None:
    """The active playbook's text alone, on the session's connection (the reports' upkeep reads it every pass
    for its SLA calendars: the ORM row through the session cost three times as much)."""
    return session.connection().execute(_ACTIVE_SOURCE).scalar()


def generation(session: Session) -> tuple:
    """Changes whenever another playbook is activated, a team is corrected, a learned rule is decided on,
    or a channel is added."""
    active = session.scalar(select(func.max(PlaybookRow.id)).where(PlaybookRow.active.is_(True)))
    correction = session.scalar(select(func.max(TriageCorrection.id)).where(TriageCorrection.field == "team"))
    decided = session.scalar(select(func.max(LearnedRoute.id)))
    channels = tuple(session.execute(select(func.count(Channel.id), func.max(Channel.id))).one())
    return active, correction, decided, channels


class PlaybookRouter:
    """Routes with one playbook and the learned rules; follows the database (see the module docstring)."""

    def __init__(self, playbook: Playbook, session_factory=None, check_every: float = CHECK_EVERY) -> None:
        self.playbook = playbook
        self._session_factory = _readonly(session_factory)
        self.check_every = check_every
        self.learned: dict[learning.Context, learning.LearnedRule] = {}
        self.channel_kinds: dict[str, str] = {}
        self._generation: tuple | None = None
        self._checked_at = time.monotonic()
        if session_factory is not None:
            self.reload()

    @property
    def version(self) -> str:
        return self.playbook.version

    def route(self, item: RouteInput) -> Decision:
        if self._session_factory is not None and time.monotonic() - self._checked_at >= self.check_every:
            self.refresh()
        if item.channel_kind is None:
            item.channel_kind = self.channel_kinds.get(item.channel)
        return learning.apply(vocabulary.apply(self.playbook.route(item), item), item, self.learned)

    def refresh(self) -> bool:
        """Reload when the generation changed; True when it did."""
        self._checked_at = time.monotonic()
        try:
            with self._session_factory() as session:
                current = generation(session)
        except Exception:  # noqa: BLE001 - keep routing with what we have
            return False
        if current == self._generation:
            return False
        self.reload()
        return True

    def reload(self) -> None:
        """Re-read the active playbook, the learned rules and the channel kinds."""
        if self._session_factory is None:
            return
        self._checked_at = time.monotonic()
        self.playbook = load_playbook(self._session_factory)
        try:
            with self._session_factory() as session:
                self._generation = generation(session)
                self.learned = {r.context: r for r in learning.compute(session, utcnow())}
                self.channel_kinds = dict(session.execute(select(Channel.key, Channel.kind)).all())
        except Exception as exc:  # noqa: BLE001 - no schema yet: the playbook alone still routes
            log.warning("routing: could not read learned rules (%s)", str(exc).splitlines()[0])
        log.info("routing: playbook %s, %d learned rule(s)", self.playbook.version, len(self.learned))


def _readonly(session_factory):
    """Read-only sessions on the same engine: the router checks while the processor's write transaction is
    open, and on SQLite a second writer would wait for that very transaction (BEGIN IMMEDIATE)."""
    engine = getattr(session_factory, "kw", {}).get("bind") if session_factory is not None else None
    if engine is None:
        return session_factory
    return make_sessionmaker(engine, readonly=True)


def load_playbook(session_factory) -> Playbook:
    """The active playbook row if there is one and it parses; otherwise the packaged default."""
    try:
        with session_factory() as session:
            row = active_row(session)
            if row is not None:
                return Playbook.from_yaml(row.source, version=f"{row.name}-{row.version}")
    except PlaybookError as exc:
        log.error("the active playbook does not parse (%s); routing with the default playbook", exc)
    except Exception as exc:  # noqa: BLE001 - no schema yet: routing must still work
        log.warning("could not read playbooks (%s); routing with the default playbook", exc)
    return default_playbook()


def build_router(settings, session_factory, check_every: float = CHECK_EVERY) -> PlaybookRouter:
    # With a database, the constructor's reload() reads the active playbook.
    return PlaybookRouter(default_playbook(), session_factory, check_every)
