"""Normalize: find or create the contact behind each author, on every channel they use."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from onevoice.contacts.models import Contact, ContactIdentity
from onevoice.db import chunks
from onevoice.pipeline.rows import insert_ids


@dataclass(slots=True, eq=False)
class ContactRow:
    """What processing needs of a contact; `placed` counts this batch's messages, written back at the end."""

    id: int | None
    vip: bool = False
    message_count: int = 0
    marks: tuple[str, ...] = ()
    placed: int = 0


def author_key(m) -> tuple[int, str]:
    """A message's key in resolve_contacts' answer: (its channel, its author's platform id)."""
    return m.channel_id, m.author["external_id"]


def resolve_contacts(session: Session, messages: list, channel_kinds: dict[int, str] | None = None,
                     write: bool = True) -> dict[tuple[int, str], ContactRow]:
    """Map (channel_id, author external id) -> contact, creating what is new.

    `write=False` only reads (the processor's look-ahead outside the write lock): a new author's contact
    is not created and gets a temporary negative id, distinct per contact.

    A platform's author id is unique across that platform, so an author already known on another of
    our channels of the same kind (two Mastodon accounts, say) is the same contact. Profile fields
    (handle, name, followers) follow the newest message, so reach stays current.
    """
    latest: dict[tuple[int, str], dict] = {}
    for m in messages:
        latest[author_key(m)] = m.author
    if not latest:
        return {}
    kinds = channel_kinds or {}
    found = _known_identities(session, list(latest), kinds)
    # The contact already known for (platform, author id), on whichever of our channels: the oldest identity.
    by_platform: dict[tuple[str, str], object] = {}
    for ident in sorted(found.values(), key=lambda r: r.id):
        by_platform.setdefault((kinds.get(ident.channel_id, "?"), ident.external_id), ident)
    rows: dict[int, ContactRow] = {}

    def known(ident) -> ContactRow:
        if ident.contact_id not in rows:
            rows[ident.contact_id] = ContactRow(ident.contact_id, bool(ident.vip), ident.message_count or 0,
                                                tuple(ident.marks or ()))
        return rows[ident.contact_id]

    result: dict[tuple[int, str], ContactRow] = {}
    new_contacts: list[tuple[ContactRow, dict]] = []
    new_identities: list[tuple[tuple[int, str], ContactRow]] = []
    ident_updates: list[dict] = []
    reach: list[dict] = []
    batch_new: dict[tuple[str, str], ContactRow] = {}
    for key, author in latest.items():
        ident = found.get(key)
        followers = author.get("followers", 0) or 0
        if ident is None:
            platform_key = (kinds.get(key[0], "?"), key[1])
            sibling = by_platform.get(platform_key) if key[0] in kinds else None
            if sibling is not None:
                contact = known(sibling)
            elif platform_key in batch_new:
                contact = batch_new[platform_key]
            else:
                contact = ContactRow(None)
                batch_new[platform_key] = contact
                new_contacts.append((contact, author))
            new_identities.append((key, contact))
            result[key] = contact
            continue
        result[key] = known(ident)
        handle, name = author.get("handle") or ident.handle, author.get("name") or ident.name
        if (handle, name, followers) != (ident.handle, ident.name, ident.followers):
            ident_updates.append({"iid": ident.id, "h": handle, "n": name, "f": followers})
            if followers != ident.followers:
                reach.append({"cid": ident.contact_id, "f": followers})
    if write:
        _write(session, latest, new_contacts, new_identities, ident_updates, reach)
    else:
        for n, (contact, _author) in enumerate(new_contacts, 1):
            contact.id = -n
    return result


def _known_identities(session: Session, keys: list[tuple[int, str]], kinds: dict[int, str]) -> dict:
    """Identities (with their contact's fields) for these pairs and the same author on same-kind channels.

    Asked by (channel_id, external_id) pairs so the unique index answers; there is no index on the
    author id alone.
    """
    by_kind: dict[str, list[int]] = {}
    for cid, kind in kinds.items():
        by_kind.setdefault(kind, []).append(cid)
    wanted = set(keys)
    for channel_id, ext in keys:
        if channel_id in kinds:
            wanted.update((other, ext) for other in by_kind[kinds[channel_id]])
    ci, c = ContactIdentity.__table__.c, Contact.__table__.c
    query = select(ci.id, ci.channel_id, ci.external_id, ci.contact_id, ci.handle, ci.name, ci.followers,
                   c.vip, c.message_count, c.marks).join_from(ContactIdentity, Contact, c.id == ci.contact_id)
    found = {}
    channel_ids = list({channel_id for channel_id, _ in wanted})
    for chunk in chunks(list({ext for _, ext in wanted})):
        # Two plain IN lists bind far fewer values than a list of pairs, and the unique index
        # (channel_id, external_id) still answers; the exact pairs are picked here.
        for row in session.execute(query.where(ci.channel_id.in_(channel_ids), ci.external_id.in_(chunk))):
            if (row.channel_id, row.external_id) in wanted:
                found[(row.channel_id, row.external_id)] = row
    return found


def _write(session: Session, latest: dict, new_contacts: list, new_identities: list, ident_updates: list,
           reach: list) -> None:
    ids = insert_ids(session, Contact.__table__, [
        {"name": a.get("name"), "handle": a.get("handle"), "followers": a.get("followers", 0) or 0,
         "message_count": 0} for _, a in new_contacts])
    for (contact, _), cid in zip(new_contacts, ids, strict=True):
        contact.id = cid
    if new_identities:
        session.execute(ContactIdentity.__table__.insert(), [
            {"contact_id": contact.id, "channel_id": key[0], "external_id": key[1],
             "handle": latest[key].get("handle"), "name": latest[key].get("name"),
             "followers": latest[key].get("followers", 0) or 0}
            for key, contact in new_identities])
    if ident_updates:
        ci = ContactIdentity.__table__
        session.execute(update(ci).where(ci.c.id == bindparam("iid"))
                        .values(handle=bindparam("h"), name=bindparam("n"), followers=bindparam("f")),
                        ident_updates)
    if reach:
        # A contact's reach follows its identities' upwards, never down.
        c = Contact.__table__
        session.execute(update(c).where(c.c.id == bindparam("cid"), c.c.followers < bindparam("f"))
                        .values(followers=bindparam("f")), reach)
