"""POST /api/v1/messages: nothing lost, nothing twice, every rejection explained."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import text
from tests.factories import message

pytestmark = pytest.mark.both_databases


def test_one_message_is_accepted_and_stored(client):
    item = message(text="my order never arrived")
    r = client.post("/api/v1/messages", json=item)
    assert r.status_code == 202
    body = r.json()
    assert body["rejected"] == []
    [accepted] = body["accepted"]
    assert accepted["external_id"] == item["external_id"] and accepted["duplicate"] is False
    stored = client.get(f"/api/v1/messages/{accepted['id']}").json()
    assert stored["status"] == "accepted"
    assert stored["raw"] == item["raw"], "the platform payload is kept verbatim"
    assert stored["text"] == "my order never arrived"


def test_posting_again_returns_same_id_and_creates_nothing(client):
    item = message()
    first = client.post("/api/v1/messages", json=item).json()["accepted"][0]
    again = client.post("/api/v1/messages", json={"messages": [item, item]}).json()["accepted"]
    assert [a["id"] for a in again] == [first["id"], first["id"]]
    assert all(a["duplicate"] for a in again)
    listed = client.get("/api/v1/messages").json()["items"]
    assert len(listed) == 1


def test_same_external_id_on_two_channels_is_two_messages(client):
    a = client.post("/api/v1/messages", json=message(channel="mast", external_id="42")).json()["accepted"][0]
    b = client.post("/api/v1/messages", json=message(channel="xcom", external_id="42")).json()["accepted"][0]
    assert a["id"] != b["id"] and not b["duplicate"]


def test_batch_keeps_valid_items_and_explains_each_rejection(client):
    items = [
        message(text="fine"),
        message(channel="nope"),
        {"channel": "mast", "external_id": "x1", "text": "no author"},
        message(created_at="last tuesday"),
        message(text="x" * 40_001),
        message(kind="tweet"),
        "not an object",
        message(text="also fine"),
    ]
    r = client.post("/api/v1/messages", json={"messages": items})
    assert r.status_code == 202
    body = r.json()
    assert [a["index"] for a in body["accepted"]] == [0, 7]
    errors = {rej["index"]: rej["error"] for rej in body["rejected"]}
    assert "unknown channel 'nope'" in errors[1]
    assert "missing field 'author'" in errors[2]
    assert "created_at" in errors[3] and "ISO 8601" in errors[3]
    assert "text too long" in errors[4]
    assert "unknown kind 'tweet'" in errors[5]
    assert "JSON object" in errors[6]


def test_a_full_batch_mixing_new_stored_repeated_and_bad_items_stores_each_exactly_once(client):
    """500 items (the bulk path): some stored by an earlier request, some repeated within the batch, some bad.
    Every good item gets its message's id, `duplicate` says whether this request stored it, nothing is lost
    and no message is stored twice."""
    earlier = [message(external_id=f"bulk-{i}") for i in range(0, 500, 7)]
    before = {a["external_id"]: a["id"] for a in
              client.post("/api/v1/messages", json={"messages": earlier}).json()["accepted"]}
    items = []
    for i in range(500):
        if i % 50 == 3:
            items.append({"channel": "mast", "external_id": f"bad-{i}", "text": "no author"})
        elif i % 50 == 4:
            items.append(message(external_id="bulk-1"))  # repeated within the batch (its first use is index 1)
        else:
            items.append(message(external_id=f"bulk-{i}", text=f"item {i}"))
    body = client.post("/api/v1/messages", json={"messages": items}).json()
    assert [r["index"] for r in body["rejected"]] == [i for i in range(500) if i % 50 == 3]
    assert all("missing field 'author'" in r["error"] for r in body["rejected"])
    accepted = {a["index"]: a for a in body["accepted"]}
    assert len(accepted) + len(body["rejected"]) == 500
    for i, a in accepted.items():
        ext = items[i]["external_id"]
        assert a["external_id"] == ext
        if ext in before:
            assert a["id"] == before[ext] and a["duplicate"]
        elif i % 50 == 4:
            assert a["id"] == accepted[1]["id"] and a["duplicate"]
        else:
            assert not a["duplicate"]
    distinct = {a["external_id"] for a in accepted.values()} | set(before)
    ids = {a["id"] for a in accepted.values()} | set(before.values())
    assert len(ids) == len(distinct)  # one message per (channel, external id), never two
    stored, cursor = [], None
    while True:
        page = client.get("/api/v1/messages", params={"limit": 500, **({"cursor": cursor} if cursor else {})}).json()
        stored += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert sorted(m["id"] for m in stored) == sorted(ids)
    by_id = {m["id"]: m for m in stored}
    assert by_id[accepted[10]["id"]]["text"] == "item 10"


@pytest.mark.parametrize("body, status, words", [
    (b"", 400, "empty body"),
    (b"{not json", 400, "not valid JSON"),
    (b"\xff\xfe\x00binary", 400, "not UTF-8 (byte 0xff at offset 0)"),
    (b'{"text": "ok \xc3("}', 400, "not UTF-8 (byte 0xc3 at offset 13)"),
    # Deeper than orjson's limit and the standard library's recursion limit: a 400, not a RecursionError.
    (b"[" * 100_000 + b"]" * 100_000, 400, "nested too deeply"),
    (b'{"a": ' * 5_000 + b"1" + b"}" * 5_000, 400, "nested too deeply"),
    (b"42", 422, "JSON object"),
    (b'{"messages": "nope"}', 422, "must be a list"),
    # A batch under another key: read as one message it was rejected for "missing field 'channel'".
    (b'{"items": [{"channel": "sandbox-x", "text": "hi"}]}', 422, 'a batch goes under "messages"'),
])
def test_malformed_bodies_get_a_clear_4xx(client, body, status, words):
    r = client.post("/api/v1/messages", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == status
    assert words in r.json()["detail"]


def test_too_many_messages_in_one_batch(client):
    r = client.post("/api/v1/messages", json={"messages": [message() for _ in range(1001)]})
    assert r.status_code == 413
    assert "at most 1000" in r.json()["detail"]


def test_giant_body_is_refused_without_reading_it_all(client, runtime):
    runtime.settings.max_body_bytes = 10_000
    r = client.post("/api/v1/messages", content=b"[" + b" " * 20_000 + b"]")
    assert r.status_code == 413


def test_hostile_text_is_stored_exactly(client):
    hostile = "<script>alert('x')</script> '; DROP TABLE messages; -- \u202e\u200b 𝕳𝖊𝖑𝖑𝖔 👩‍👩‍👧 ناراض"
    mid = client.post("/api/v1/messages", json=message(text=hostile)).json()["accepted"][0]["id"]
    assert client.get(f"/api/v1/messages/{mid}").json()["text"] == hostile


def test_nul_and_lone_surrogates_are_kept_as_replacement_characters(client):
    raw = b'{"channel":"mast","external_id":"s1","author":{"external_id":"a"},"text":"a\\u0000b\\ud800c"}'
    r = client.post("/api/v1/messages", content=raw)
    assert r.status_code == 202, r.text
    mid = r.json()["accepted"][0]["id"]
    assert client.get(f"/api/v1/messages/{mid}").json()["text"] == "a\ufffdb\ufffdc"


def test_requires_a_valid_token(client):
    item = message()
    assert client.post("/api/v1/messages", json=item, headers={"Authorization": ""}).status_code == 401
    assert client.post("/api/v1/messages", json=item, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/v1/messages").status_code == 200


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_text_round_trips_or_is_replaced_visibly(client, text):
    item = message(text=text)
    r = client.post("/api/v1/messages", json=item)
    assert r.status_code == 202
    mid = r.json()["accepted"][0]["id"]
    stored = client.get(f"/api/v1/messages/{mid}").json()["text"]
    expected = re.sub("[\ud800-\udfff]", "\ufffd", text.replace("\x00", "\ufffd"))
    assert stored == expected


@pytest.mark.sqlite_only
def test_new_ids_are_right_when_sqlite_does_not_number_past_the_top(client, runtime):
    """SQLite numbers a new row one past the largest id, except when that id is the largest possible: then it
    picks free ids at random, below the top. Intake reads the new rows' ids as those above the old top; here it
    must notice that it found none and ask by key, so each item still gets its own message's id."""
    assert runtime.settings.database_url.startswith("sqlite")
    first = client.post("/api/v1/messages", json={"messages": [message(external_id="top")]}).json()
    with runtime.session_factory.begin() as session:
        session.execute(text("UPDATE messages SET id = :top WHERE id = :id"),
                        {"top": 2**63 - 1, "id": first["accepted"][0]["id"]})
    items = [message(external_id=f"after-top-{i}", text=f"item {i}") for i in range(5)]
    body = client.post("/api/v1/messages", json={"messages": [*items, message(external_id="top")]}).json()
    assert [a["duplicate"] for a in body["accepted"]] == [False] * 5 + [True]
    assert body["accepted"][5]["id"] == 2**63 - 1
    for item, accepted in zip(items, body["accepted"], strict=False):
        stored = client.get(f"/api/v1/messages/{accepted['id']}").json()
        assert (stored["external_id"], stored["text"]) == (item["external_id"], item["text"])
