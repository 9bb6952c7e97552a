"""Every query of advocacy: customers' histories, items, shares and clicks, settings, linked handles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from onevoice.advocacy.models import AdvocacySetting, LinkedHandle, Share, ShareableItem, ShareClick, VoiceSighting
from onevoice.advocacy.ranking import Signal, recommends
from onevoice.auth.models import User, UserTeam
from onevoice.cases.models import Case
from onevoice.channels.models import Channel
from onevoice.contacts.models import Contact, ContactIdentity
from onevoice.messages.models import Message
from onevoice.teams.models import Team

# --- customers -------------------------------------------------------------------------------------------


def histories(session: Session, since: datetime, contact_ids: list[int] | None = None) -> dict:
    """contact id -> (signals, followers) from their inbound messages since `since` (every identity of the
    contact: messages carry the contact's id whichever channel they came on). Only the columns needed."""
    q = (select(Message.contact_id, Message.created_at, Message.triage, Message.text)
         .where(Message.direction == "inbound", Message.contact_id.is_not(None), Message.status == "processed",
                Message.deleted_at.is_(None), Message.created_at >= since))
    if contact_ids is not None:
        q = q.where(Message.contact_id.in_(contact_ids or [-1]))
    out: dict[int, tuple[list[Signal], int]] = {}
    for contact_id, at, triage, text in session.execute(q):
        t = triage or {}
        out.setdefault(contact_id, ([], 0))[0].append(Signal(
            at=at, sentiment=str(t.get("sentiment") or "neutral"), intent=t.get("intent"),
            recommendation=recommends(text), complaint=bool(t.get("complaint"))))
    if out:
        followers = dict(session.execute(select(Contact.id, Contact.followers).where(Contact.id.in_(list(out)))).all())
        out = {cid: (signals, followers.get(cid, 0) or 0) for cid, (signals, _f) in out.items()}
    return out


def contacts_by_id(session: Session, ids: list[int]) -> dict[int, Contact]:
    if not ids:
        return {}
    return {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(ids)))}


def marked_contact_ids(session: Session) -> list[int]:
    """Contacts with a mark or on the VIP list. The JSON column is compared as text ('[]' when unmarked), which
    reads the same on SQLite and PostgreSQL; the marks themselves are checked in Python."""
    rows = session.execute(select(Contact.id, Contact.marks, Contact.vip).where(
        Contact.vip.is_(True) | (cast(Contact.marks, Text) != "[]")))
    return [cid for cid, marks, vip in rows if vip or marks]


def identities(session: Session, contact_id: int) -> list[dict]:
    rows = session.execute(select(ContactIdentity, Channel.key, Channel.kind)
                           .join(Channel, Channel.id == ContactIdentity.channel_id)
                           .where(ContactIdentity.contact_id == contact_id).order_by(ContactIdentity.id))
    return [{"channel": key, "kind": kind, "handle": i.handle, "name": i.name, "external_id": i.external_id,
             "followers": i.followers} for i, key, kind in rows]


def recent_messages(session: Session, contact_id: int, limit: int = 50) -> list[Message]:
    return list(session.scalars(select(Message).where(Message.contact_id == contact_id,
                                                      Message.direction == "inbound")
                                .order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)))


def contact_cases(session: Session, contact_id: int, limit: int = 50) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.contact_id == contact_id)
                                .order_by(Case.last_message_at.desc(), Case.id.desc()).limit(limit)))


def channel_keys(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Channel.id, Channel.key)).all())


def channel_kinds(session: Session) -> list[str]:
    return sorted(set(session.scalars(select(Channel.kind).where(Channel.enabled.is_(True)))))


# --- items, shares, clicks -------------------------------------------------------------------------------

def items(session: Session, statuses: tuple[str, ...] | None = None, limit: int = 200) -> list[ShareableItem]:
    q = select(ShareableItem).order_by(ShareableItem.id.desc()).limit(limit)
    if statuses:
        q = q.where(ShareableItem.status.in_(statuses))
    return list(session.scalars(q))


def share_for(session: Session, item_id: int, user_id: int, network: str) -> Share | None:
    return session.scalar(select(Share).where(Share.item_id == item_id, Share.user_id == user_id,
                                              Share.network == network))


def share_by_code(session: Session, code: str) -> Share | None:
    return session.scalar(select(Share).where(Share.code == code))


def my_shares(session: Session, user_id: int) -> dict[tuple[int, str], Share]:
    return {(s.item_id, s.network): s for s in session.scalars(select(Share).where(Share.user_id == user_id))}


def click_counts(session: Session, share_ids: list[int] | None = None, since: datetime | None = None) -> dict[int, int]:
    q = select(ShareClick.share_id, func.count()).group_by(ShareClick.share_id)
    if share_ids is not None:
        q = q.where(ShareClick.share_id.in_(share_ids or [-1]))
    if since is not None:
        q = q.where(ShareClick.at >= since)
    return dict(session.execute(q).all())


def recent_clicks(session: Session, share_id: int, since: datetime) -> int:
    return session.scalar(select(func.count()).select_from(ShareClick)
                          .where(ShareClick.share_id == share_id, ShareClick.at >= since)) or 0


def all_shares(session: Session, since: datetime | None = None) -> list[Share]:
    q = select(Share)
    if since is not None:
        q = q.where(Share.last_shared_at >= since)
    return list(session.scalars(q))


def users_with_teams(session: Session, user_ids: set[int] | None = None) -> dict[int, tuple[User, list[str]]]:
    q = select(User)
    if user_ids is not None:
        q = q.where(User.id.in_(user_ids or {-1}))
    users = {u.id: u for u in session.scalars(q)}
    teams: dict[int, list[str]] = {}
    for uid, key in session.execute(select(UserTeam.user_id, Team.key).join(Team, Team.id == UserTeam.team_id)
                                    .where(UserTeam.user_id.in_(list(users) or [-1]))):
        teams.setdefault(uid, []).append(key)
    return {uid: (u, sorted(teams.get(uid, []))) for uid, u in users.items()}


def team_ids_by_key(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Team.key, Team.id)).all())


# --- settings --------------------------------------------------------------------------------------------

def setting(session: Session, key: str) -> AdvocacySetting | None:
    return session.get(AdvocacySetting, key)


# --- linked handles and what was seen --------------------------------------------------------------------

def active_handles(session: Session, user_id: int | None = None) -> list[LinkedHandle]:
    q = select(LinkedHandle).where(LinkedHandle.revoked_at.is_(None)).order_by(LinkedHandle.id)
    if user_id is not None:
        q = q.where(LinkedHandle.user_id == user_id)
    return list(session.scalars(q))


def handles_of(session: Session, user_id: int) -> list[LinkedHandle]:
    return list(session.scalars(select(LinkedHandle).where(LinkedHandle.user_id == user_id)
                                .order_by(LinkedHandle.id.desc())))


def sightings(session: Session, user_id: int | None = None, limit: int = 200) -> list[tuple]:
    q = (select(VoiceSighting, Message, LinkedHandle).join(Message, Message.id == VoiceSighting.message_id)
         .join(LinkedHandle, LinkedHandle.id == VoiceSighting.handle_id)
         .order_by(VoiceSighting.id.desc()).limit(limit))
    if user_id is not None:
        q = q.where(VoiceSighting.user_id == user_id)
    return list(session.execute(q).all())


def followers_of_handles(session: Session, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """(network, handle) -> the largest follower count our channels saw for that handle (reach of a linked
    employee, when they ever wrote to us there)."""
    if not pairs:
        return {}
    handles = {h for _n, h in pairs}
    out: dict[tuple[str, str], int] = {}
    rows = session.execute(select(Channel.kind, ContactIdentity.handle, ContactIdentity.followers)
                           .join(Channel, Channel.id == ContactIdentity.channel_id)
                           .where(func.lower(ContactIdentity.handle).in_(
                               [h for h in handles] + ["@" + h for h in handles])))
    for kind, handle, followers in rows:
        key = (kind, (handle or "").lower().lstrip("@"))
        out[key] = max(out.get(key, 0), followers or 0)
    return out
