"""Shared by the page tests and the browser tests: people, signing in, and feeding messages."""

from __future__ import annotations

import re
from functools import lru_cache

from onevoice.auth.passwords import hash_password
from onevoice.auth.principal import SYSTEM
from onevoice.auth.users import create_user
from onevoice.db import unit_of_work
from onevoice.library import service as library

PASSWORD = "correct-horse-battery"
PEOPLE = {
    "sam@acme.test": ("Sam Rivera", "responder", ["support"]),
    "lena@acme.test": ("Lena Brandt", "responder", ["legal"]),
    "pat@acme.test": ("Pat Lindqvist", "responder", ["product"]),
    "lee@acme.test": ("Lee Coordinator", "coordinator", ["support", "pr"]),
    "vic@acme.test": ("Vic Viewer", "viewer", ["support"]),
}
ANSWER = "Hi {{first_name}}, sorry about the trouble. We have sent you a direct message. {{agent_first_name}}"


@lru_cache(maxsize=1)
def password_hash() -> str:
    """PASSWORD's argon2 hash, made once: each hash costs a tenth of a second or more (several on a busy machine),
    and every test seeds these people. They share one salted hash; signing in still verifies it for real."""
    return hash_password(PASSWORD)


def create_person(session, email: str, name: str, role: str, teams: list[str]):
    """create_user(..., PASSWORD, ...) with the hash made once for the whole test session."""
    user = create_user(session, email, name, None, role, teams)
    user.password_hash = password_hash()
    return user


def seed_people(session_factory) -> None:
    with unit_of_work(session_factory) as session:
        for email, (name, role, teams) in PEOPLE.items():
            create_person(session, email, name, role, teams)
        library.create(session, SYSTEM, "Order trouble: we're on it", ANSWER, "answer", "shipping")
        library.create(session, SYSTEM, "Thanks for the kind words", "Thank you, {{first_name}}!", "answer", "")


def login_csrf(client) -> str:
    r = client.get("/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)


def sign_in(client, email: str, password: str = PASSWORD, next_url: str = "/inbox"):
    token = login_csrf(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token,
                                       "next": next_url}, follow_redirects=False)


def page_csrf(client) -> str:
    r = client.get("/inbox")
    return re.search(r'data-csrf="([^"]+)"', r.text).group(1)
