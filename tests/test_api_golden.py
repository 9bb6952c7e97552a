"""The API answers what it answered: recorded responses and the OpenAPI paths, compared after every change.

Restructuring (moving modules, new response models) must not change what a program sees. This test feeds a fixed
set of messages through intake and the pipeline (scripted triage, the packaged playbook), then asks the API a fixed
set of questions and compares each answer, status and body, with tests/golden/api.json; and it compares the
document's paths and methods with the recorded ones. Volatile values (timestamps, tokens, hashes) are masked.

When a change is MEANT to alter an answer (a new field, a fix), re-record and read the diff before committing:
    ONEVOICE_RECORD_GOLDEN=1 .venv/bin/python -m pytest tests/test_api_golden.py
A difference you did not mean is a regression.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from onevoice.app import create_app
from onevoice.auth.tokens import create_token
from onevoice.auth.users import create_user
from onevoice.db import unit_of_work
from onevoice.governance.seed import seed_governance
from tests.factories import message, seed_org
from tests.scripted_triage import scripted_runtime

GOLDEN = Path(__file__).parent / "golden" / "api.json"
RECORD = os.environ.get("ONEVOICE_RECORD_GOLDEN") == "1"

MASKS = [
    # A time written with `Z` stays told apart: the API writes `+00:00` everywhere (jsontypes.Timestamp).
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<time Z>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d)?"), "<time>"),
    (re.compile(r"ov_[A-Za-z0-9_\-]{8,}"), "<token>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<hash>"),
    (re.compile(r"\b\d+(\.\d+)? ?(ms|s)\b"), "<duration>"),
    (re.compile(r"/tmp/\S*?(?=[)\s]|$)"), "<path>"),
]

TEXTS = [
    ("mast", "ana", "@acme my order never arrived and nobody answers", None),
    ("mast", "ana", "still waiting, this is terrible", "m-golden-1"),
    ("xcom", "ana", "do you ship to Canada?", None),
    ("xcom", "ben", "love the new app, thanks!", None),
    ("mail", "cy", "I will sue you, my lawyer is ready", None),
    ("mast", "dee", "free followers giveaway click here", None),
    ("xcom", "eve", "are you hiring designers? job please", None),
    ("mast", "fay", "what is your pricing for teams? need a quote", None),
]


def _mask(value):
    if isinstance(value, str):
        for pattern, repl in MASKS:
            value = pattern.sub(repl, value)
        return value
    if isinstance(value, list):
        return [_mask(v) for v in value]
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    return value


def _answer(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = response.text[:2000]
    return {"status": response.status_code, "body": _mask(body)}


@pytest.fixture
def world(settings):
    runtime = scripted_runtime(settings)
    operator = seed_org(runtime.session_factory)
    with unit_of_work(runtime.session_factory) as session:
        seed_governance(session)
        sam = create_user(session, "sam@acme.test", "Sam Rivera", None, "responder", ["support"])
        _, sam_token = create_token(session, "sam's script", user_id=sam.id)
    app = create_app(runtime.settings, runtime=runtime, start_worker=False)
    yield runtime, app, operator, sam_token
    runtime.dispose()


def _questions(client: TestClient, drain, sam: str) -> dict[str, dict]:
    out: dict[str, dict] = {}

    def ask(name: str, method: str, url: str, token: str | None = "op", **kw):
        headers = {} if token is None else {"Authorization": f"Bearer {sam if token == 'sam' else client.op}"}
        out[name] = _answer(client.request(method, url, headers=headers, **kw))

    items = []
    for i, (channel, author, text, ext) in enumerate(TEXTS):
        item = message(channel=channel, author=author, text=text, external_id=ext or f"m-golden-{i}",
                       minutes=i + 1)
        item["url"], item["raw"] = f"https://example.invalid/golden/{i}", {"i": i}
        if i == 1:
            item["in_reply_to"] = "m-golden-0"
        items.append(item)
    ask("intake", "POST", "/api/v1/messages", json={"messages": items})
    ask("intake.duplicate", "POST", "/api/v1/messages", json=items[0])
    ask("intake.invalid", "POST", "/api/v1/messages", json={"channel": "nope", "text": ""})
    drain()

    ask("cases", "GET", "/api/v1/cases")
    ask("cases.support", "GET", "/api/v1/cases?team=support")
    ask("cases.bad_status", "GET", "/api/v1/cases?status=nope")
    for case in out["cases"]["body"]["items"]:
        ask(f"case.{case['id']}", "GET", f"/api/v1/cases/{case['id']}")
    ask("case.missing", "GET", "/api/v1/cases/999999")
    ask("messages", "GET", "/api/v1/messages")
    ask("messages.failed", "GET", "/api/v1/messages?status=failed")
    ask("message.1", "GET", "/api/v1/messages/1")
    ask("message.missing", "GET", "/api/v1/messages/999999")
    ask("contact.1", "GET", "/api/v1/contacts/1")
    ask("unauthenticated", "GET", "/api/v1/cases", token=None)
    ask("sam.cases", "GET", "/api/v1/cases", token="sam")
    ask("sam.case.1", "GET", "/api/v1/cases/1", token="sam")
    ask("sam.cases.support", "GET", "/api/v1/cases?team=support", token="sam")
    ask("correction", "POST", "/api/v1/messages/1/corrections", token="sam",
        json={"field": "intent", "value": "question"})
    ask("guard.check", "POST", "/api/v1/guard/check",
        json={"text": "Call me at +1 555 123 4567, this is 100% guaranteed", "channel": "xcom"})
    ask("guard.rules", "GET", "/api/v1/guard/rules")
    ask("approval_rules", "GET", "/api/v1/approval-rules")
    ask("policy", "GET", "/api/v1/policy")
    ask("accounts", "GET", "/api/v1/accounts")
    ask("users", "GET", "/api/v1/users")
    ask("grants", "GET", "/api/v1/grants")
    ask("audit.verify", "GET", "/api/v1/audit/verify")
    ask("playbooks", "GET", "/api/v1/playbooks")
    ask("playbooks.learned", "GET", "/api/v1/playbooks/learned")
    ask("playbooks.validate", "POST", "/api/v1/playbooks/validate", json={"source": "rules: [\n"})
    ask("incidents", "GET", "/api/v1/incidents")
    subs, rules = "/api/v1/notifications/subscriptions", "/api/v1/notifications/thresholds"
    ask("notifications.subscriptions", "GET", subs, token="sam")
    ask("notifications.subscribe", "PATCH", subs, token="sam", json={"incident_alerts": True})
    ask("notifications.subscribe.refused", "PATCH", subs, token="sam", json={"weekly_digest": True})
    ask("notifications.personless", "GET", subs)
    ask("notifications.threshold", "POST", rules, json={"metric": "resolution_sla", "team": "support",
                                                        "threshold_percent": 90})
    ask("notifications.threshold.unknown_team", "POST", rules, json={"team": "nope", "threshold_percent": 90})
    ask("notifications.threshold.out_of_range", "POST", rules, json={"threshold_percent": 150})
    ask("notifications.thresholds", "GET", rules)
    ask("notifications.thresholds.responder", "GET", rules, token="sam")
    ask("posts.channels", "GET", "/api/v1/posts/channels", token="sam")
    ask("posts.create", "POST", "/api/v1/posts", token="sam",
        json={"text": "Our spring update is out", "channels": ["xcom"], "draft": True})
    ask("posts", "GET", "/api/v1/posts", token="sam")
    ask("posts.unknown_field", "POST", "/api/v1/posts", token="sam",
        json={"text": "x", "channels": ["xcom"], "schedule_at": "2030-01-01T00:00:00Z"})
    ask("contact.link", "POST", "/api/v1/contacts/1/link", json={"other": 2})
    return out


def test_api_answers_and_paths_are_unchanged(world):
    runtime, app, operator, sam = world
    from onevoice.worker.runner import EmbeddedWorker

    worker = EmbeddedWorker(runtime.processor, runtime.session_factory, runtime.broker.publish)
    with TestClient(app) as client:
        client.op = operator
        answers = _questions(client, lambda: worker.drain(timeout=60), sam)
    paths = {path: sorted(ops) for path, ops in app.openapi()["paths"].items()}
    now = {"paths": paths, "answers": answers}
    if RECORD:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(now, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
        pytest.skip("recorded tests/golden/api.json: read the diff before committing")
    recorded = json.loads(GOLDEN.read_text())
    assert now["paths"] == recorded["paths"], "the OpenAPI paths or methods changed"
    for name, answer in recorded["answers"].items():
        assert name in answers, f"{name}: no longer asked"
        assert answers[name] == answer, f"{name}: the answer changed"
    assert set(answers) == set(recorded["answers"])
