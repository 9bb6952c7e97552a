"""The /reports pages and API: who sees what, drill-down, exports."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from onevoice.auth.models import User
from onevoice.auth.tokens import create_token
from onevoice.cases.actions import add_team, set_status
from onevoice.cases.models import Case
from onevoice.db import unit_of_work
from onevoice.reports.upkeep import upkeep_job
from tests.factories import message
from tests.governance.conftest import PASSWORD
from tests.web.helpers import page_csrf, sign_in

pytestmark = pytest.mark.both_databases
PERIOD = "start=2026-11-01&end=2026-11-30"
PERIOD_DATES = (date(2026, 11, 1), date(2026, 11, 30))


@pytest.fixture
def world(session_factory, pipeline, org):
    pipeline(message(channel="xcom", author="ann", text="my order never arrived", minutes=10),
             message(channel="xcom", author="bob", text="=HYPERLINK(\"http://evil\") is it open?", minutes=20),
             message(channel="xcom", author="cy", text="what is the pricing?", minutes=30))
    with unit_of_work(session_factory) as s:
        ids = list(s.scalars(select(Case.id).order_by(Case.id)))
        set_status(s, org["lee"], ids[0], "resolved")
        add_team(s, org["lee"], ids[0], "legal")
        s.get(Case, ids[1]).subject = "=HYPERLINK(\"http://evil\")"
    upkeep_job(session_factory)
    return ids


def browser(app, email) -> TestClient:
    client = TestClient(app)
    assert sign_in(client, email, PASSWORD).status_code == 303
    return client


def test_executive_reads_every_figure_but_no_case_content(gov_app, world):
    eve = browser(gov_app, "eve@acme.test")
    page = eve.get(f"/reports?{PERIOD}")
    assert page.status_code == 200 and 'data-view="executive"' in page.text
    assert "Net sentiment per day" in page.text and "<svg" in page.text
    drill = eve.get(f"/reports/cases?{PERIOD}&figure=cases")
    assert drill.status_code == 200
    assert drill.text.count("not in your teams") == 3  # counted, listed, not readable
    assert "HYPERLINK" not in drill.text and 'href="/cases/' not in drill.text
    assert eve.get(f"/cases/{world[0]}").status_code == 404


def test_manager_sees_own_teams_only(gov_app, world):
    mia = browser(gov_app, "mia@acme.test")  # Support's manager
    page = mia.get(f"/reports?{PERIOD}")
    assert page.status_code == 200 and 'data-view="manager"' in page.text and "Load per person" in page.text
    assert re.search(r'href="[^"]*channel:\d+">X</a>', page.text)  # by channel: the name, not the id
    assert mia.get(f"/reports?{PERIOD}&team=legal").status_code == 403
    drill = mia.get(f"/reports/cases?{PERIOD}&figure=cases")
    assert re.findall(r'href="/cases/(\d+)"', drill.text)  # Support's cases, readable
    assert browser(gov_app, "sam@acme.test").get("/reports").status_code == 403  # responders: no reports


def test_the_return_shows_amounts_in_the_organizations_currency(gov_app, world):
    page = browser(gov_app, "lee@acme.test").get(f"/reports?{PERIOD}&view=manager&hourly_rate=1234.5")
    section = page.text[page.text.index('id="return-h"'):page.text.index('id="leads-h"')]
    assert "The return (at 1,234.50 EUR an hour)" in section and "Cost (EUR)" in section
    costs = re.findall(r'<td class="n">([^<]*)</td><td class="n"><a href="[^"]*resolved"', section)
    assert costs and all(re.fullmatch(r"\d{1,3}(,\d{3})*\.\d{2}", c) for c in costs), costs
    assert "(value 0.00 EUR)" in page.text  # no lead won here


def test_exports_are_spreadsheet_safe(gov_app, world):
    lee = browser(gov_app, "lee@acme.test")
    body = lee.get(f"/reports/cases.csv?{PERIOD}&figure=cases").text
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 3
    assert any(r["subject"] == "'=HYPERLINK(\"http://evil\")" for r in rows)
    collab = lee.get(f"/reports/export/collaboration.csv?{PERIOD}")
    assert collab.headers["content-type"].startswith("text/csv") and "cases_led" in collab.text
    assert lee.get(f"/reports/export/nope.csv?{PERIOD}").status_code == 422
    assert lee.get("/reports?start=2026-13-01").status_code == 422


def test_api_needs_reports_read(gov_app, world, session_factory):
    with unit_of_work(session_factory) as s:
        lee = s.scalar(select(User.id).where(User.email == "lee@acme.test"))
        good = create_token(s, "r", user_id=lee, scopes=["reports:read"])[1]
        bad = create_token(s, "c", user_id=lee, scopes=["cases:read"])[1]
    api = TestClient(gov_app)
    out = api.get(f"/api/v1/reports?{PERIOD}", headers={"Authorization": f"Bearer {good}"})
    assert out.status_code == 200
    data = out.json()
    assert data["figures"]["service.cases"]["now"] == 3 and data["figures"]["leads.found"]["now"] == 1
    assert "return" in data and data["period"]["previous_end"] == "2026-10-31"
    # Channels and teams are keyed by id (the drill-down's filter) and named for people.
    channel = data["volume"]["channel"][0]
    assert isinstance(channel["key"], int) and channel["label"] == "X"
    assert {r["label"] for r in data["volume"]["team"]} == {"Customer Support", "Sales"}
    assert api.get(f"/api/v1/reports?{PERIOD}", headers={"Authorization": f"Bearer {bad}"}).status_code == 403
    cases = api.get(f"/api/v1/reports/cases?{PERIOD}&figure=resolved", headers={"Authorization": f"Bearer {good}"})
    assert [c["case_id"] for c in cases.json()] == [world[0]]
    # Times written as every other answer of the API writes them (`+00:00`; pydantic's default wrote `Z` here).
    assert all(c["opened_at"].endswith("+00:00") for c in cases.json()), cases.json()


def test_hostile_filters_get_clear_answers(gov_app, world):
    lee = browser(gov_app, "lee@acme.test")
    assert lee.get("/reports?team=<script>alert(1)</script>").status_code == 422
    assert lee.get("/reports?start=2026-12-01&end=2026-11-01").status_code == 422
    assert lee.get("/reports?start=2020-01-01&end=2026-11-01").status_code == 422  # over 400 days
    assert lee.get(f"/reports/cases?{PERIOD}&figure=nope").status_code == 422
    assert lee.get(f"/reports/cases?{PERIOD}&figure=channel:abc").status_code == 422
    odd = lee.get(f"/reports?{PERIOD}&tag=%27%3B%20DROP%20TABLE%20cases%3B--&product=%F0%9F%92%A5%E2%80%AE")
    assert odd.status_code == 200 and "DROP TABLE" in odd.text and "<script>" not in odd.text
    assert lee.get(f"/reports?{PERIOD}&hourly_rate=-5").status_code == 422
    # Found by fuzzing the API: a period in year 131 overflowed the standing's decay (a 500); 9999-12-31 has no
    # day after it.
    for period in ("end=0131-11-07", "start=1999-12-31&end=2000-01-05", "start=9999-12-25&end=9999-12-31"):
        for path in ("/reports", "/reports/cases", "/reports/export/daily.csv"):
            r = lee.get(f"{path}?{period}")
            assert r.status_code == 422 and "a period lies between 2000-01-01" in r.text, (path, period, r.text)
    assert lee.get("/reports?start=2000-01-01&end=2000-01-28").status_code == 200


def test_objectives_name_their_team_by_key(session_factory, org):
    """set_objective looks the team up by key (teams.service.team_id): a known key is stored as its id, an unknown
    one is refused with its name and nothing is stored."""
    from onevoice.errors import InvalidInput
    from onevoice.reports import service as reports
    from onevoice.reports.models import Objective
    from onevoice.teams.models import Team
    from onevoice.teams.service import team_id

    with unit_of_work(session_factory) as s:
        support = s.scalar(select(Team.id).where(Team.key == "support"))
        assert team_id(s, "support") == support and team_id(s, "nope") is None and team_id(s, "") is None
        made = reports.set_objective(s, org["lee"], "support", "service.first_response_sla", ">=", 0.9)
        assert made.team_id == support
        assert reports.set_objective(s, org["lee"], None, "leads.found", ">=", 5).team_id is None
        with pytest.raises(InvalidInput, match="unknown team 'nope'"):
            reports.set_objective(s, org["lee"], "nope", "leads.found", ">=", 5)
    with session_factory() as s:
        assert sorted((o.team_id or 0, o.metric) for o in s.scalars(select(Objective))) == [
            (0, "leads.found"), (support, "service.first_response_sla")]


def test_objectives_are_typed_in_hours_and_percent_read_back_in_words_and_removed(gov_app, world, session_factory):
    """The form asks for hours and percent and stores seconds and shares; a figure has one target per team (set
    again, it moves); a share over 100 % or a target that is not a number is refused; a manager removes their
    team's objectives, not the organization's."""
    from onevoice.reports.models import Objective

    mia, lee = browser(gov_app, "mia@acme.test"), browser(gov_app, "lee@acme.test")
    csrf = {c: page_csrf(c) for c in (mia, lee)}

    def post(client, **form):
        return client.post("/reports/objectives", data={"csrf_token": csrf[client], "team": "support",
                                                        "comparator": "<=", **form}, follow_redirects=False)

    assert post(mia, metric="service.first_response_bh_median_s", target="1.5").status_code == 303
    assert post(mia, metric="service.first_response_bh_median_s", target="2").status_code == 303
    assert post(mia, metric="service.first_response_sla", comparator=">=", target="90").status_code == 303
    assert post(lee, team="", metric="reputation.net_sentiment", comparator=">=", target="-10").status_code == 303
    for bad in ({"metric": "service.first_response_sla", "target": "150"}, {"metric": "leads.found", "target": "nan"},
                {"metric": "leads.found", "target": "-3"}, {"metric": "service.cases", "target": "3"}):
        assert post(mia, **bad).status_code == 422, bad
    with session_factory() as s:
        stored = {o.metric: (o.comparator, o.target) for o in s.scalars(select(Objective))}
        org_goal = s.scalar(select(Objective.id).where(Objective.team_id.is_(None)))
        times = s.scalar(select(Objective.id).where(Objective.metric == "service.first_response_bh_median_s"))
    assert stored == {"service.first_response_bh_median_s": ("<=", 7200.0), "service.first_response_sla": (">=", 0.9),
                      "reputation.net_sentiment": (">=", -0.1)}
    page = mia.get(f"/reports?{PERIOD}&view=manager").text
    row = re.search(r'data-objective-row="service.first_response_bh_median_s">(.*?)</tr>', page, re.S).group(1)
    assert "First response, median (business hours)" in row and "at most 2.0 h" in row
    assert "at least 90.0 %" in page and "service.first_response_sla<" not in page
    assert "Remove the objective Net sentiment" not in page  # the organization's is not hers to remove
    remove = "/reports/objectives/{}/delete"
    assert mia.post(remove.format(org_goal), data={"csrf_token": csrf[mia]}).status_code == 403
    assert mia.post(remove.format(times), data={"csrf_token": csrf[mia]}, follow_redirects=False).status_code == 303
    assert mia.post(remove.format(times), data={"csrf_token": csrf[mia]}).status_code == 404
    assert lee.post(remove.format(org_goal), data={"csrf_token": csrf[lee]}, follow_redirects=False).status_code == 303
    with session_factory() as s:
        assert list(s.scalars(select(Objective.metric))) == ["service.first_response_sla"]


def test_a_teams_objective_is_measured_on_that_teams_figures(session_factory, world, org):
    """In the organization's report each team's objective reads the team's own figure (the sales lead is Sales',
    not Support's), the organization's the whole; a manager's report shows their team's, on their figures, and
    not the organization's (it would judge them on the team's figure)."""
    from onevoice.reports import service as reports

    with unit_of_work(session_factory) as s:
        for team in (None, "support", "sales"):
            reports.set_objective(s, org["lee"], team, "leads.found", ">=", 1)
        reports.set_objective(s, org["lee"], "support", "reputation.net_sentiment", "<=", 0.5)
    with session_factory() as s:
        whole = reports.report(s, org["lee"], reports.make_scope(s, org["lee"], *PERIOD_DATES))
        mine = reports.report(s, org["mia"], reports.make_scope(s, org["mia"], *PERIOD_DATES))
        names = reports.team_names(s)
    got = {(names[o["team_id"]]["key"] if o["team_id"] else None, o["metric"]): (o["value"], o["met"])
           for o in whole["objectives"]}
    assert got[(None, "leads.found")] == (1, True)
    assert got[("sales", "leads.found")] == (1, True)
    assert got[("support", "leads.found")] == (0, False)
    assert got[("support", "reputation.net_sentiment")][1] is True
    assert {(o["metric"], o["value"]) for o in mine["objectives"]} == {  # not the organization's
        ("leads.found", 0), ("reputation.net_sentiment", got[("support", "reputation.net_sentiment")][0])}


def test_the_resolution_sla_figure_drills_down_to_the_cases_that_missed_it(gov_app, world):
    """The tile links to `resolution_missed`: the cases the figure counts as missed (resolved late, or unresolved
    past their due time). All three cases of November are: the first was resolved today, the others never."""
    lee = browser(gov_app, "lee@acme.test")
    page = lee.get(f"/reports?{PERIOD}").text
    assert f'href="/reports/cases?{PERIOD.replace("&", "&amp;")}&amp;figure=resolution_missed"' in page
    drill = lee.get(f"/reports/cases?{PERIOD}&figure=resolution_missed")
    assert drill.status_code == 200 and set(map(int, re.findall(r'href="/cases/(\d+)"', drill.text))) == set(world)
    assert "0.0%" in re.search(r"Resolution SLA met.*?</div>", page, re.S).group(0)


def test_the_figures_say_how_current_they_are(gov_app, world, session_factory):
    # The reports follow the events a pass at a time, and wait during a surge (reports/upkeep.upkeep_job):
    # the page and the API say up to when they count, and the page says so plainly when that is long ago.
    from datetime import datetime, timedelta

    from onevoice.reports.models import ReportState

    eve = browser(gov_app, "eve@acme.test")
    page = eve.get(f"/reports?{PERIOD}")
    assert "figures as of" in page.text and "data-behind" not in page.text
    with unit_of_work(session_factory) as s:
        lee = s.scalar(select(User.id).where(User.email == "lee@acme.test"))
        token = create_token(s, "r", user_id=lee, scopes=["reports:read"])[1]
        s.execute(ReportState.__table__.update().values(updated_at=datetime.now().astimezone() - timedelta(minutes=7)))
    page = eve.get(f"/reports?{PERIOD}")
    assert "data-behind" in page.text and "up to 7m ago" in page.text
    as_of = TestClient(gov_app).get(f"/api/v1/reports?{PERIOD}", headers={"Authorization": f"Bearer {token}"}).json()
    assert as_of["as_of"].endswith("+00:00")  # written as the API writes every time (jsontypes.Timestamp)
    behind = datetime.now().astimezone() - datetime.fromisoformat(as_of["as_of"])
    assert timedelta(minutes=6) < behind < timedelta(minutes=8)


def test_the_document_lists_the_report_tables_and_an_unknown_one_is_named_wrong(gov_app, world, session_factory):
    from onevoice.reports.service import TABLES

    param = next(p for p in gov_app.openapi()["paths"]["/api/v1/reports/tables/{table}.csv"]["get"]["parameters"]
                 if p["name"] == "table")
    assert param["schema"]["enum"] == list(TABLES)
    with unit_of_work(session_factory) as s:
        lee = s.scalar(select(User.id).where(User.email == "lee@acme.test"))
        token = create_token(s, "r", user_id=lee, scopes=["reports:read"])[1]
    api = TestClient(gov_app)
    wrong = api.get(f"/api/v1/reports/tables/nope.csv?{PERIOD}", headers={"Authorization": f"Bearer {token}"})
    assert wrong.status_code == 422 and "daily" in wrong.text
