"""The commands an operator runs (`contact find / export / erase`, `retention ...`) and the pages and API with
hostile or wrong input: a clear refusal, nothing lost, nothing erased by mistake."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from onevoice.audit.models import AuditRecord
from onevoice.cli.main import app as cli
from onevoice.contacts.models import Contact
from onevoice.db import exclusive, unit_of_work
from onevoice.privacy.models import PrivacyRequest, RetentionRule
from tests.governance.conftest import PASSWORD
from tests.privacy import world
from tests.web.helpers import sign_in


def run(*args) -> tuple[int, str]:
    r = CliRunner().invoke(cli, [str(a) for a in args])
    return r.exit_code, r.output


@pytest.fixture
def zelda(runtime, org, drain):
    found = world.build(runtime, org, drain)
    runtime.engine.dispose()
    return found


def test_find_export_and_erase_from_the_command_line(zelda, settings, tmp_path):
    db = ("--database-url", settings.database_url)
    code, out = run("contact", "find", "zquibble", *db)
    assert code == 0 and f"{zelda['contact_id']}\tZelda Quibbleworth\t@zquibble" in out
    code, out = run("contact", "export", zelda["contact_id"], "--reference", "SAR-9", "-o", tmp_path / "z.json", *db)
    assert code == 0, out
    doc = json.loads((tmp_path / "z.json").read_text())
    assert doc["contact"]["name"] == "Zelda Quibbleworth" and len(doc["messages"]) >= 3
    code, out = run("contact", "erase", zelda["contact_id"], *db)  # without --yes: counts only
    assert code == 0 and "nothing changed" in out and "3 message(s) written" in out
    code, out = run("contact", "erase", zelda["contact_id"], "--reference", "zquibble asked", "--yes", *db)
    assert code == 1 and "reference contains" in out
    code, out = run("contact", "erase", zelda["contact_id"], "--reference", "DSR-9", "--yes", *db)
    assert code == 0 and "erased contact" in out, out
    code, out = run("contact", "find", "zquibble", *db)
    assert code == 0 and out.strip() == ""
    code, out = run("audit", "verify", *db)
    assert code == 0 and "chain intact" in out
    code, out = run("contact", "erase", 987654, "--reference", "DSR-10", "--yes", *db)
    assert code == 1 and "no contact with id 987654" in out


def test_retention_from_the_command_line(runtime, org, settings):
    db = ("--database-url", settings.database_url)
    code, out = run("retention", "list", *db)
    assert code == 0 and "no retention rule" in out
    code, out = run("retention", "set", 30, "--channel", "mast", "--kind", "direct", *db)
    assert code == 0 and "anonymize after 30 days" in out, out
    code, out = run("retention", "set", 0, *db)
    assert code == 1 and "days must be" in out
    code, out = run("retention", "set", 30, "--action", "shred", *db)
    assert code == 1 and "action must be" in out
    code, out = run("retention", "list", *db)
    assert code == 0 and "mast\tdirect\t30 days\tanonymize" in out
    code, out = run("retention", "run", *db)
    assert code == 0 and "0 anonymized, 0 deleted" in out, out
    with exclusive(runtime.engine, "retention") as held:  # the server's hourly pass is running
        assert held
        code, out = run("retention", "run", *db)
    assert code == 1 and "already under way" in out, out
    code, out = run("retention", "runs", *db)
    assert code == 0 and "cli:" in out
    with runtime.session_factory() as s:
        rule_id = s.scalar(select(RetentionRule.id))
        assert s.scalar(select(AuditRecord.id).where(AuditRecord.action == "retention.set")) is not None
    code, out = run("retention", "remove", rule_id, *db)
    assert code == 0 and f"rule {rule_id} removed" in out


@pytest.fixture
def app_client(runtime, org):
    from onevoice.app import create_app
    from onevoice.governance.seed import seed_governance

    with unit_of_work(runtime.session_factory) as s:
        seed_governance(s)
    with TestClient(create_app(runtime.settings, runtime=runtime, start_worker=False)) as client:
        assert sign_in(client, "ada@acme.test", PASSWORD).status_code == 303
        client.headers["X-CSRF-Token"] = client.get("/inbox").text.split('data-csrf="', 1)[1].split('"', 1)[0]
        yield client


def test_pages_refuse_bad_input_and_escape_what_they_show(app_client, runtime, zelda):
    cid = zelda["contact_id"]
    # A search for hostile text is shown as text, never run.
    page = app_client.get("/governance/privacy", params={"q": "<script>alert(1)</script>\u202e\x00"})
    assert page.status_code in (200, 422) and "<script>alert(1)" not in page.text
    assert app_client.get("/governance/privacy/contacts/99999999999999999999999").status_code == 422
    assert app_client.get("/governance/privacy/contacts/987654").status_code == 404
    # Without the confirmation box, nothing is erased.
    r = app_client.post(f"/governance/privacy/contacts/{cid}/erase", data={"reference": "DSR-1"})
    assert r.status_code == 422 and "cannot be undone" in r.text
    # A reference full of markup is kept as text and shown escaped.
    r = app_client.post(f"/governance/privacy/contacts/{cid}/erase",
                        data={"reference": "<b onmouseover=x>DSR</b>", "confirm": "yes"}, follow_redirects=False)
    assert r.status_code == 303
    listing = app_client.get("/governance/privacy").text
    assert "&lt;b onmouseover=x&gt;DSR&lt;/b&gt;" in listing and "<b onmouseover" not in listing
    r = app_client.post(f"/governance/privacy/contacts/{cid}/erase", data={"reference": "x" * 101, "confirm": "yes"})
    assert r.status_code == 422 and "at most 100" in r.text
    with runtime.session_factory() as s:
        assert s.get(Contact, cid).erased_at is not None
        assert [r.reference for r in s.scalars(select(PrivacyRequest))] == ["<b onmouseover=x>DSR</b>"]
    # Retention: a number of days that is not one, a channel that does not exist.
    assert app_client.post("/governance/retention/rules", data={"days": "soon"}).status_code == 422
    r = app_client.post("/governance/retention/rules", data={"days": "30", "channel": "nope"})
    assert r.status_code == 422 and "no channel" in r.text
    api = app_client.post("/api/v1/retention/rules", json={"days": -1})
    assert api.status_code in (401, 422)
