"""Queues, filters, search, sort, pagination and who sees what, through the pages and the services."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from onevoice.auth.models import User
from onevoice.auth.users import principal_for
from onevoice.cases.models import Case, Incident
from onevoice.db import utcnow
from onevoice.inbox.counts import queue_counts
from onevoice.inbox.filters import Filters
from onevoice.inbox.queries import queue_case_ids
from tests.factories import message

pytestmark = pytest.mark.both_databases


def ids_in(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'id="case-(\d+)"', html)]


def who(runtime, email):
    with runtime.session_factory() as s:
        return principal_for(s, s.scalar(select(User).where(User.email == email)))


def test_people_see_their_teams_cases_and_coordinators_see_all(browser_for, post, runtime):
    support, legal, sales = post(message(text="broken, terrible", author="ann"),
                                 message(text="I will sue you, lawyer", author="bo"),
                                 message(text="pricing for 30 seats?", channel="xcom", author="cy"))
    sam = browser_for("sam@acme.test")      # support
    lena = browser_for("lena@acme.test")    # legal
    lee = browser_for("lee@acme.test")      # coordinator
    assert set(ids_in(sam.get("/inbox?queue=open").text)) == {support, legal}  # legal risk: support leads
    assert ids_in(lena.get("/inbox?queue=open").text) == [legal]
    assert set(ids_in(lee.get("/inbox?queue=open").text)) == {support, legal, sales}
    # Not visible means not found, on every route that reads or changes a case.
    assert lena.get(f"/cases/{support}").status_code == 404
    assert lena.get(f"/inbox/row/{support}?queue=open").status_code == 204
    assert sam.get("/inbox?queue=team:sales").status_code == 422
    with runtime.session_factory() as s:
        counts = queue_counts(s, who(runtime, "lena@acme.test"), utcnow())
    assert counts["open"] == 1 and counts["team:legal"] == 1 and "team:support" not in counts


def test_viewer_reads_but_cannot_act(browser_for, post):
    [case_id] = post(message(text="broken, terrible"))
    vic = browser_for("vic@acme.test")
    page = vic.get(f"/cases/{case_id}")
    assert page.status_code == 200 and "data-composer" not in page.text
    token = re.search(r'data-csrf="([^"]+)"', page.text).group(1)
    r = vic.post(f"/cases/{case_id}/status", data={"status": "resolved", "csrf_token": token})
    assert r.status_code == 403


def test_filters_search_and_sort(runtime, post):
    a, b, c = post(message(text="The blender is broken, terrible", author="kim", channel="mast"),
                   message(text="Do you sell spare lids?", author="joe", channel="xcom"),
                   message(text="Still waiting for my refund", author="kim_r", channel="mail"))
    lee = who(runtime, "lee@acme.test")
    now = utcnow()

    def run(queue="open", **params):
        with runtime.read_factory() as s:
            return queue_case_ids(s, lee, queue, Filters.parse(params), None, 50, now)[0]

    assert set(run()) == {a, b, c}
    assert run(channel="xcom") == [b]
    assert set(run(intent="complaint")) == {a, c}
    assert run(sentiment="neutral") == [b]
    assert set(run(tag="complaint")) == {a, c}
    assert run(q="blender") == [a]
    assert run(q="spare li") == [b]          # the last word is a prefix
    assert run(q="joe") == [b]               # author handles are searched too
    assert run(q='"; DROP TABLE cases; --') == []
    assert run(queue="team:support", q="refund") == [c]
    assert set(run(language="en")) == {a, b, c}
    assert run(language="fr") == []
    by_sla = run(sort="sla")
    assert by_sla and set(by_sla) <= {a, b, c}
    assert run(sort="priority")[0] in {a, b, c}


def test_incidents_queue_holds_the_cases_of_open_incidents_only(runtime, post):
    a, b, c = post(message(text="The blender is broken, terrible", author="kim"),
                   message(text="My blender broke again, awful", author="joe"),
                   message(text="Blender sparks, dangerous", author="ann"))
    with runtime.session_factory.begin() as s:
        live = Incident(topic="blender", summary="surge")
        over = Incident(topic="kettle", summary="earlier surge", status="closed", closed_at=utcnow())
        s.add_all([live, over])
        s.flush()
        s.get(Case, a).incident_id = live.id
        s.get(Case, b).incident_id = over.id
    lee = who(runtime, "lee@acme.test")
    with runtime.read_factory() as s:
        assert queue_case_ids(s, lee, "incidents", Filters(), None, 50, utcnow())[0] == [a]
        assert queue_counts(s, lee, utcnow())["incidents"] == 1


def test_one_incidents_cases_open_and_closed_from_an_alert_or_the_incidents_page(runtime, post, browser_for):
    """An incident alert and the incidents page link to the inbox filtered to that incident: its cases only,
    named in the title, kept by the live updates; a closed one's under any status; a bad number, 422."""
    a, b, c = post(message(text="The blender is broken, terrible", author="kim"),
                   message(text="My blender broke again, awful", author="joe"),
                   message(text="Kettle leaks, dangerous", author="ann"))
    with runtime.session_factory.begin() as s:
        blender = Incident(topic="blender", summary="surge")
        kettle = Incident(topic="kettle <b>leak</b>", summary="surge")
        s.add_all([blender, kettle])
        s.flush()
        s.get(Case, a).incident_id = s.get(Case, b).incident_id = blender.id
        s.get(Case, c).incident_id = kettle.id
        ids = blender.id, kettle.id
    lee = browser_for("lee@acme.test")
    page = lee.get(f"/inbox?queue=incidents&incident={ids[0]}")
    assert page.status_code == 200 and sorted(ids_in(page.text)) == [a, b] and "incident “blender”" in page.text
    assert f'name="incident" value="{ids[0]}"' in page.text  # changing another filter keeps this one
    other = lee.get(f"/inbox?queue=incidents&incident={ids[1]}").text
    assert ids_in(other) == [c] and "kettle &lt;b&gt;leak&lt;/b&gt;" in other
    assert lee.get(f"/inbox/row/{c}?queue=incidents&incident={ids[0]}").status_code == 204  # live: not this one
    assert lee.get(f"/inbox/row/{a}?queue=incidents&incident={ids[0]}").status_code == 200
    incidents = lee.get("/incidents").text
    assert f'href="/inbox?queue=incidents&amp;incident={ids[0]}"' in incidents
    with runtime.session_factory.begin() as s:  # once closed, its cases leave the incidents queue, not the link
        s.get(Incident, ids[0]).status = "closed"
        s.get(Case, a).status = "resolved"
    closed_link = f"/inbox?queue=open&amp;status=all&amp;incident={ids[0]}"
    assert closed_link in lee.get("/incidents").text
    assert sorted(ids_in(lee.get(closed_link.replace("&amp;", "&")).text)) == [a, b]
    for bad in ("abc", "-1", "0", "1e3", "９", str(2**63)):
        assert lee.get(f"/inbox?queue=open&incident={bad}").status_code == 422, bad


def test_pagination_never_repeats_or_skips(runtime, post):
    created = post(*[message(text=f"broken thing number {i}, terrible", author=f"u{i}") for i in range(7)])
    sam = who(runtime, "sam@acme.test")
    for sort in ("recent", "sla", "priority"):
        seen, cursor = [], None
        while True:
            with runtime.read_factory() as s:
                page, cursor = queue_case_ids(s, sam, "team:support", Filters(sort=sort), cursor, 3, utcnow())
            seen += page
            if cursor is None:
                break
        assert sorted(seen) == sorted(created), sort


def test_queue_row_for_live_updates_respects_the_queue(browser_for, post):
    [case_id] = post(message(text="broken, terrible"))
    sam = browser_for("sam@acme.test")
    assert sam.get(f"/inbox/row/{case_id}?queue=team:support").status_code == 200
    assert sam.get(f"/inbox/row/{case_id}?queue=mine").status_code == 204
    assert sam.get(f"/inbox/row/{case_id}?queue=open&intent=praise").status_code == 204
    rail = sam.get("/inbox/rail?queue=open").text
    assert "Customer Support" in rail and "Legal" not in rail


def test_hostile_text_is_escaped_everywhere(browser_for, post):
    hostile = '<script>alert(1)</script><img src=x onerror=alert(2)> "quoted" \u202eevil'
    [case_id] = post(message(text=hostile, author="<b>x</b>"))
    lee = browser_for("lee@acme.test")
    for url in ("/inbox?queue=open", f"/cases/{case_id}", f"/inbox/row/{case_id}?queue=open"):
        html = lee.get(url).text
        assert "<script>alert(1)" not in html and "<img src=x" not in html and "<b>x</b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_ids_too_large_for_the_database_are_refused_not_a_server_error(browser_for):
    lee = browser_for("lee@acme.test")
    # Beyond 64 bits (SQLite refuses the bind), and beyond PostgreSQL's 32-bit integer ids.
    for huge in ("9" * 30, str(2 ** 40)):
        for path in (f"/cases/{huge}", f"/inbox/row/{huge}?queue=open", f"/routing/playbook?version={huge}"):
            r = lee.get(path)
            assert r.status_code in (204, 404, 422), (path, r.status_code)
            assert r.status_code != 422 or "too large" in r.text


def test_the_all_cases_queue_is_titled_by_its_status_filter(browser_for, post, runtime):
    [case_id] = post(message(text="broken, terrible", author="ann"))
    with runtime.session_factory.begin() as s:
        s.get(Case, case_id).status = "resolved"
    lee = browser_for("lee@acme.test")
    title = lambda html: re.search(r"<h1>([^<]*)", html).group(1).strip()  # noqa: E731
    assert title(lee.get("/inbox?queue=open").text) == "All open"
    every = lee.get("/inbox?queue=open&status=all").text
    assert title(every) == "All cases" and ids_in(every) == [case_id]  # "All open" over a resolved case misled
    assert title(lee.get("/inbox?queue=open&status=resolved").text) == "All resolved"
    assert title(lee.get("/inbox?queue=open&status=pending_customer").text) == "All pending customer"
    assert title(lee.get("/inbox?queue=mine&status=all").text) == "My cases"
