"""accept -> normalize -> triage -> route -> thread: cases as a coordinated organization expects."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from tests.factories import message

from onevoice.cases.models import Case, CaseTeam
from onevoice.events.models import Event
from onevoice.messages.models import Message, RoutingDecision

pytestmark = pytest.mark.both_databases


def post(client, *items):
    r = client.post("/api/v1/messages", json={"messages": list(items)})
    assert r.status_code == 202 and not r.json()["rejected"], r.text
    return [a["id"] for a in r.json()["accepted"]]


def msg(client, mid):
    return client.get(f"/api/v1/messages/{mid}").json()


def test_message_becomes_a_routed_case(client, drain):
    [mid] = post(client, message(text="My router is broken and support never answers. Terrible!"))
    drain()
    m = msg(client, mid)
    assert m["status"] == "processed"
    assert m["triage"]["sentiment"] == "negative"
    assert m["routing"]["lead_team"] == "support"
    case = client.get(f"/api/v1/cases/{m['case_id']}").json()
    assert case["lead_team"] == "support" and case["status"] == "open"
    assert [x["id"] for x in case["messages"]] == [mid]
    assert case["sla_due_at"] and case["routing_reason"]
    assert {"message.processed", "case.opened"} <= {e["kind"] for e in case["events"]}


def test_reply_joins_its_parents_conversation_and_case(client, drain):
    [root] = post(client, message(external_id="root", text="my order never arrived", author="ana"))
    drain()
    [reply] = post(client, message(external_id="r1", in_reply_to="root", text="any news?", author="ana",
                                   kind="comment"))
    drain()
    a, b = msg(client, root), msg(client, reply)
    assert b["conversation_id"] == a["conversation_id"]
    assert b["case_id"] == a["case_id"]
    assert client.get(f"/api/v1/cases/{a['case_id']}").json()["message_count"] == 2


def test_reply_arriving_before_its_parent_still_lands_in_one_case(client, drain):
    [reply] = post(client, message(external_id="child", in_reply_to="parent", text="hello??", author="bo"))
    drain()
    [parent] = post(client, message(external_id="parent", text="my refund never arrived", author="bo"))
    drain()
    assert msg(client, reply)["conversation_id"] == msg(client, parent)["conversation_id"]
    assert msg(client, reply)["case_id"] == msg(client, parent)["case_id"]


def test_same_contact_same_topic_joins_open_case_other_topic_opens_new(client, drain):
    first, second = post(client, message(text="my order never arrived", author="cy", external_id="a1"),
                         message(text="still waiting, this is terrible", author="cy", external_id="a2"))
    [third] = post(client, message(text="Are you hiring engineers? I'd love a job there", author="cy"))
    drain()
    assert msg(client, first)["case_id"] == msg(client, second)["case_id"]
    assert msg(client, third)["case_id"] != msg(client, first)["case_id"]


def test_same_author_on_another_channel_of_the_same_platform_is_one_contact(client, runtime, drain):
    from onevoice.channels.service import add_channel
    from onevoice.db import unit_of_work

    with unit_of_work(runtime.session_factory) as s:
        add_channel(s, "mast2", "sandbox")
    a, b = post(client, message(channel="mast", author="dee", text="broken again"),
                message(channel="mast2", author="dee", text="why is it broken"))
    drain()
    ma, mb = msg(client, a), msg(client, b)
    assert ma["contact_id"] == mb["contact_id"]
    case = client.get(f"/api/v1/cases/{ma['case_id']}").json()
    assert {i["channel"] for i in case["contact"]["identities"]} == {"mast", "mast2"}


def test_legal_threat_brings_legal_in_and_requires_approval(client, drain):
    [mid] = post(client, message(text="I will sue you, my lawyer is preparing the lawsuit"))
    drain()
    case = client.get(f"/api/v1/cases/{msg(client, mid)['case_id']}").json()
    assert "legal" in case["collaborators"]
    assert case["requires_approval"] is True


def test_spam_is_closed_as_spam_and_kept(client, drain):
    [mid] = post(client, message(text="GIVEAWAY click here for free followers"))
    drain()
    m = msg(client, mid)
    case = client.get(f"/api/v1/cases/{m['case_id']}").json()
    assert case["status"] == "closed_spam"
    assert client.get("/api/v1/cases?status=closed_spam").json()["items"][0]["id"] == case["id"]


def test_team_queue_lists_led_and_collaborating_cases_with_cursor(client, drain):
    ids = post(client, *[message(text=f"my order {i} never arrived, terrible", author=f"u{i}", minutes=i + 1)
                         for i in range(7)])
    [legal] = post(client, message(text="my lawyer will sue", author="law", minutes=30))
    drain()
    support = client.get("/api/v1/cases?team=support&limit=3").json()
    assert len(support["items"]) == 3 and support["next_cursor"]
    seen = [c["id"] for c in support["items"]]
    cursor = support["next_cursor"]
    while cursor:
        page = client.get(f"/api/v1/cases?team=support&limit=3&cursor={cursor}").json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 8
    legal_queue = client.get("/api/v1/cases?team=legal").json()["items"]
    assert [c["id"] for c in legal_queue] == [msg(client, legal)["case_id"]]
    assert legal_queue[0]["lead_team"] == "support" and "legal" in legal_queue[0]["collaborators"]
    assert len(ids) == 7


def test_case_filters_reject_unknown_values_clearly(client):
    assert "unknown team" in client.get("/api/v1/cases?team=nope").json()["detail"]
    assert client.get("/api/v1/cases?status=weird").status_code == 422
    assert client.get("/api/v1/cases?cursor=%%%").status_code in (400, 422)
    assert client.get("/api/v1/cases/999999").status_code == 404


def test_processing_twice_changes_nothing(client, runtime, drain):
    ids = post(client, *[message(text="broken", author=f"p{i}") for i in range(5)])
    drain()
    with runtime.session_factory() as s:
        before = (s.scalar(select(func.count()).select_from(Case)), s.scalar(select(func.count()).select_from(Event)))
    outcome = runtime.processor.process(ids)
    assert outcome.processed == [] and outcome.failed == []
    with runtime.session_factory() as s:
        after = (s.scalar(select(func.count()).select_from(Case)), s.scalar(select(func.count()).select_from(Event)))
        assert s.scalar(select(func.count()).select_from(RoutingDecision)) == 5
    assert before == after


def test_a_failing_message_is_isolated_kept_and_retryable(client, runtime, drain, monkeypatch):
    ids = post(client, *[message(text=f"question {i}?", author=f"q{i}") for i in range(4)])
    bad = ids[2]
    real = runtime.processor.triager.triage_batch

    def flaky(items):
        if any(i.text == "question 2?" for i in items):
            raise RuntimeError("model exploded on this one")
        return real(items)

    monkeypatch.setattr(runtime.processor.triager, "triage_batch", flaky)
    drain()
    failed = client.get("/api/v1/messages?status=failed").json()["items"]
    assert [f["id"] for f in failed] == [bad]
    assert "model exploded" in failed[0]["error"]
    assert all(msg(client, i)["status"] == "processed" for i in ids if i != bad)
    monkeypatch.setattr(runtime.processor.triager, "triage_batch", real)
    assert client.post("/api/v1/messages/retry", json={"ids": [bad]}).json()["retried"] == [bad]
    drain()
    m = msg(client, bad)
    assert m["status"] == "processed" and m["attempts"] == 1
    assert [e["kind"] for e in m["events"]][:2] == ["message.failed", "message.retried"]


def test_database_error_in_one_message_does_not_sink_the_batch(client, runtime, drain, monkeypatch):
    ids = post(client, *[message(text=f"broken thing {i}", author=f"z{i}") for i in range(6)])
    from onevoice.pipeline import thread

    original = thread.Threader.place

    def place(self, m, *args, **kw):
        placement = original(self, m, *args, **kw)
        if m.id == ids[3]:
            # Violates NOT NULL at the insert: a real database error (not a foreign key: SQLite does not check
            # them in the processor's write transactions, db.keys_unchecked).
            placement.case.status = None
        return placement

    monkeypatch.setattr(thread.Threader, "place", place)
    drain()
    with runtime.session_factory() as s:
        statuses = dict(s.execute(select(Message.id, Message.status)).all())
        assert statuses[ids[3]] == "failed"
        assert [statuses[i] for i in ids if i != ids[3]] == ["processed"] * 5
        assert s.scalar(select(func.count()).select_from(CaseTeam)) >= 5


def test_same_person_on_two_platforms_is_linked_into_one_view(client, runtime, drain):
    from onevoice.channels.service import add_channel
    from onevoice.db import unit_of_work

    with unit_of_work(runtime.session_factory) as s:
        add_channel(s, "fb", "webhook", config={"secret": "linking-test-secret"})
    a, b = post(client, message(channel="mast", author="ana-m", text="my order never arrived"),
                message(channel="fb", author="ana-fb", text="hello? still waiting on my order"))
    drain()
    ca, cb = msg(client, a)["contact_id"], msg(client, b)["contact_id"]
    assert ca != cb
    linked = client.post(f"/api/v1/contacts/{ca}/link", json={"other": cb}).json()
    assert {i["channel"] for i in linked["identities"]} == {"mast", "fb"}
    assert msg(client, b)["contact_id"] == ca
    case = client.get(f"/api/v1/cases/{msg(client, a)['case_id']}").json()
    assert [c["id"] for c in case["contact"]["other_cases"]] == [msg(client, b)["case_id"]]
    assert client.get(f"/api/v1/contacts/{cb}").status_code == 404
    assert client.post(f"/api/v1/contacts/{ca}/link", json={"other": ca}).status_code == 422


def test_raw_payload_round_trips_whatever_json_it_holds(client, drain):
    raw = {"id": 2**62, "text": "Chloé says 🙌 \u2028", "nested": [1.5, None, True, {"k": "v"}]}
    [mid] = post(client, {**message(text="hello"), "raw": raw})
    drain()
    assert msg(client, mid)["raw"] == raw


def test_json_columns_store_what_orjson_refuses():
    import json

    from onevoice.db import json_dumps

    assert json.loads(json_dumps({"big": 10**30, 1: "int key"})) == {"big": 10**30, "1": "int key"}
    assert json.loads(json_dumps({"text": "Chloé 🙌"})) == {"text": "Chloé 🙌"}


def test_reply_to_a_reply_in_the_same_batch_stays_in_the_thread(client, drain):
    [root] = post(client, message(external_id="t0", text="my order never arrived", author="gia"))
    drain()
    child, grandchild = post(client, message(external_id="t1", in_reply_to="t0", text="any news?", author="gia"),
                             message(external_id="t2", in_reply_to="t1", text="hello??", author="gia"))
    drain()
    convs = {msg(client, mid)["conversation_id"] for mid in (root, child, grandchild)}
    cases = {msg(client, mid)["case_id"] for mid in (root, child, grandchild)}
    assert len(convs) == 1 and len(cases) == 1


def test_surge_hook_changes_to_a_case_are_stored_with_its_queue_entries(client, runtime, drain):
    from onevoice.cases.models import Case, CaseTeam

    def surge(session, items, now):
        for case, _triage, _at in items:
            case.priority = "urgent"
        return []

    runtime.processor.surge = surge
    [mid] = post(client, message(text="my order never arrived", author="hal"))
    drain()
    with runtime.session_factory() as s:
        case_id = s.scalar(select(Message.case_id).where(Message.id == mid))
        assert s.get(Case, case_id).priority == "urgent"
        assert {t.priority for t in s.scalars(select(CaseTeam).where(CaseTeam.case_id == case_id))} == {"urgent"}


def test_worker_takes_bigger_batches_while_a_backlog_lasts(client, runtime):
    from onevoice.worker.runner import EmbeddedWorker

    post(client, *[message(text=f"question {i}?", author=f"b{i}") for i in range(9)])
    worker = EmbeddedWorker(runtime.processor, runtime.session_factory, lambda _events: None,
                            batch_size=2, max_batch_size=4)
    sizes = [len(worker.run_once().processed) for _ in range(4)]
    assert sizes == [2, 4, 3, 0]
    assert worker._limit == 2  # back to the base size once the backlog is gone
