"""What an alert links to: an incident alert to the incident and its cases, an SLA alert to the report for that
team and period and to the cases behind the figure (the reports' own drill-down). In the app as paths, in the
email as absolute addresses from ONEVOICE_PUBLIC_URL; and every link, followed, shows what it says."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from onevoice.cases.models import Case, Incident
from onevoice.db import unit_of_work, utcnow
from onevoice.inbox.models import Notification
from onevoice.inbox.notify import notify_user
from onevoice.notifications import service
from onevoice.notifications.alerts import check_alerts
from onevoice.notifications.models import MailMessage
from onevoice.reports.upkeep import upkeep_job
from tests.factories import message

pytestmark = pytest.mark.both_databases
PUBLIC = "https://onevoice.acme.test/"  # with a trailing slash: the links must not get two


def mail_of(session_factory, email: str) -> tuple[str, str]:
    """(text, html) of the one alert email to this address."""
    with session_factory() as s:
        (row,) = s.scalars(select(MailMessage).where(MailMessage.to_addr == email, MailMessage.kind == "alert"))
        return row.text_body, row.html_body


def case_ids(page: str) -> set[int]:
    return {int(i) for i in re.findall(r'href="/cases/(\d+)"', page)}


@pytest.fixture
def complaints(session_factory, pipeline) -> list[int]:
    """Two Support complaints on Friday 20 November, never answered."""
    pipeline(message(channel="xcom", author="ann", text="my order never arrived", minutes=10),
             message(channel="xcom", author="bob", text="my order never arrived either", minutes=20))
    with session_factory() as s:
        return list(s.scalars(select(Case.id).order_by(Case.id)))


def test_an_incident_alert_links_to_the_incident_and_its_cases(settings, session_factory, complaints, subscribe,
                                                               alert_links, browser_for):
    """The incident opens today; Ann's case (opened last month) joined it. Those who read reports get the reports'
    list of the incident's cases (all of them, whatever the period); the others the inbox's incidents queue."""
    inside, outside = complaints
    with unit_of_work(session_factory) as s:
        incident = Incident(topic="delivery", opened_at=utcnow(), last_activity_at=utcnow())
        s.add(incident)
        s.flush()
        s.get(Case, inside).incident_id = incident.id
        incident_id = incident.id
    upkeep_job(session_factory)
    subscribe(lee={"incident_alerts": True}, sam={"incident_alerts": True})
    assert check_alerts(session_factory, settings.model_copy(update={"public_url": PUBLIC}))["incident"] == 1

    today = utcnow().date().isoformat()
    row = {"label": "the incident", "href": f"/incidents#incident-{incident_id}"}
    cases = f"/reports/cases?start={today}&end={today}&figure=incident%3A{incident_id}"
    assert alert_links("lee@acme.test") == [[row, {"label": "its cases", "href": cases}]]
    mine = f"/inbox?queue=incidents&incident={incident_id}"
    assert alert_links("sam@acme.test") == [[row, {"label": "its cases", "href": mine}]]

    lee, sam = browser_for("lee"), browser_for("sam")
    notices = lee.get("/notifications").text
    assert (f'<a href="/incidents#incident-{incident_id}" data-link="the incident">Incident opened on “delivery”</a>'
            in notices)
    assert f'href="{html.escape(cases)}" data-link="its cases">its cases</a>' in notices
    assert f'id="incident-{incident_id}"' in lee.get("/incidents").text
    listed = lee.get(cases)
    assert listed.status_code == 200 and case_ids(listed.text) == {inside}  # opened before the period shown
    assert case_ids(sam.get(mine).text) == {inside}

    text, body = mail_of(session_factory, "sam@acme.test")
    assert f"The incident: https://onevoice.acme.test/incidents#incident-{incident_id}\n" in text
    assert f"Its cases: https://onevoice.acme.test{mine}\n" in text
    assert f'<a href="https://onevoice.acme.test/incidents#incident-{incident_id}">The incident</a>' in body
    lee_text, _ = mail_of(session_factory, "lee@acme.test")
    assert f"Its cases: https://onevoice.acme.test{cases}\n" in lee_text


def test_sla_alerts_link_to_the_team_report_and_the_cases_behind_the_figure(settings, session_factory, complaints,
                                                                           org, subscribe, told, alert_links,
                                                                           browser_for):
    """Support's first-response and resolution SLA thresholds (50 %, 3 days) on Saturday 21 November: both cases
    missed their first response and are past their resolution time, so both figures are 0 % and both fire."""
    subscribe(mia={"sla_alerts": True})  # Support's manager, by email too
    with unit_of_work(session_factory) as s:
        service.set_rule(s, org["lee"], "support", 50, 3)
        service.set_rule(s, org["lee"], "support", 50, 3, metric="resolution_sla")
    upkeep_job(session_factory)
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert check_alerts(session_factory, settings.model_copy(update={"public_url": PUBLIC}), now=now)["sla"] == 2
    assert told("mia@acme.test") == [
        "First-response SLA attainment for Customer Support over the last 3 days is 0 %, below the 50 % threshold.",
        "Resolution SLA attainment for Customer Support over the last 3 days is 0 %, below the 50 % threshold."]
    period = "start=2026-11-19&end=2026-11-21&team=support"
    report = {"label": "the report", "href": f"/reports?{period}&view=manager"}
    assert alert_links("mia@acme.test") == [
        [report, {"label": "the cases behind it", "href": f"/reports/cases?{period}&figure=first_response_missed"}],
        [report, {"label": "the cases behind it", "href": f"/reports/cases?{period}&figure=resolution_missed"}]]

    mia = browser_for("mia")
    page = mia.get(report["href"])
    assert page.status_code == 200 and 'data-view="manager"' in page.text
    for links in alert_links("mia@acme.test"):
        listed = mia.get(links[1]["href"])
        assert listed.status_code == 200 and case_ids(listed.text) == set(complaints)

    with session_factory() as s:
        subjects = sorted(s.scalars(select(MailMessage.subject).where(MailMessage.to_addr == "mia@acme.test")))
        texts = [m.text_body for m in s.scalars(select(MailMessage).order_by(MailMessage.id))]
    assert subjects == ["OneVoice alert: first-response SLA 0 % for Customer Support",
                        "OneVoice alert: resolution SLA 0 % for Customer Support"]
    assert f"The report: https://onevoice.acme.test/reports?{period}&view=manager\n" in texts[0]
    assert (f"The cases behind it: https://onevoice.acme.test/reports/cases?{period}&figure=resolution_missed\n"
            in texts[1])


def test_an_organization_rule_links_to_the_organization_report(settings, session_factory, org, subscribe,
                                                              alert_links, monkeypatch):
    from onevoice.notifications import alerts

    subscribe(lee={"sla_alerts": True, "alert_email": False})
    with unit_of_work(session_factory) as s:
        service.set_rule(s, org["lee"], None, 90, 7, metric="resolution_sla")
    monkeypatch.setattr(alerts, "measure", lambda session, rule, now: 0.5)
    assert check_alerts(session_factory, settings, now=datetime(2026, 11, 21, 12, 0, tzinfo=UTC))["sla"] == 1
    assert alert_links("lee@acme.test") == [[
        {"label": "the report", "href": "/reports?start=2026-11-15&end=2026-11-21"},
        {"label": "the cases behind it",
         "href": "/reports/cases?start=2026-11-15&end=2026-11-21&figure=resolution_missed"}]]


def test_a_link_leads_only_to_a_path_on_this_site(session_factory, org):
    """notify_user keeps a link only when it is a path here: another site, a script or markup is dropped."""
    hostile = ["//evil.test/x", "/\\evil.test", "https://evil.test/", "javascript:alert(1)", "/x\" onmouseover=\"a()",
               "/a b", "/" + "a" * 1000, None, 42]
    with unit_of_work(session_factory) as s:
        notify_user(s, org["lee"].user_id, None, "alert", "system", "hostile",
                    [{"label": "bad", "href": h} for h in hostile] + [{"label": "good", "href": "/reports?x=1"}])
        notify_user(s, org["lee"].user_id, None, "alert", "system", "only hostile", [{"label": "b", "href": "//e"}])
    with session_factory() as s:
        kept = [n.links for n in s.scalars(select(Notification).order_by(Notification.id))]
    assert kept == [[{"label": "good", "href": "/reports?x=1"}], None]


def test_the_cases_link_of_a_long_lived_incident_still_opens(browser_for):
    """Reopened after two years: the period shown is held within what a report may span (400 days)."""
    from datetime import timedelta

    from onevoice.notifications.alerts import incident_links

    now = utcnow()
    incident = Incident(id=77, topic="old", opened_at=now - timedelta(days=800))
    href = incident_links(incident, "coordinator", now)[1]["href"]
    assert href == (f"/reports/cases?start={(now - timedelta(days=399)).date()}&end={now.date()}"
                    "&figure=incident%3A77")
    assert browser_for("lee").get(href).status_code == 200
    ahead = incident_links(Incident(id=78, topic="skew", opened_at=now + timedelta(days=2)), "manager", now)
    assert ahead[1]["href"] == f"/reports/cases?start={now.date()}&end={now.date()}&figure=incident%3A78"
