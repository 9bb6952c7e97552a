"""The account inventory: every channel, owner team, who may post, credential health, last activity."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from onevoice.audit.models import AuditRecord
from onevoice.channels.models import Channel
from onevoice.channels.service import add_channel
from onevoice.db import unit_of_work, utcnow

pytestmark = pytest.mark.both_databases


@pytest.fixture
def channels(runtime, org):
    with unit_of_work(runtime.session_factory) as s:
        add_channel(s, "sbx", "sandbox", "Sandbox", owner_team="support")
        mast = s.scalar(select(Channel).where(Channel.key == "mast"))
        soon = (utcnow().date() + timedelta(days=10)).isoformat()
        mast.health, mast.health_detail = "expiring", f"Page token valid until {soon}"
        mast.last_activity_at = utcnow() - timedelta(minutes=5)


def test_everyone_reads_the_inventory_and_only_owners_test_or_change(browser_for, api_for, channels, runtime):
    sam, lee = browser_for("sam"), browser_for("lee")
    page = sam.get("/governance/accounts").text
    assert 'id="account-sbx"' in page and "expiring in 10 days" in page and "5m ago" in page
    assert "/governance/accounts/sbx/test" not in page  # responders read; they do not test or change
    assert sam.post("/governance/accounts/sbx/test", data={"csrf_token": sam.csrf}).status_code == 403
    assert sam.post("/governance/accounts/sbx/owner", data={"team": "pr", "csrf_token": sam.csrf}).status_code == 403
    assert "/governance/accounts/sbx/test" in lee.get("/governance/accounts").text
    r = lee.post("/governance/accounts/sbx/test", data={"csrf_token": lee.csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/governance/accounts?tested=sbx"
    r = lee.post("/governance/accounts/mast/test", data={"csrf_token": lee.csrf})  # no credentials: failing
    assert r.status_code == 200 and 'data-health="failing"' in r.text
    lee.post("/governance/accounts/sbx/owner", data={"team": "pr", "csrf_token": lee.csrf})
    items = {a["key"]: a for a in api_for("vic").get("/api/v1/accounts").json()["items"]}
    assert items["sbx"]["health"] == "connected" and items["sbx"]["owner_team"] == "pr"
    assert "pr team" in items["sbx"]["may_post"] and items["mast"]["health"] == "failing"
    assert api_for("vic").post("/api/v1/accounts/sbx/test").status_code == 403
    assert api_for("lee").post("/api/v1/accounts/sbx/test").json()["status"] == "connected"
    with runtime.session_factory() as s:
        rows = s.scalars(select(AuditRecord).where(AuditRecord.target == "channel:sbx"))
        actions = [(r.actor, r.action) for r in rows]
    assert ("lee@acme.test", "channel.test") in actions and ("lee@acme.test", "channel.update") in actions
