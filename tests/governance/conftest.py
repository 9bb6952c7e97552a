from __future__ import annotations

from functools import lru_cache

import pytest
from sqlalchemy import select

from onevoice.auth.passwords import hash_password
from onevoice.auth.principal import Principal
from onevoice.auth.users import create_user, principal_for
from onevoice.cases.models import Case
from onevoice.channels.models import Channel
from onevoice.db import unit_of_work
from tests.factories import seed_org

PEOPLE = {
    "ada@acme.test": ("Ada Admin", "admin", []),
    "lee@acme.test": ("Lee Coordinator", "coordinator", ["support", "pr"]),
    "mia@acme.test": ("Mia Manager", "manager", ["support"]),
    "sam@acme.test": ("Sam Rivera", "responder", ["support"]),
    "lena@acme.test": ("Lena Brandt", "responder", ["legal"]),
    "pia@acme.test": ("Pia Partner", "partner", ["marketing"]),
    "vic@acme.test": ("Vic Viewer", "viewer", ["support"]),
    "cai@acme.test": ("Cai Contributor", "contributor", ["product"]),
    "eve@acme.test": ("Eve Executive", "executive", []),  # reads every report, no case (reports/)
}
PASSWORD = "correct-horse-battery"


@lru_cache(maxsize=1)
def password_hash() -> str:
    # argon2 costs most of a second here: hash once and give every test person the same (salted) hash.
    return hash_password(PASSWORD)


@pytest.fixture
def org(session_factory) -> dict[str, Principal]:
    """The demo teams, three channels (x, mastodon, email kinds) and one person per role, as principals."""
    seed_org(session_factory, channels=())
    with unit_of_work(session_factory) as session:
        from onevoice.channels.service import add_channel

        add_channel(session, "xcom", "sandbox", "X")
        add_channel(session, "mast", "sandbox", "Mastodon")
        # The guard looks at the connector kind; sandbox channels stand in for real ones in tests.
        for key, kind in (("xcom", "x"), ("mast", "mastodon")):
            session.scalar(select(Channel).where(Channel.key == key)).kind = kind
        people = {}
        for email, (name, role, teams) in PEOPLE.items():
            user = create_user(session, email, name, None, role, teams)
            user.password_hash = password_hash()
            people[email.split("@")[0]] = principal_for(session, user)
    return people


def make_case(session, channel="xcom", intent="question", priority="normal", requires_approval=False) -> Case:
    channel_id = session.scalar(select(Channel.id).where(Channel.key == channel))
    case = Case(intent=intent, priority=priority, channel_id=channel_id, requires_approval=requires_approval,
                subject="test")
    session.add(case)
    session.flush()
    return case


@pytest.fixture
def runtime(settings):
    from onevoice.runtime import build_runtime

    runtime = build_runtime(settings)
    yield runtime
    runtime.dispose()


@pytest.fixture
def gov_app(runtime, org):
    from onevoice.app import create_app
    from onevoice.governance.seed import seed_governance

    with unit_of_work(runtime.session_factory) as session:
        seed_governance(session)
    return create_app(runtime.settings, runtime=runtime, start_worker=False)


@pytest.fixture
def world(gov_app, runtime) -> dict:
    """The route walk's world: a Support case, a partner's Marketing case, one outside her grant, and more."""
    from tests.governance.test_route_walk import build_world

    return build_world(runtime)


@pytest.fixture
def browser_for(gov_app):
    """A signed-in person's client: browser_for('lee')."""
    from fastapi.testclient import TestClient

    from tests.web.helpers import sign_in

    clients = []

    def make(name: str) -> TestClient:
        client = TestClient(gov_app)
        client.__enter__()
        clients.append(client)
        r = sign_in(client, f"{name}@acme.test", PASSWORD)
        assert r.status_code == 303, r.text
        client.csrf = _page_csrf(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def _page_csrf(client) -> str:
    import re

    r = client.get("/governance/policy")
    return re.search(r'data-csrf="([^"]+)"', r.text).group(1)


@pytest.fixture
def api_for(gov_app, runtime):
    """A program's client with a token for a person (or None: an operator token)."""
    from fastapi.testclient import TestClient

    from onevoice.auth.models import User
    from onevoice.auth.tokens import create_token

    clients = []

    def make(name: str | None) -> TestClient:
        with unit_of_work(runtime.session_factory) as session:
            user_id = session.scalar(select(User.id).where(User.email == f"{name}@acme.test")) if name else None
            _t, plaintext = create_token(session, f"t-{name}", user_id=user_id)
        client = TestClient(gov_app)
        client.__enter__()
        client.headers["Authorization"] = f"Bearer {plaintext}"
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
