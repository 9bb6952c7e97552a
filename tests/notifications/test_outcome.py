"""A sales lead's outcome, set by Sales (or a coordinator) on the case page and through the API: it shows in the
reports' leads figures and in the case's history."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from onevoice.auth.models import User
from onevoice.auth.tokens import create_token
from onevoice.auth.users import create_user, principal_for
from onevoice.cases.models import Case
from onevoice.db import unit_of_work
from onevoice.events.models import Event
from onevoice.reports import service as reports
from onevoice.reports.upkeep import upkeep_job
from tests.factories import message
from tests.governance.conftest import PASSWORD, password_hash
from tests.web.helpers import sign_in

pytestmark = pytest.mark.both_databases
PERIOD = "start=2026-11-01&end=2026-11-30"


@pytest.fixture
def leads(session_factory, pipeline, org):
    """Two sales leads and a question on Friday 20 November; Sol is a Sales responder."""
    pipeline(message(channel="xcom", author="ann", text="what is the pricing for 40 seats?", minutes=10),
             message(channel="xcom", author="bob", text="can I get a quote for the pro plan?", minutes=20),
             message(channel="xcom", author="cy", text="is the shop open on sunday?", minutes=30))
    with unit_of_work(session_factory) as s:
        sol = create_user(s, "sol@acme.test", "Sol Sales", None, "responder", ["sales"])
        sol.password_hash = password_hash()
        ids = list(s.scalars(select(Case.id).where(Case.intent == "sales_lead").order_by(Case.id)))
        other = s.scalar(select(Case.id).where(Case.intent != "sales_lead"))
    upkeep_job(session_factory)
    return {"leads": ids, "other": other}


def browser(app, email: str) -> TestClient:
    client = TestClient(app)
    assert sign_in(client, email, PASSWORD).status_code == 303
    client.headers["X-CSRF-Token"] = re.search(r'data-csrf="([^"]+)"', client.get("/inbox").text).group(1)
    client.headers["HX-Request"] = "true"
    return client


def lead_figures(session_factory) -> dict:
    upkeep_job(session_factory)
    with session_factory() as s:
        lee = principal_for(s, s.scalar(select(User).where(User.email == "lee@acme.test")))
        figures = reports.report(s, lee, reports.make_scope(s, lee, date(2026, 11, 1), date(2026, 11, 30)))["figures"]
    return {k.split(".", 1)[1]: v["now"] for k, v in figures.items() if k.startswith("leads.")}


def test_sales_sets_the_outcome_on_the_case_page_and_the_report_follows(gov_app, session_factory, leads):
    first, second = leads["leads"]
    assert lead_figures(session_factory) == {"found": 2, "handed_to_sales": 2, "won": 0, "lost": 0, "open": 2,
                                             "won_value": 0.0}
    sol = browser(gov_app, "sol@acme.test")
    page = sol.get(f"/cases/{first}").text
    assert 'id="lead-panel"' in page and f'hx-post="/cases/{first}/outcome"' in page
    assert "Amount if won (EUR)" in page
    r = sol.post(f"/cases/{first}/outcome", data={"outcome": "won", "amount": "1,250.50"})
    assert r.status_code == 200 and 'data-outcome="won"' in r.text and "1,250.50 EUR" in r.text
    assert "Sol Sales set the lead's outcome: Won (1,250.50 EUR)" in r.text  # the history, by name
    assert sol.post(f"/cases/{second}/outcome", data={"outcome": "lost"}).status_code == 200
    assert lead_figures(session_factory) == {"found": 2, "handed_to_sales": 2, "won": 1, "lost": 1, "open": 0,
                                             "won_value": 1250.5}
    # Back to open: the value leaves the report too.
    assert sol.post(f"/cases/{first}/outcome", data={"outcome": "open"}).status_code == 200
    assert lead_figures(session_factory)["won_value"] == 0.0
    with session_factory() as s:
        history = s.execute(select(Event.actor, Event.data).where(Event.case_id == first, Event.kind == "case.outcome")
                            .order_by(Event.id)).all()
    assert [(a, d["outcome"], d.get("amount"), d["from"]) for a, d in history] == [
        ("sol@acme.test", "won", 1250.5, "open"), ("sol@acme.test", "open", None, "won")]
    # The same outcome again records nothing.
    sol.post(f"/cases/{first}/outcome", data={"outcome": "open"})
    with session_factory() as s:
        assert len(s.scalars(select(Event.id).where(Event.case_id == first, Event.kind == "case.outcome")).all()) == 2


def test_who_may_set_an_outcome_and_what_is_refused(gov_app, session_factory, leads):
    first = leads["leads"][0]
    for email in ("sam@acme.test", "eve@acme.test", "vic@acme.test", "mia@acme.test"):  # not Sales
        r = browser(gov_app, email).post(f"/cases/{first}/outcome", data={"outcome": "lost"})
        assert r.status_code == 403 and "set by Sales" in r.text, email
    sol, lee = browser(gov_app, "sol@acme.test"), browser(gov_app, "lee@acme.test")
    assert 'name="outcome"' not in browser(gov_app, "ada@acme.test").get(f"/cases/{leads['other']}").text
    assert lee.post(f"/cases/{leads['other']}/outcome", data={"outcome": "lost"}).status_code == 422  # not a lead
    for form, why in (({"outcome": "won"}, "needs its amount"), ({"outcome": "won", "amount": "NaN"}, "positive"),
                      ({"outcome": "won", "amount": "-5"}, "positive"), ({"outcome": "won", "amount": "1e400"},
                                                                         "positive"),
                      ({"outcome": "won", "amount": "<script>"}, "must be a number"),
                      ({"outcome": "won", "amount": "10.001"}, "two decimals"),
                      ({"outcome": "won", "amount": "10", "currency": "USD"}, "recorded in EUR"),
                      ({"outcome": "maybe"}, "unknown outcome"), ({"outcome": "lost", "amount": "5"}, "only a won")):
        r = sol.post(f"/cases/{first}/outcome", data=form)
        assert r.status_code == 422 and why in r.text, (form, r.text)
    assert lead_figures(session_factory)["won"] == 0  # nothing refused was recorded
    assert lee.post(f"/cases/{first}/outcome", data={"outcome": "won", "amount": "99"}).status_code == 200


def test_the_api_sets_an_outcome_with_the_write_scope(gov_app, session_factory, leads):
    first = leads["leads"][0]
    with unit_of_work(session_factory) as s:
        sol = s.scalar(select(User.id).where(User.email == "sol@acme.test"))
        write = create_token(s, "crm", scopes=["messages:write"], user_id=sol)[1]
        read = create_token(s, "reader", scopes=["cases:read"], user_id=sol)[1]
    api = TestClient(gov_app, headers={"Authorization": f"Bearer {write}"})
    r = api.post(f"/api/v1/cases/{first}/outcome", json={"outcome": "won", "amount": 800})
    assert r.status_code == 200 and r.json() == {"case_id": first, "outcome": "won", "amount": 800.0,
                                                 "currency": "EUR"}
    assert lead_figures(session_factory)["won_value"] == 800.0
    reader = TestClient(gov_app, headers={"Authorization": f"Bearer {read}"})
    assert reader.post(f"/api/v1/cases/{first}/outcome", json={"outcome": "lost"}).status_code == 403
    assert api.post(f"/api/v1/cases/{first}/outcome", json={"outcome": "won", "amount": -1}).status_code == 422
    assert api.post(f"/api/v1/cases/{first}/outcome", json={"outcome": "won"}).status_code == 422
    assert api.post("/api/v1/cases/987654/outcome", json={"outcome": "lost"}).status_code == 404
    spec = gov_app.openapi()["paths"]["/api/v1/cases/{case_id}/outcome"]["post"]
    assert "Sales" in spec["description"] and {"403", "404", "422"} <= set(spec["responses"])
