"""/api/v1/posts: create, list, get, cancel, delete, retry, with token scopes; a token acts as its user."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from onevoice.audit.models import AuditRecord
from onevoice.auth.models import User
from onevoice.auth.tokens import create_token
from onevoice.db import unit_of_work, utcnow
from tests.posts.conftest import sent_on

pytestmark = pytest.mark.both_databases


@pytest.fixture
def api(api_for, people):
    return api_for


def test_create_publish_get_list_and_delete(api, runtime):
    lee = api("lee")
    channels = lee.get("/api/v1/posts/channels").json()["items"]
    limits = {c["key"]: c["limit"] for c in channels}
    assert limits["news"] == 500 and limits["xcom"] == 280 and "inbox-mail" not in limits  # email only replies
    r = lee.post("/api/v1/posts", json={"text": "Doors open at nine.", "channels": ["news", "brand"],
                                        "media": [{"url": "https://cdn.acme.example/door.jpg", "alt": "the door"}]})
    assert r.status_code == 201, r.text
    post = r.json()
    assert post["state"] == "sent" and {t["state"] for t in post["targets"]} == {"sent"}  # delivered at once
    assert all(t["url"] and t["platform_id"] for t in post["targets"])
    assert lee.get(f"/api/v1/posts/{post['id']}").json()["text"] == "Doors open at nine."
    assert [p["id"] for p in lee.get("/api/v1/posts?state=sent").json()["items"]] == [post["id"]]
    assert lee.get("/api/v1/posts?state=failed").json()["items"] == []
    assert lee.get("/api/v1/posts?state=nonsense").status_code == 422
    r = lee.delete(f"/api/v1/posts/{post['id']}?channel=news")
    assert r.status_code == 200 and {t["channel"]: t["state"] for t in r.json()["targets"]} == {
        "news": "deleted", "brand": "sent"}
    assert [r["deleted"] for r in sent_on("news")] == [True] and "deleted" not in sent_on("brand")[0]
    with runtime.session_factory() as s:
        actions = set(s.scalars(select(AuditRecord.action)))
    assert {"post.create", "post.sent", "post.delete", "post.deleted"} <= actions


def test_blocked_post_answers_422_with_findings_per_channel(api):
    r = api("lee").post("/api/v1/posts", json={"text": "Write to ana@example.com, idiot", "channels": ["news"]})
    assert r.status_code == 422
    findings = r.json()["blocked"]["news"]
    assert {f["severity"] for f in findings} >= {"block"} and any(f["match"] == "idiot" for f in findings)
    assert api("lee").get("/api/v1/posts").json()["items"] == []


def test_schedule_and_cancel(api):
    lee = api("lee")
    at = (utcnow() + timedelta(days=1)).isoformat()
    post = lee.post("/api/v1/posts", json={"text": "Tomorrow!", "channels": ["news"], "scheduled_at": at}).json()
    assert post["state"] == "scheduled" and post["scheduled"] == ["news"]
    assert lee.post("/api/v1/posts", json={"text": "x", "channels": ["news"],
                                           "scheduled_at": "2026-12-01T09:00:00"}).status_code == 422  # no zone
    # A misspelt schedule must not publish at once.
    typo = lee.post("/api/v1/posts", json={"text": "Tomorrow!", "channels": ["news"], "schedule_at": at})
    assert typo.status_code == 422 and "schedule_at" in typo.json()["detail"]
    r = lee.post(f"/api/v1/posts/{post['id']}/cancel")
    assert r.status_code == 200 and r.json()["state"] == "cancelled" and sent_on("news") == []


def test_permissions_and_scopes(api, runtime):
    assert api("vic").post("/api/v1/posts", json={"text": "hi", "channels": ["news"]}).status_code == 403
    assert api("pia").post("/api/v1/posts", json={"text": "hi", "channels": ["brand"]}).status_code == 403
    assert api("sam").post("/api/v1/posts", json={"text": "hi", "channels": ["brand"]}).status_code == 403
    mine = api("sam").post("/api/v1/posts", json={"text": "Support hours change today.", "channels": ["news"]})
    assert mine.status_code == 201
    post_id = mine.json()["id"]
    assert api("mia").delete(f"/api/v1/posts/{post_id}").status_code == 403  # not the author
    assert api("pia").get(f"/api/v1/posts/{post_id}").status_code == 404  # outside the partner's grant
    assert api("vic").get(f"/api/v1/posts/{post_id}").status_code == 200  # viewers read
    with unit_of_work(runtime.session_factory) as s:
        user_id = s.scalar(select(User.id).where(User.email == "lee@acme.test"))
        token, reader = create_token(s, "reader", user_id=user_id)
        # Set on the row: the token service's list of known scopes belongs to the access feature (see README).
        token.scopes = ["posts:read"]
    from fastapi.testclient import TestClient

    client = TestClient(runtime_app(api), headers={"Authorization": f"Bearer {reader}"})
    assert client.get("/api/v1/posts").status_code == 200
    assert client.post("/api/v1/posts", json={"text": "x", "channels": ["news"]}).status_code == 403
    assert api(None).get("/api/v1/posts").status_code == 200  # an operator token acts as an admin


def runtime_app(api):
    return api("lee").app
