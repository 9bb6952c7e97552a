"""Where the inbox opens: a sensible queue for each role, then the queue each person last opened (issue 10,
item 6: a coordinator's inbox opened on whichever team sorted first, Recruiting & HR in the demo)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, select

from onevoice.auth.models import User, UserTeam
from onevoice.db import unit_of_work
from onevoice.inbox.views import QUEUE_COOKIE
from onevoice.teams.models import Team
from tests.web.helpers import create_person, sign_in

pytestmark = pytest.mark.both_databases


def opened_on(client, path: str = "/inbox") -> str:
    r = client.get(path)
    assert r.status_code == 200, r.text[-1500:]
    return re.search(r'<body[^>]*data-queue="([^"]*)"', r.text).group(1)


@pytest.fixture
def more_people(runtime, token):
    with unit_of_work(runtime.session_factory) as s:
        create_person(s, "mia@acme.test", "Mia Manager", "manager", ["support"])
        create_person(s, "ada@acme.test", "Ada Admin", "admin", [])
        create_person(s, "tom@acme.test", "Tom Two-Teams", "responder", ["support", "hr"])
        create_person(s, "hal@acme.test", "Hal Hr", "coordinator", ["hr", "support"])


def test_each_role_opens_on_the_queue_it_works_from(browser_for, more_people):
    assert opened_on(browser_for("lee@acme.test")) == "open"   # coordinator: every team's open cases
    assert opened_on(browser_for("hal@acme.test")) == "open"   # in HR too, which sorts first: still all open
    assert opened_on(browser_for("ada@acme.test")) == "open"   # admin
    assert opened_on(browser_for("mia@acme.test")) == "open"   # manager: all of their teams' open cases
    assert opened_on(browser_for("sam@acme.test")) == "team:support"  # one team: its queue
    assert opened_on(browser_for("tom@acme.test")) == "open"   # two teams: both, not whichever sorts first
    assert opened_on(browser_for("vic@acme.test")) == "team:support"


def test_the_last_queue_opened_is_remembered(browser_for, more_people):
    lee = browser_for("lee@acme.test")
    assert opened_on(lee, "/inbox?queue=unassigned") == "unassigned"
    assert opened_on(lee) == "unassigned"
    assert opened_on(lee, "/inbox?queue=team:pr&sort=sla") == "team:pr"
    assert opened_on(lee) == "team:pr"
    # The rail's live refresh and "load more" name their queue: they do not change what is remembered.
    assert lee.get("/inbox/rail?queue=mine").status_code == 200
    assert opened_on(lee) == "team:pr"
    # A queue that is not one answers 422 and is not remembered.
    assert lee.get("/inbox?queue=nope").status_code == 422
    assert opened_on(lee) == "team:pr"


def test_a_remembered_queue_is_one_persons_and_only_while_it_is_theirs(browser_for, runtime, more_people):
    lee, sam = browser_for("lee@acme.test"), browser_for("sam@acme.test")
    assert opened_on(lee, "/inbox?queue=breaching") == "breaching"
    # Another person on the same browser (Lee's cookie carried over) starts on their own queue.
    sam.cookies.set(QUEUE_COOKIE, lee.cookies.get(QUEUE_COOKIE), path="/inbox")
    assert opened_on(sam) == "team:support"
    # Sam leaves the team whose queue was remembered: the inbox opens on the default, not an error page.
    assert opened_on(sam, "/inbox?queue=team:support") == "team:support"
    with unit_of_work(runtime.session_factory) as s:
        sam_id = s.scalar(select(User.id).where(User.email == "sam@acme.test"))
        support = s.scalar(select(Team.id).where(Team.key == "support"))
        s.execute(delete(UserTeam).where(UserTeam.user_id == sam_id, UserTeam.team_id == support))
        s.add(UserTeam(user_id=sam_id, team_id=s.scalar(select(Team.id).where(Team.key == "sales"))))
    assert opened_on(sam) == "team:sales"
    # A forged or garbled cookie is ignored the same way.
    for value in (f"{sam_id}:team:legal", f"{sam_id}:nope", f"{sam_id}:", "garbage", f"{sam_id}:team:\x7f"):
        sam.cookies.set(QUEUE_COOKIE, value, path="/inbox")
        assert opened_on(sam) == "team:sales", value


def test_signing_in_lands_on_the_remembered_queue(app, more_people):
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        assert sign_in(client, "lee@acme.test").status_code == 303
        assert opened_on(client, "/inbox?queue=mine") == "mine"
        client.post("/logout", data={"csrf_token": re.search(r'data-csrf="([^"]+)"',
                                                             client.get("/inbox").text).group(1)})
        r = sign_in(client, "lee@acme.test")
        assert r.status_code == 303 and r.headers["location"] == "/inbox"
        assert opened_on(client) == "mine"
