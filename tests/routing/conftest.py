from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from onevoice.app import create_app
from onevoice.auth.tokens import create_token
from onevoice.auth.users import create_user
from onevoice.db import unit_of_work
from tests.factories import seed_org
from tests.scripted_triage import scripted_runtime

# name -> (role, teams)
PEOPLE = {"ada": ("admin", []), "lee": ("coordinator", ["support", "pr"]), "sam": ("responder", ["support"]),
          "pat": ("responder", ["pr"]), "vic": ("viewer", ["support"]), "pia": ("partner", ["marketing"])}


@pytest.fixture
def runtime(settings):
    runtime = scripted_runtime(settings)
    runtime.processor.router.check_every = 0  # workers look every few seconds; here at every batch
    yield runtime
    runtime.dispose()


@pytest.fixture
def tokens(runtime) -> dict[str, str]:
    """An operator token ("ops") and one token per person, acting as that person."""
    out = {"ops": seed_org(runtime.session_factory)}
    with unit_of_work(runtime.session_factory) as session:
        for name, (role, teams) in PEOPLE.items():
            user = create_user(session, f"{name}@acme.test", name.title(), None, role, teams)
            out[name] = create_token(session, f"t-{name}", user_id=user.id)[1]
    return out


@pytest.fixture
def app(runtime, tokens):
    return create_app(runtime.settings, runtime=runtime, start_worker=False)


@pytest.fixture
def as_(app, tokens):
    """as_("lee") -> a client whose token acts as Lee."""
    clients = []

    def make(name: str) -> TestClient:
        c = TestClient(app)
        c.headers["Authorization"] = f"Bearer {tokens[name]}"
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()
