"""Notifications for people and teams: @mentions in notes, hand-offs, approvals waiting."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from onevoice.auth.principal import Principal
from onevoice.cases.access import partner_case_conditions
from onevoice.cases.models import Case
from onevoice.cases.partner_view import shown_as
from onevoice.db import utcnow
from onevoice.inbox.models import Notification


def notify_team(session: Session, team_id: int, case_id: int | None, kind: str, actor: str, text: str,
                links: list[dict] | None = None) -> None:
    session.add(Notification(team_id=team_id, case_id=case_id, kind=kind, actor=actor, text=text[:2000],
                             links=_kept(links)))


def notify_user(session: Session, user_id: int, case_id: int | None, kind: str, actor: str, text: str,
                links: list[dict] | None = None) -> None:
    """`links`: [{"label", "href"}] shown with the text; an href that is not a path on this site is dropped (the
    page puts them in `href` as they are, so nothing may lead elsewhere or run script)."""
    session.add(Notification(user_id=user_id, case_id=case_id, kind=kind, actor=actor, text=text[:2000],
                             links=_kept(links)))


def _kept(links: list[dict] | None) -> list[dict] | None:
    kept = [{"label": str(link["label"])[:80], "href": link["href"]} for link in links or ()
            if isinstance(link.get("href"), str) and local_path(link["href"])]
    return kept or None


def local_path(href: str) -> bool:
    """A path on this site: "/..." but not "//host" (another site) nor "/\\host" (read as one by browsers)."""
    return len(href) <= 1000 and href.startswith("/") and not href.startswith(("//", "/\\")) \
        and not any(c in href for c in "\"'<> \r\n\t")


def recent_for(session: Session, who: Principal, limit: int = 20) -> list[dict]:
    """This person's notifications and their teams', newest first."""
    conds = [Notification.user_id == (who.user_id or -1)]
    if who.team_ids:
        team = Notification.team_id.in_(who.team_ids)
        if who.by_grant:  # a partner hears about their teams' cases only within their grant
            grant = select(Case.id).where(*partner_case_conditions(who))
            team = and_(team, or_(Notification.case_id.is_(None), Notification.case_id.in_(grant)))
        conds.append(team)
    rows = list(session.scalars(select(Notification).where(or_(*conds)).order_by(Notification.id.desc())
                                .limit(limit)))
    # A partner reads who sent it by name, never the address (cases.partner_view).
    shown = shown_as(session, {n.actor for n in rows}) if who.by_grant else {}
    return [{"id": n.id, "kind": n.kind, "case_id": n.case_id, "actor": shown.get(n.actor, n.actor), "text": n.text,
             "links": n.links or [], "at": n.created_at, "unread": n.read_at is None and n.user_id is not None}
            for n in rows]


def unread_count(session: Session, user_id: int, cap: int = 99) -> int:
    """Personal notifications not read yet, up to `cap` (one range of ix_notifications_user)."""
    q = select(Notification.id).where(Notification.user_id == user_id, Notification.read_at.is_(None)).limit(cap)
    return session.scalar(select(func.count()).select_from(q.subquery())) or 0


def mark_read(session: Session, who: Principal) -> None:
    session.execute(update(Notification).where(Notification.user_id == (who.user_id or -1),
                                               Notification.read_at.is_(None)).values(read_at=utcnow()))
