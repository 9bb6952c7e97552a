"""Replies: the outbox (queued -> sent | retried | failed), approvals, collisions, the library."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from onevoice.approvals.models import Approval
from onevoice.auth.models import User
from onevoice.connectors.base import ConnectorError, OutboundResult
from onevoice.messages.models import Message
from onevoice.outbox.models import OutboxJob
from onevoice.outbox.sender import deliver_due
from tests.factories import message
from tests.web.helpers import page_csrf

pytestmark = pytest.mark.both_databases


class FlakyConnector:
    """Fails transiently `fails` times, then sends; remembers idempotency keys like a real platform."""

    def __init__(self, fails=1, permanent=False):
        self.fails, self.permanent, self.sent = fails, permanent, {}

    def __call__(self, kind, config):
        return self

    def reply(self, parent, text, key):
        if self.fails:
            self.fails -= 1
            raise ConnectorError("platform timed out", permanent=self.permanent)
        self.sent.setdefault(key, (parent["external_id"], text))
        return OutboundResult(f"platform-{len(self.sent)}", "https://example.invalid/p")


def reply(client, case_id, text, **extra):
    return client.post(f"/cases/{case_id}/reply", data={"text": text, **extra},
                       headers={"X-CSRF-Token": page_csrf(client)})


def outbound(runtime, case_id):
    with runtime.session_factory() as s:
        return list(s.scalars(select(Message).where(Message.case_id == case_id, Message.direction == "outbound")))


def test_a_reply_is_queued_then_sent_through_the_connector(browser_for, post, runtime):
    [case_id] = post(message(text="broken, terrible", external_id="p-1"))
    sam = browser_for("sam@acme.test")
    r = reply(sam, case_id, "Hi Ana, we're on it.")
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "reply-sent"
    [m] = outbound(runtime, case_id)
    assert m.status in ("queued", "sent") and m.in_reply_to == "p-1" and m.sent_by == "sam@acme.test"
    # The page delivers at once in the background; the test's sender may find the job claimed by it (skipped
    # while locked: seen once on PostgreSQL as "queued"), so it tries again until one of them has sent it.
    deadline = time.monotonic() + 10
    while True:
        deliver_due(runtime.session_factory)  # the sandbox connector "sends" locally
        [m] = outbound(runtime, case_id)  # still one message: sent by one of the two, once
        if m.status == "sent" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert m.status == "sent" and m.raw["platform_id"].startswith("sandbox-out-")
    assert "Sent ✓" in sam.get(f"/cases/{case_id}").text


def queue_reply(runtime, case_id, text):
    """Through the service, so that the page's immediate delivery does not race the test's connector."""
    from onevoice.auth.users import principal_for
    from onevoice.db import unit_of_work
    from onevoice.desk.replies import send_reply

    with unit_of_work(runtime.session_factory) as s:
        sam = principal_for(s, s.scalar(select(User).where(User.email == "sam@acme.test")))
        send_reply(s, sam, case_id, text)


def test_transient_failures_retry_with_backoff_and_permanent_ones_show(browser_for, post, runtime):
    [case_id] = post(message(text="broken, terrible"))
    sam = browser_for("sam@acme.test")
    queue_reply(runtime, case_id, "first try")
    flaky = FlakyConnector(fails=1)
    deliver_due(runtime.session_factory, build=flaky)
    [m] = outbound(runtime, case_id)
    assert m.status == "queued" and "retrying" in m.error
    with runtime.session_factory() as s:
        job = s.scalar(select(OutboxJob))
        assert job.attempts == 1 and job.next_attempt_at > job.created_at
    deliver_due(runtime.session_factory, build=flaky, now=job.next_attempt_at)
    [m] = outbound(runtime, case_id)
    assert m.status == "sent" and len(flaky.sent) == 1

    queue_reply(runtime, case_id, "second message")
    deliver_due(runtime.session_factory, build=FlakyConnector(fails=1, permanent=True))
    failed = [x for x in outbound(runtime, case_id) if x.status == "failed"]
    assert len(failed) == 1 and "platform timed out" in failed[0].error
    page = sam.get(f"/cases/{case_id}").text
    assert "Failed: platform timed out" in page and f"/messages/{failed[0].id}/retry" in page
    r = sam.post(f"/cases/{case_id}/messages/{failed[0].id}/retry", headers={"X-CSRF-Token": page_csrf(sam)})
    assert r.status_code == 200
    assert all(x.status == "sent" for x in outbound(runtime, case_id))


def test_replies_on_cases_that_need_approval_wait_for_an_approver(browser_for, post, runtime):
    [case_id] = post(message(text="My lawyer will sue you"))  # the playbook requires approval (legal)
    sam, lena = browser_for("sam@acme.test"), browser_for("lena@acme.test")
    assert "Send for approval" in sam.get(f"/cases/{case_id}").text
    reply(sam, case_id, "We're sorry, we'd like to make this right.")
    [m] = outbound(runtime, case_id)
    assert m.status == "pending_approval"
    deliver_due(runtime.session_factory)
    assert outbound(runtime, case_id)[0].status == "pending_approval"  # nothing goes out before approval
    assert f'id="case-{case_id}"' in lena.get("/inbox?queue=approval").text
    with runtime.session_factory() as s:
        approval = s.scalar(select(Approval))
    r = sam.post(f"/approvals/{approval.id}/decide", data={"decision": "approve"},
                 headers={"X-CSRF-Token": page_csrf(sam)})
    assert r.status_code == 403  # a support responder cannot approve
    r = lena.post(f"/approvals/{approval.id}/decide", data={"decision": "approve"},
                  headers={"X-CSRF-Token": page_csrf(lena)})
    assert r.status_code == 200
    assert outbound(runtime, case_id)[0].status == "sent"
    r = lena.post(f"/approvals/{approval.id}/decide", data={"decision": "reject"},
                  headers={"X-CSRF-Token": page_csrf(lena)})
    assert r.status_code == 422


def test_someone_else_replying_meanwhile_asks_for_confirmation(browser_for, post, runtime):
    [case_id] = post(message(text="broken, terrible"))
    sam, lee = browser_for("sam@acme.test"), browser_for("lee@acme.test")
    with runtime.session_factory() as s:
        seen = s.scalar(select(Message.id).where(Message.case_id == case_id))
    reply(lee, case_id, "Lee's answer", seen=str(seen))
    r = reply(sam, case_id, "Sam's answer", seen=str(seen))
    assert r.headers["HX-Retarget"] == "#composer-alert" and "Lee Coordinator replied" in r.text
    assert len(outbound(runtime, case_id)) == 1
    r = reply(sam, case_id, "Sam's answer", seen=str(seen), confirm="1")
    assert r.headers["HX-Trigger"] == "reply-sent" and len(outbound(runtime, case_id)) == 2


def test_channel_length_limit_and_library_variables(browser_for, post, runtime):
    [case_id] = post(message(text="broken, terrible", channel="xcom", author="zoe"))
    sam = browser_for("sam@acme.test")
    r = reply(sam, case_id, "x" * 501)  # sandbox channels allow 500
    assert r.status_code == 422 and "500 characters" in r.text
    answers = sam.get(f"/cases/{case_id}/answers?q=trouble").text
    assert "Hi Zoe, sorry about the trouble" in answers and "Sam" in answers and "{{" not in answers
    lib = sam.post("/library", data={"title": "x", "body": "y", "csrf_token": page_csrf(sam)})
    assert lib.status_code == 403  # responders use the library; coordinators and managers edit it
