"""Demo people and library: a responder per team (Support, the busiest, has two), a coordinator, and a few
approved answers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.auth.models import User
from onevoice.auth.principal import SYSTEM
from onevoice.auth.users import create_user
from onevoice.library import service as library
from onevoice.library.models import Answer

NAMES = {"support": "Sam Rivera", "pr": "Priya Shah", "marketing": "Maya Chen", "sales": "Sal Okafor",
         "product": "Pat Lindqvist", "legal": "Lena Brandt", "hr": "Hana Ito", "it": "Ivan Petrov"}
# More responders for a team, as `{team}-{n}@`: so that the reports' load per person compares people.
MORE = {"support": ("Jo Park",)}
ANSWERS = [
    ("Order delayed: apology and next step", "answer", "shipping, delay",
     "Hi {{first_name}}, I'm sorry your order is late. I've checked it and sent you a direct message with the "
     "tracking details. We'll make this right. {{agent_first_name}}"),
    ("Move to direct messages", "answer", "privacy",
     "Hi {{first_name}}, thanks for reaching out. To protect your details, could you send us a direct message "
     "with your order number? We'll take it from there."),
    ("Thanks for the kind words", "answer", "praise",
     "Thank you so much, {{first_name}}! We've shared this with the team. It made our day."),
    ("Outage: we're on it (key message)", "key_message", "incident",
     "We know some customers can't reach the service right now. Our engineers are working on it and we'll post "
     "updates here every 30 minutes. We're sorry for the disruption."),
    ("Press inquiries", "key_message", "press",
     "Thanks for getting in touch. Our communications team will reply by email within one business day."),
]


def seed_people(session: Session, teams: dict[str, str], password: str, domain: str) -> None:
    """Create what is missing; safe on every start."""
    existing = set(session.scalars(select(User.email)))
    lead = f"lead@{domain}"
    if lead not in existing:
        create_user(session, lead, "Lee Coordinator", password, "coordinator", list(teams))
    # The reports' two audiences: Support's line manager and an executive (reads every report, no case); and an
    # administrator, the one role that connects the organization's accounts and erases a person's data.
    for email, name, role, own in ((f"manager@{domain}", "Mia Manager", "manager", ["support"]),
                                   (f"exec@{domain}", "Eve Executive", "executive", []),
                                   (f"admin@{domain}", "Ada Admin", "admin", [])):
        if email not in existing:
            create_user(session, email, name, password, role, own)
    for key in teams:
        email = f"{key}@{domain}"
        if email not in existing:
            create_user(session, email, NAMES.get(key, key.title()), password, "responder", [key])
        for n, name in enumerate(MORE.get(key, ()), start=2):
            if f"{key}-{n}@{domain}" not in existing:
                create_user(session, f"{key}-{n}@{domain}", name, password, "responder", [key])
    if session.scalar(select(Answer.id).limit(1)) is None:
        for title, kind, tags, body in ANSWERS:
            library.create(session, SYSTEM, title, body, kind, tags)
