"""Normalize: find or create the contact behind each author, on every channel they use."""

from __future__ import annotations

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from onevoice.contacts.models import Contact, ContactIdentity


def resolve_contacts(session: Session, messages: list,
                     channel_kinds: dict[int, str] | None = None) -> dict[tuple[int, str], Contact]:
    """Map (channel_id, author external id) -> Contact, creating what is new.

    A platform's author id is unique across that platform, so an author already known on another of
    our channels of the same kind (two Mastodon accounts, say) is the same contact. Profile fields
    (handle, name, followers) follow the newest message, so reach stays current.
    """
    latest: dict[tuple[int, str], dict] = {}
    for m in messages:
        latest[(m.channel_id, m.author["external_id"])] = m.author
    if not latest:
        return {}
    keys = list(latest)
    found: dict[tuple[int, str], ContactIdentity] = {}
    for start in range(0, len(keys), 400):
        chunk = keys[start:start + 400]
        for ident in session.scalars(
            select(ContactIdentity).where(tuple_(ContactIdentity.channel_id, ContactIdentity.external_id).in_(chunk))
        ):
            found[(ident.channel_id, ident.external_id)] = ident
    contacts_by_id = {c.id: c for c in session.scalars(
        select(Contact).where(Contact.id.in_({i.contact_id for i in found.values()}))
    )} if found else {}
    result: dict[tuple[int, str], Contact] = {}
    new_pairs: list[tuple[tuple[int, str], Contact]] = []
    batch_new: dict[tuple[str, str], Contact] = {}
    siblings = _same_platform(session, [k for k in keys if k not in found], channel_kinds or {})
    for key, author in latest.items():
        ident = found.get(key)
        followers = author.get("followers", 0) or 0
        platform_key = ((channel_kinds or {}).get(key[0], "?"), key[1])
        if ident is None and (key in siblings or platform_key in batch_new):
            contact = siblings.get(key) or batch_new[platform_key]
            result[key] = contact
            new_pairs.append((key, contact))
            continue
        if ident is None:
            contact = Contact(name=author.get("name"), handle=author.get("handle"), followers=followers,
                              message_count=0)
            session.add(contact)
            batch_new[platform_key] = contact
            new_pairs.append((key, contact))
            result[key] = contact
            continue
        contact = contacts_by_id[ident.contact_id]
        result[key] = contact
        if author.get("handle") and ident.handle != author.get("handle"):
            ident.handle = author["handle"]
        if author.get("name") and ident.name != author.get("name"):
            ident.name = author["name"]
        if followers != ident.followers:
            ident.followers = followers
            contact.followers = max(contact.followers, followers)
    if new_pairs:
        session.flush()
        session.add_all([
            ContactIdentity(contact_id=contact.id, channel_id=key[0], external_id=key[1],
                            handle=latest[key].get("handle"), name=latest[key].get("name"),
                            followers=latest[key].get("followers", 0) or 0)
            for key, contact in new_pairs
        ])
    return result


def _same_platform(session: Session, keys: list[tuple[int, str]],
                   channel_kinds: dict[int, str]) -> dict[tuple[int, str], Contact]:
    """New (channel, author) pairs whose author is already known on a channel of the same kind."""
    if not keys or not channel_kinds:
        return {}
    by_kind: dict[str, list[int]] = {}
    for cid, kind in channel_kinds.items():
        by_kind.setdefault(kind, []).append(cid)
    wanted = {ext for _, ext in keys}
    known: dict[tuple[str, str], int] = {}
    ext_list = list(wanted)
    for start in range(0, len(ext_list), 400):
        for channel_id, ext, contact_id in session.execute(
            select(ContactIdentity.channel_id, ContactIdentity.external_id, ContactIdentity.contact_id)
            .where(ContactIdentity.external_id.in_(ext_list[start:start + 400]))
        ):
            known.setdefault((channel_kinds.get(channel_id, "?"), ext), contact_id)
    matches = {(channel_id, ext): known.get((channel_kinds.get(channel_id, "?"), ext)) for channel_id, ext in keys}
    wanted_ids = {cid for cid in matches.values() if cid is not None}
    if not wanted_ids:
        return {}
    contacts = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(wanted_ids)))}
    return {key: contacts[cid] for key, cid in matches.items() if cid is not None}
