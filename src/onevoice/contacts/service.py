"""Contacts: one customer across every channel they use."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onevoice.channels.models import Channel
from onevoice.contacts.models import Contact, ContactIdentity
from onevoice.contacts.names import display_name, shows_something
from onevoice.contacts.schemas import ContactOut, IdentityOut
from onevoice.db import Base
from onevoice.errors import InvalidInput, NotFound
from onevoice.events.models import Event


def get_contact(session: Session, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"no contact with id {contact_id}")
    return contact


def _contact_columns():
    """Every column that points at a contact: identities here, and the messages, cases and conversations of the
    features above (their tables are in the metadata of any process, which loads every model at start-up;
    asking the metadata keeps this package from importing theirs, and covers a new table without a change)."""
    return [fk.parent for table in Base.metadata.sorted_tables for fk in table.foreign_keys
            if fk.column.table.name == Contact.__tablename__ and fk.parent.table.name != Contact.__tablename__]


def link_contacts(session: Session, keep_id: int, merge_id: int, actor: str = "system") -> Contact:
    """The same person on two platforms: move every identity, message and case of `merge_id` to `keep_id`."""
    if keep_id == merge_id:
        raise InvalidInput("a contact cannot be linked to itself")
    keep, merged = get_contact(session, keep_id), get_contact(session, merge_id)
    for column in _contact_columns():
        session.execute(update(column.table).where(column == merged.id).values({column.name: keep.id}))
    keep.message_count = (keep.message_count or 0) + (merged.message_count or 0)
    keep.followers = max(keep.followers or 0, merged.followers or 0)
    keep.vip = keep.vip or merged.vip
    keep.marks = sorted(set(keep.marks or []) | set(merged.marks or []))  # a mark on either identity stays
    keep.first_seen_at = min(keep.first_seen_at, merged.first_seen_at)
    keep.last_seen_at = max(keep.last_seen_at, merged.last_seen_at)
    keep.name = keep.name or merged.name
    session.add(Event(kind="contact.linked", actor=actor,
                      data={"kept": keep.id, "merged": merged.id, "merged_name": merged.name}))
    session.flush()
    # Reload both: the identities moved by the bulk update above, which the loaded objects do not know.
    session.expire(keep)
    session.expire(merged)
    session.delete(merged)
    session.flush()
    return keep


def describe(session: Session, contact: Contact) -> ContactOut:
    """The contact as the API shows it: its identities with their channels' keys, and its display name."""
    channels = dict(session.execute(select(Channel.id, Channel.key)).all())
    identities = list(session.scalars(select(ContactIdentity).where(ContactIdentity.contact_id == contact.id)
                                      .order_by(ContactIdentity.id)))
    return ContactOut(
        id=contact.id, name=contact.name, handle=contact.handle, followers=contact.followers,
        display_name=display_name(contact.name, contact.handle, *(i.external_id for i in identities[:1])),
        vip=contact.vip, message_count=contact.message_count,
        identities=[IdentityOut(channel=channels.get(i.channel_id), external_id=i.external_id, handle=i.handle)
                    for i in identities])


def display_names(session: Session, contacts: list) -> dict[int, str]:
    """contact id -> display name, for rows with `id`, `name` and `handle`. A contact with neither name nor
    handle is named by its first identity's platform id (one query, only when some contact needs it)."""
    unnamed = [c.id for c in contacts if not shows_something(c.name) and not shows_something(c.handle)]
    first_ids: dict[int, str] = {}
    if unnamed:
        for contact_id, external_id in session.execute(
                select(ContactIdentity.contact_id, ContactIdentity.external_id)
                .where(ContactIdentity.contact_id.in_(unnamed)).order_by(ContactIdentity.id)):
            first_ids.setdefault(contact_id, external_id)
    return {c.id: display_name(c.name, c.handle, first_ids.get(c.id)) for c in contacts}
