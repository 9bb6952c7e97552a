"""An organization with something on every page, for the page-by-page browser checks (accessibility, phones,
keyboard): one person per role, open and closed cases, a reply and a post waiting for approval, an incident,
posts, notifications, the governance defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from onevoice.auth.models import User
from onevoice.auth.principal import SYSTEM
from onevoice.auth.users import principal_for
from onevoice.cases import actions
from onevoice.cases.models import Case, Incident
from onevoice.db import make_engine, make_sessionmaker, unit_of_work
from onevoice.desk import replies
from onevoice.governance import grants
from onevoice.governance.seed import seed_governance
from onevoice.posts.service import create_post
from tests.factories import message as _message
from tests.web.helpers import create_person

# Beside tests/web/helpers.PEOPLE (a responder per team, the coordinator Lee and the viewer Vic): the other roles.
MORE_PEOPLE = {
    "ada@acme.test": ("Ada Admin", "admin", []),
    "mia@acme.test": ("Mia Manager", "manager", ["support"]),
    "cai@acme.test": ("Cai Contributor", "contributor", ["product"]),
    "pia@acme.test": ("Pia Partner", "partner", ["marketing"]),
}
# One person per role: whose view of each page is checked.
ROLES = {"admin": "ada@acme.test", "coordinator": "lee@acme.test", "manager": "mia@acme.test",
         "responder": "sam@acme.test", "contributor": "cai@acme.test", "viewer": "vic@acme.test",
         "partner": "pia@acme.test"}


def message(minutes_ago: float = 1, **kw) -> dict:
    return _message(created_at=(datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat(), **kw)


TRAFFIC = [
    message(95, text="Love the new update, thanks team!", author="mira", followers=5400, channel="mast"),
    message(80, text="Do you ship to Canada? Looking at pricing for 40 seats", author="dev_ops_dan",
            channel="xcom"),
    message(600, text="The app is broken again after the update, terrible", author="kwame", channel="mast"),
    message(40, text="My lawyer will be in touch about this refund", author="j_smith", channel="mail"),
    message(30, text="Are you hiring designers in Berlin?", author="lea", channel="xcom"),
    message(460, text="Still waiting for my refund, three weeks now", author="oscar", channel="mail"),
    message(12, text="Is the blender covered by warranty if the lid cracked?", author="noor", channel="mail"),
    message(3, text="Package arrived broken, box crushed. Terrible packing", author="li.wei", channel="xcom"),
    message(2, text="Free followers giveaway, click here", author="spammy", channel="xcom"),
]


def build_world(server, settings) -> dict:
    """Feed the server and return the ids the checks visit: {"case": id, "legal_case": id, "closed_case": id}."""
    ids = [server.case_of(m) for m in server.post(*TRAFFIC)]
    by_text = dict(zip((m["text"] for m in TRAFFIC), ids, strict=True))
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            seed_governance(session)
            for email, (name, role, teams) in MORE_PEOPLE.items():
                create_person(session, email, name, role, teams)
            session.flush()
            grants.grant(session, SYSTEM, "pia@acme.test", "xcom")
            person = {u.email: principal_for(session, u) for u in session.scalars(select(User))}
            legal = by_text["My lawyer will be in touch about this refund"]
            # A reply held for Legal (the legal-risk rule), a post held for PR (partners are reviewed).
            replies.send_reply(session, person["sam@acme.test"], legal, "We are sorry. We guarantee a full refund.")
            create_post(session, person["pia@acme.test"], "Meet us at the Berlin fair, booth 12!", ["xcom"])
            create_post(session, person["lee@acme.test"], "Winter opening hours: 9:30 to 18:00.", ["mast"],
                        scheduled_at=datetime.now(UTC) + timedelta(days=1))
            closed = by_text["Free followers giveaway, click here"]
            actions.set_status(session, person["lee@acme.test"], closed, "closed_spam")
            incident = Incident(topic="checkout", status="open", summary="Negative messages about checkout: 12 "
                                "in the last hour (usually 1)", last_activity_at=datetime.now(UTC))
            session.add(incident)
            session.flush()
            broken = by_text["Package arrived broken, box crushed. Terrible packing"]
            session.get(Case, broken).incident_id = incident.id
            contact = session.get(Case, legal).contact_id
            from onevoice.privacy import retention  # a rule and a run on the retention page

            retention.set_rule(session, person["lee@acme.test"], "mast", "direct", 90)
            advocate = session.get(Case, by_text["Love the new update, thanks team!"]).contact_id
            _advocacy(session, person, advocate)
    finally:
        engine.dispose()
    return {"case": by_text["The app is broken again after the update, terrible"], "legal_case": legal,
            "closed_case": closed, "incident_case": broken, "advocate": advocate, "contact": contact}


def _advocacy(session, person: dict, advocate: int) -> None:
    """Advocacy's pages with something on them: a marked advocate, an item to share and one waiting, Cai ready
    to share with a click counted, and a linked handle with a post seen."""
    from onevoice.advocacy import service, sharing, voice
    from onevoice.advocacy.models import Share
    from onevoice.governance import policy
    from onevoice.governance.models import TrainingModule

    lee, cai = person["lee@acme.test"], person["cai@acme.test"]
    service.set_marks(session, lee, advocate, ["advocate", "vip"])
    item = sharing.create_item(session, lee, "Winter opening hours", "Open 9:30 to 18:00 all winter.",
                               "https://acme.example/hours", variants={"x": "Open 9:30-18:00 all winter"},
                               campaign="winter")
    sharing.create_item(session, lee, "Guarantee", "Every blender is guaranteed for five years.",
                        "https://acme.example/guarantee")  # a claim: held for Legal
    policy.acknowledge(session, cai, policy.current_version(session).id)
    for module_id in session.scalars(select(TrainingModule.id)):
        policy.complete_module(session, cai, module_id)
    sharing.share(session, cai, item.id, "x", "http://127.0.0.1")
    sharing.count_click(session, session.scalar(select(Share.id)))
    voice.link_handle(session, cai, "sandbox", "@cai")
