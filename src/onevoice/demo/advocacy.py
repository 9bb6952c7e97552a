"""The demo's advocacy: customers with a history (two advocates, one on two channels, a detractor, one who
turned), marks, and a few shareable items (one waiting for Legal). Created once; safe on every start.

The customers' messages go through intake like any other, so the demo's worker triages, routes and threads
them at start; their contacts exist beforehand (with the marks) and the messages join them by author id.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onevoice.advocacy import sharing
from onevoice.advocacy.models import ShareableItem
from onevoice.auth.models import User
from onevoice.auth.users import principal_for
from onevoice.channels.models import Channel
from onevoice.contacts.models import Contact, ContactIdentity
from onevoice.db import utcnow
from onevoice.pipeline.intake import accept_batch

# name, handle, followers, marks, [(channel, text, days ago)]
CUSTOMERS = [
    ("Mira Okonkwo", "@mira", 5400, ["advocate", "vip"], [
        ("sandbox-mastodon", "Love the new Acme app, I highly recommend it to every small shop", 3),
        ("sandbox-x", "Third time @acme support sorted me out in minutes. Best support team, check them out", 12)]),
    ("Tom Reyes", "@tomr", 320, [], [
        ("sandbox-x", "thanks @acme, the new checkout is so much faster, love it", 6),
        ("sandbox-reviews", "Five stars. You should try it if you run a cafe.", 20)]),
    ("Jana Novak", "@jnovak", 1200, ["detractor_watch"], [
        ("sandbox-x", "@acme my order arrived broken AGAIN, this is terrible", 2),
        ("sandbox-mail", "Still waiting for the refund for the broken blender. Three weeks now.", 5)]),
    ("Oskar Lind", "@oskar", 860, [], [
        ("sandbox-mastodon", "I highly recommend Acme, great blender", 60),
        ("sandbox-mastodon", "@acme the lid cracked after a week and support never answered. terrible", 4),
        ("sandbox-x", "never again, do not recommend @acme, the app is broken", 1)]),
]
ITEMS = [
    ("Winter opening hours", "We are open 9:30 to 18:00 all winter, weekends included.",
     "https://acme.example/hours", "winter", {"x": "Open 9:30-18:00 all winter, weekends too"}),
    ("Meet the team behind the new app", "Six months, forty cafes and a lot of coffee: how we built the new app.",
     "https://acme.example/blog/new-app", "app-launch", {}),
    ("Five-year blender guarantee", "Every Acme blender is now guaranteed for five years.",
     "https://acme.example/guarantee", "guarantee", {}),  # a claim: waits for Legal
]


def seed_advocacy(session: Session, domain: str) -> None:
    if session.scalar(select(func.count()).select_from(ShareableItem)):
        return
    lead = session.scalar(select(User).where(User.email == f"lead@{domain}"))
    if lead is None:
        return
    channels = dict(session.execute(select(Channel.key, Channel.id)).all())
    now = utcnow()
    messages = []
    for n, (name, handle, followers, marks, history) in enumerate(CUSTOMERS):
        contact = Contact(name=name, handle=handle, followers=followers, marks=[m for m in marks if m != "vip"],
                          vip="vip" in marks)
        session.add(contact)
        session.flush()
        for key in sorted({c for c, _t, _d in history}):
            session.add(ContactIdentity(contact_id=contact.id, channel_id=channels[key], external_id=f"demo-adv-{n}",
                                        handle=handle, name=name, followers=followers))
        for i, (key, text, days) in enumerate(history):
            messages.append({"channel": key, "external_id": f"demo-adv-{n}-{i}", "kind": "mention", "text": text,
                             "author": {"external_id": f"demo-adv-{n}", "handle": handle, "name": name,
                                        "followers": followers},
                             "created_at": (now - timedelta(days=days)).isoformat()})
    session.flush()
    accept_batch(session, messages)
    who = principal_for(session, lead)
    for title, text, link, campaign, variants in ITEMS:
        sharing.create_item(session, who, title, text, link, variants=variants, campaign=campaign)
