"""The demo organization: teams, sandbox channels, and an API token to try the API with."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.auth.principal import SYSTEM
from onevoice.auth.tokens import create_token
from onevoice.channels.models import Channel
from onevoice.channels.service import add_channel
from onevoice.demo.advocacy import seed_advocacy
from onevoice.demo.notifications import seed_notifications
from onevoice.demo.objectives import seed_objectives
from onevoice.demo.people import seed_people
from onevoice.governance.seed import seed_governance
from onevoice.teams.models import Team
from onevoice.teams.service import add_team
from onevoice.triage.models import Product
from onevoice.triage.vocabulary import save_entry

TEAMS = {
    "support": "Customer Support", "pr": "PR & Communications", "marketing": "Marketing & Community",
    "sales": "Sales", "product": "Product", "legal": "Legal & Compliance", "hr": "Recruiting & HR",
    "it": "IT & Security",
}
CHANNELS = {
    "sandbox-mastodon": ("Acme on Mastodon (simulated)", "marketing"),
    "sandbox-x": ("@acme on X (simulated)", "marketing"),
    "sandbox-mail": ("support@acme.example (simulated)", "support"),
    "sandbox-reviews": ("App store reviews (simulated)", "product"),
}

# The products the simulated customers talk about (connectors/sandbox/traffic.py, demo/history.py): known to
# triage, so messages carry them and the reports' product filter and breakdown have something to show.
CATALOG = {
    "nimbus-router": ("Nimbus Router", []), "nimbus-cloud": ("Nimbus Cloud", []),
    "aero-phone-5": ("Aero Phone 5", ["Aero Phone"]), "aero-buds": ("Aero Buds", []),
    "smarthome-hub": ("SmartHome Hub", ["Smart Home Hub"]), "boiler-x2": ("Boiler X2", ["Boiler X2 app"]),
}

DEMO_PASSWORD = "onevoice-demo"
DEMO_DOMAIN = "demo.onevoice.test"


def seed_demo(session: Session) -> str:
    """Create what is missing (safe to run on every start) and return a fresh API token."""
    existing = set(session.scalars(select(Team.key)))
    for key, name in TEAMS.items():
        if key not in existing:
            add_team(session, key, name)
    channels = set(session.scalars(select(Channel.key)))
    for seed, (key, (name, owner)) in enumerate(CHANNELS.items(), start=7):
        if key not in channels:
            # One message per channel a minute (four a minute in all): the inbox stays alive without burying
            # the sixty days of history the reports show (the sandbox's default, every 3 s, made 80 a minute).
            add_channel(session, key, "sandbox", name, {"batch_size": 1, "seed": seed, "poll_interval": 60},
                        owner_team=owner)

    seed_people(session, TEAMS, DEMO_PASSWORD, DEMO_DOMAIN)
    if not session.scalar(select(Product.id).limit(1)):  # first start only: the catalog is the organization's
        for key, (name, aliases) in CATALOG.items():
            save_entry(session, SYSTEM, key, name, kind="product", aliases=aliases)

    seed_governance(session)
    seed_advocacy(session, DEMO_DOMAIN)
    seed_notifications(session, DEMO_DOMAIN)
    seed_objectives(session, DEMO_DOMAIN)
    _token, plaintext = create_token(session, "demo")
    return plaintext
