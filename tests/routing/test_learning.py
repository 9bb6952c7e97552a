"""Learning routing from team corrections, end to end through the API and the running pipeline."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from onevoice.audit.models import AuditRecord
from onevoice.messages.models import RoutingDecision
from tests.factories import message

pytestmark = pytest.mark.both_databases


def _send(client, drain, texts: list[str], channel: str = "mast") -> list[int]:
    r = client.post("/api/v1/messages", json={"messages": [message(text=t, author=f"w{abs(hash(t)) % 10**8}",
                                                                   channel=channel) for t in texts]})
    drain()
    return [a["id"] for a in r.json()["accepted"]]


def _decision(runtime, message_id: int) -> RoutingDecision:
    with runtime.session_factory() as s:
        return s.scalar(select(RoutingDecision).where(RoutingDecision.message_id == message_id))


def _correct(client, ids: list[int], team: str) -> None:
    for mid in ids:
        r = client.post(f"/api/v1/messages/{mid}/corrections", json={"field": "team", "value": team})
        assert r.status_code == 201, r.text


def test_three_consistent_corrections_route_the_next_similar_message(as_, runtime, drain):
    ops, lee = as_("ops"), as_("lee")
    # Questions about invoices land on support (the playbook's `question` rule); sales handles them here.
    ids = _send(ops, drain, [f"can I get an invoice for order {n}?" for n in range(4)])
    assert {_decision(runtime, i).lead_team for i in ids} == {"support"}
    _correct(lee, ids[:2], "sales")
    [second] = _send(ops, drain, ["can I get an invoice for order 50?"])
    assert _decision(runtime, second).lead_team == "support"  # two corrections are not a pattern yet
    _correct(lee, ids[2:3], "sales")

    [after] = _send(ops, drain, ["can I get an invoice for order 51?"])
    d = _decision(runtime, after)
    assert d.lead_team == "sales"
    fired = d.rules[-1]
    assert fired["rule"] == "learned-question-sandbox-to-sales"
    assert fired["why"] == ("learned from 3 corrections by token:t-lee: question with no product or topic on "
                            "sandbox goes to sales (routing said support)")
    # Only the same context: a complaint on the same channel still goes to support.
    [complaint] = _send(ops, drain, ["my invoice is terrible"])
    assert _decision(runtime, complaint).lead_team == "support"

    # The coordinator sees it on the playbook page (and the API) ...
    [learned] = lee.get("/api/v1/playbooks/learned").json()["items"]
    assert (learned["intent"], learned["subject"], learned["channel_kind"], learned["team"]) == (
        "question", "", "sandbox", "sales") and learned["corrections"] == 3

    # ... and promotes it: the playbook now says it, as its first rule, in a new active version.
    promoted = lee.post("/api/v1/playbooks/learned/promote", json={
        "intent": "question", "subject": "", "channel_kind": "sandbox", "team": "sales"}).json()
    assert promoted["playbook"]["active"] and promoted["playbook"]["version"] == 2
    assert "  - name: learned-question-sandbox-to-sales\n" in promoted["playbook"]["source"]
    assert "# The default playbook" in promoted["playbook"]["source"]  # comments kept
    assert lee.get("/api/v1/playbooks/learned").json()["items"] == []
    [later] = _send(ops, drain, ["can I get an invoice for order 52?"])
    d = _decision(runtime, later)
    assert d.lead_team == "sales" and d.rules[0]["rule"] == "learned-question-sandbox-to-sales"
    # The playbook rule decided; the learned one has nothing left to add.
    assert d.playbook_version == "default-2" and [r["rule"] for r in d.rules].count(fired["rule"]) == 1
    with runtime.session_factory() as s:
        actions = [a.action for a in s.scalars(select(AuditRecord).order_by(AuditRecord.seq))]
    assert actions[-3:] == ["playbook.save", "playbook.activate", "learned_route.promote"]


def test_a_contrary_correction_resets_and_a_dismissed_rule_stops(as_, runtime, drain):
    ops, lee = as_("ops"), as_("lee")
    ids = _send(ops, drain, [f"do you ship to island {n}?" for n in range(5)])
    _correct(lee, ids[:3], "marketing")
    _correct(lee, ids[3:4], "support")  # someone disagrees: no longer consistent
    [one] = _send(ops, drain, ["do you ship to island 9?"])
    assert _decision(runtime, one).lead_team == "support"
    assert lee.get("/api/v1/playbooks/learned").json()["items"] == []

    _correct(lee, [*ids[:3], ids[4]], "marketing")  # the latest per message: 4 for marketing, 1 for support
    more = _send(ops, drain, [f"do you ship to island {n}?" for n in (20, 21, 22)])
    _correct(lee, more, "marketing")
    [two] = _send(ops, drain, ["do you ship to island 30?"])
    assert _decision(runtime, two).lead_team == "marketing"

    # Dismissed: routing was right after all; the corrections so far stop counting.
    r = lee.post("/api/v1/playbooks/learned/dismiss", json={"intent": "question", "channel_kind": "sandbox",
                                                             "team": "marketing"})
    assert r.status_code == 200
    [three] = _send(ops, drain, ["do you ship to island 31?"])
    assert _decision(runtime, three).lead_team == "support"
    again = lee.post("/api/v1/playbooks/learned/dismiss", json={"intent": "question", "channel_kind": "sandbox",
                                                                 "team": "marketing"})
    assert again.status_code == 422 and "no learned rule" in again.json()["detail"]
    # Responders cannot promote or dismiss.
    assert as_("sam").post("/api/v1/playbooks/learned/dismiss", json={"intent": "question",
                                                                       "team": "marketing"}).status_code == 403
