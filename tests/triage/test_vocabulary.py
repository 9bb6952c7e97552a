"""The organization's vocabulary shapes triage and routing: competitors, terms carrying an intent or a team."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from onevoice.audit.models import AuditRecord
from onevoice.auth.principal import Principal
from onevoice.cli.main import app as cli
from onevoice.errors import Forbidden, InvalidInput
from onevoice.routing.factory import PlaybookRouter, default_playbook
from onevoice.routing.playbook import Playbook
from onevoice.routing.types import RouteInput
from onevoice.teams.models import Team
from onevoice.triage.factory import build_from_session
from onevoice.triage.types import TriageInput
from onevoice.triage.vocabulary import list_entries, remove_entry, save_entry

LEE = Principal(user_id=None, email="lee@acme.test", name="Lee", role="coordinator")
SAM = Principal(user_id=None, email="sam@acme.test", name="Sam", role="responder")
TUESDAY = datetime(2026, 11, 17, 11, 0, tzinfo=UTC)


@pytest.fixture
def teams(session):
    for key in ("support", "sales", "legal", "product", "pr"):
        session.add(Team(key=key, name=key.title()))
    session.flush()


def _route(session, text: str, book: Playbook | None = None):
    t = build_from_session(session).triage(TriageInput(text=text))
    d = PlaybookRouter(book or default_playbook()).route(RouteInput(text=text, kind="mention", channel="c",
                                                                    created_at=TUESDAY, triage=t))
    return t, d


def test_a_term_with_an_intent_and_a_team_shapes_triage_and_routing(session, teams):
    text = "sign the amber crew up to glimmerdeck"
    before, d = _route(session, text)
    assert before.intent != "sales_lead" and d.lead_team != "sales"

    save_entry(session, LEE, "glimmerdeck", "Glimmerdeck", "term", ["glimmer deck"], intent="sales_lead",
               team="sales")
    t, d = _route(session, "sign the amber crew up to #GlimmerDeck")
    assert t.intent == "sales_lead" and t.terms == [{"key": "glimmerdeck", "kind": "term", "intent": "sales_lead",
                                                     "team": "sales"}]
    assert "vocabulary: term glimmerdeck ('#GlimmerDeck'); +8 toward sales_lead; routes to sales" in t.explanation
    assert d.lead_team == "sales"
    assert session.scalar(select(AuditRecord.action).order_by(AuditRecord.seq.desc())) == "vocabulary.save"


def test_the_team_takes_the_lead_but_never_from_a_risk(session, teams):
    save_entry(session, LEE, "warranty", "warranty", "term", team="legal")
    t, d = _route(session, "how long is the warranty on the kettle?")
    assert d.lead_team == "legal" and "support" in d.collaborators
    assert d.rules[-1]["rule"] == "vocabulary-warranty" and "the playbook said support" in d.rules[-1]["why"]
    t, d = _route(session, "the kettle under warranty caught fire and burned my hand")
    assert t.intent == "safety_risk" and d.lead_team == "support" and "legal" in d.collaborators


def test_competitors_are_terms_not_products_and_playbooks_can_name_them(session, teams):
    save_entry(session, LEE, "rivalco", "RivalCo", "competitor")
    save_entry(session, LEE, "nimbus", "Nimbus Router", "product")
    book = Playbook.from_yaml("""
rules:
  - name: switching
    when: {terms: [rivalco]}
    then: {lead: sales, tags: [competitor]}
  - name: rest
    when: {unassigned: true}
    then: {lead: support}
""")
    t, d = _route(session, "thinking of leaving my nimbus router for rivalco", book)
    assert t.products == ["nimbus"] and [x["key"] for x in t.terms] == ["rivalco"]
    assert d.lead_team == "sales" and d.rules[0]["why"] == "names rivalco"


def test_only_coordinators_change_it_and_bad_entries_are_refused(session, teams):
    with pytest.raises(Forbidden):
        save_entry(session, SAM, "x", "X")
    for kwargs in ({"key": "Bad Key!", "name": "x"}, {"key": "ok", "name": ""}, {"key": "ok", "name": "x",
                   "kind": "brand"}, {"key": "ok", "name": "x", "intent": "gossip"},
                   {"key": "ok", "name": "x", "team": "nobody"}):
        with pytest.raises(InvalidInput):
            save_entry(session, LEE, **kwargs)
    save_entry(session, LEE, "ok", "Ok thing", "term")
    assert [e.key for e in list_entries(session, LEE)] == ["ok"]
    remove_entry(session, LEE, "ok")
    assert list_entries(session, LEE) == []


def test_the_cli_manages_it(settings, session_factory):
    with session_factory() as s:
        s.add(Team(key="sales", name="Sales"))
        s.commit()
    run = CliRunner().invoke
    url = ["--database-url", settings.database_url]
    out = run(cli, ["triage", "vocabulary", "add", "glimmerdeck", "--name", "Glimmerdeck", "--intent", "sales_lead",
                    "--team", "sales", "--alias", "glimmer deck", *url])
    assert out.exit_code == 0, out.output
    assert '"team": "sales"' in run(cli, ["triage", "vocabulary", "list", *url]).output
    assert run(cli, ["triage", "vocabulary", "add", "x", "--name", "X", "--team", "nobody", *url]).exit_code == 1
    assert run(cli, ["triage", "vocabulary", "remove", "glimmerdeck", *url]).exit_code == 0
