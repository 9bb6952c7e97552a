"""Playbook editing: versions, validation with lines, dry runs, save, activate and roll back.

Only admins and coordinators (the social lead sets playbooks, issue 5) may read or change playbooks;
checked here so that pages, the API and any script agree. Every save and activation is appended to the
audit log. Rows are written with Core statements, so the governance flush hook does not record them a
second time: these records say more (version, note, rollback).

Every save is a new row (versions are numbered across the organization's playbooks, 1, 2, 3...); exactly
one row is active. Before the first save, routing uses the packaged default; the first save stores that
default as version 1 so that one can always roll back to it.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from onevoice.audit import log as audit
from onevoice.auth.permissions import POLICY_OWNERS, require
from onevoice.auth.principal import Principal
from onevoice.channels.models import Channel
from onevoice.db import utcnow
from onevoice.errors import InvalidInput, NotFound
from onevoice.routing import learning
from onevoice.routing.factory import DEFAULT_PLAYBOOK, active_row
from onevoice.routing.models import Playbook as PlaybookRow
from onevoice.routing.playbook import Playbook
from onevoice.routing.schemas import DecisionOut, DryRun, PlaybookOut, PlaybookVersion
from onevoice.routing.types import Decision, RouteInput
from onevoice.routing.validate import Problem, check
from onevoice.teams.service import team_keys
from onevoice.triage.types import TriageInput

EDITORS = POLICY_OWNERS


class PlaybookInvalid(InvalidInput):
    """A draft with problems; `problems` lists each with its line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("the playbook has problems: " + "; ".join(str(p) for p in problems))


def require_editor(who: Principal) -> None:
    require(who, EDITORS, "read or change routing playbooks")


def active(session: Session, who: Principal) -> PlaybookOut:
    """The playbook routing uses now (a stored version, or the packaged default before the first save)."""
    require_editor(who)
    row = active_row(session)
    if row is None:
        return PlaybookOut(id=None, name="default", version=0, active=True, note="the packaged default",
                           updated_by="system", updated_at=None, activated_at=None, activated_by=None,
                           source=DEFAULT_PLAYBOOK.read_text(encoding="utf-8"))
    return PlaybookOut.model_validate(row)


def versions(session: Session, who: Principal, limit: int = 200) -> list[PlaybookVersion]:
    require_editor(who)
    rows = session.scalars(select(PlaybookRow).order_by(PlaybookRow.version.desc(), PlaybookRow.id.desc())
                           .limit(limit))
    return [PlaybookVersion.model_validate(r) for r in rows]


def get_version(session: Session, who: Principal, playbook_id: int) -> PlaybookOut:
    require_editor(who)
    row = session.get(PlaybookRow, playbook_id)
    if row is None:
        raise NotFound(f"no playbook version {playbook_id}")
    return PlaybookOut.model_validate(row)


def validate(session: Session, who: Principal, source: str) -> list[Problem]:
    require_editor(who)
    return check(source, set(team_keys(session)))


def parse(session: Session, source: str, version: str = "draft") -> Playbook:
    problems = check(source, set(team_keys(session)))
    if problems:
        raise PlaybookInvalid(problems)
    return Playbook.from_yaml(source, version=version)


def _decision(d: Decision) -> DecisionOut:
    return DecisionOut(**asdict(d), reason=d.reason)


def dry_run(session: Session, who: Principal, triager, text: str, source: str | None = None,
            channel: str | None = None, kind: str = "mention", followers: int = 0, vip: bool = False,
            prior_messages: int = 0, at: datetime | None = None) -> DryRun:
    """Triage a sample text and route it with the draft (or the active playbook when no draft is given),
    learned rules included, next to what the active playbook decides today. Nothing is stored."""
    require_editor(who)
    if not (text or "").strip():
        raise InvalidInput("give a sample message to route")
    if len(text) > 40_000:
        raise InvalidInput("the sample message is longer than 40,000 characters")
    if followers < 0 or prior_messages < 0:
        raise InvalidInput("followers and prior messages cannot be negative")
    channel_kind = None
    if channel:
        channel_kind = session.scalar(select(Channel.kind).where(Channel.key == channel))
        if channel_kind is None:
            raise InvalidInput(f"unknown channel {channel!r}")
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)  # a time without an offset is read as UTC, like every stored time
    current = active(session, who)
    current_book = Playbook.from_yaml(current.source, version=f"{current.name}-{current.version}")
    draft = parse(session, source) if source is not None else current_book
    triage = triager.triage_batch([TriageInput(text=text, kind=kind, channel=channel or "",
                                               author_followers=followers, prior_messages=prior_messages)])[0]
    learned = {r.context: r for r in learning.compute(session, utcnow())}

    def route(book: Playbook) -> Decision:
        item = RouteInput(text=text, kind=kind, channel=channel or "", created_at=at or utcnow(), triage=triage,
                          author_followers=followers, author_vip=vip, prior_messages=prior_messages,
                          channel_kind=channel_kind)
        return learning.apply(book.route(item), item, learned)

    return DryRun(triage=triage.to_dict(), decision=_decision(route(draft)),
                  active_decision=_decision(route(current_book)),
                  active_version=current_book.version if current.id else "the packaged default")


def _next_version(session: Session) -> int:
    return (session.scalar(select(func.max(PlaybookRow.version))) or 0) + 1


def _insert(session: Session, name: str, source: str, by: str, note: str, active_now: bool) -> int:
    now = utcnow()
    values = {"name": name[:200], "version": _next_version(session), "source": source, "active": False,
              "updated_by": by, "updated_at": now, "note": note}
    new_id = session.execute(insert(PlaybookRow).values(**values).returning(PlaybookRow.id)).scalar_one()
    if active_now:
        session.execute(update(PlaybookRow).where(PlaybookRow.id == new_id)
                        .values(active=True, activated_at=now, activated_by=by))
    return new_id


def save(session: Session, who: Principal, source: str, note: str = "", activate: bool = False,
         ip: str | None = None) -> PlaybookOut:
    """Store a valid draft as the next version (inactive unless `activate`); audited."""
    require_editor(who)
    book = parse(session, source)
    note = (note or "").strip()[:2000]
    if session.scalar(select(func.count(PlaybookRow.id))) == 0:
        # The default routed until now: keep it as version 1, the one to roll back to.
        _insert(session, "default", DEFAULT_PLAYBOOK.read_text(encoding="utf-8"), "system",
                "the packaged default, as it routed before the first edit", active_now=True)
    new_id = _insert(session, book.name, source, who.label, note, active_now=False)
    row = session.get(PlaybookRow, new_id)
    audit.record(session, who, "playbook.save", f"playbook:{row.name}",
                 {"version": row.version, "note": note, "rules": len(book.rules),
                  "sla_policies": sorted(book.sla_policies)}, ip)
    if activate:
        return activate_version(session, who, new_id, ip)
    session.refresh(row)
    return PlaybookOut.model_validate(row)


def activate_version(session: Session, who: Principal, playbook_id: int, ip: str | None = None) -> PlaybookOut:
    """Make a stored version the one that routes (an older one: a rollback); audited. Workers and web
    nodes pick it up at their next generation check (routing/factory.py), without a restart."""
    require_editor(who)
    row = session.get(PlaybookRow, playbook_id)
    if row is None:
        raise NotFound(f"no playbook version {playbook_id}")
    # A version stored before a team was removed may not parse any more: refuse rather than route to nobody.
    parse(session, row.source)
    before = active_row(session)
    if before is not None and before.id == row.id:
        return PlaybookOut.model_validate(row)
    now = utcnow()
    session.execute(update(PlaybookRow).where(PlaybookRow.active.is_(True)).values(active=False))
    session.execute(update(PlaybookRow).where(PlaybookRow.id == row.id)
                    .values(active=True, activated_at=now, activated_by=who.label))
    rollback = before is not None and row.version < before.version
    audit.record(session, who, "playbook.rollback" if rollback else "playbook.activate", f"playbook:{row.name}",
                 {"version": row.version, "previous": before.version if before else None}, ip)
    session.refresh(row)
    return PlaybookOut.model_validate(row)
