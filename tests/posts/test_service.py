"""Publishing through the services: permissions, checks, the guard, approvals, scheduling, the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from onevoice.approvals import service as approvals
from onevoice.approvals.models import Approval
from onevoice.audit.models import AuditRecord
from onevoice.channels.models import Channel
from onevoice.connectors.base import AuthExpired, ConnectorError
from onevoice.db import unit_of_work, utcnow
from onevoice.errors import Forbidden, InvalidInput, NotFound
from onevoice.governance.review import guard
from onevoice.inbox.models import Notification
from onevoice.outbox.models import OutboxJob
from onevoice.outbox.sender import deliver_due
from onevoice.posts import service
from onevoice.posts.jobs import publish_due
from tests.posts.conftest import granted, sent_on


def decide(session, who, approval_id, approve, **kw):
    """An approval decision as the desk's approvals page makes it: with the policy guard (an edited text is
    checked again) and publishing of an approved post handed in."""
    return approvals.decide(session, who, approval_id, approve, guard=guard, release_post=service.release_approved,
                            **kw)

pytestmark = pytest.mark.both_databases


def create(factory, who, text="Our spring collection is here.", channels=("news",), **kw):
    with unit_of_work(factory) as session:
        out = service.create_post(session, who, text, list(channels), **kw)
        return out.post.id, out


def show(factory, who, post_id) -> dict:
    with factory() as session:
        return service.describe(session, service.get_visible(session, who, post_id)).model_dump()


def states(factory, who, post_id) -> dict[str, str]:
    return {t["channel"]: t["state"] for t in show(factory, who, post_id)["targets"]}


def actions(factory) -> list[str]:
    with factory() as session:
        return list(session.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)))


def test_a_post_goes_out_on_each_channel_once_with_its_platform_id_and_url(session_factory, people):
    lee = people["lee"]
    post_id, out = create(session_factory, lee, channels=("news", "brand"), media=["https://cdn.acme.example/a.jpg"])
    assert len(out.job_ids) == 2 and not out.held and states(session_factory, lee, post_id) == {
        "news": "queued", "brand": "queued"}
    deliver_due(session_factory)
    post = show(session_factory, lee, post_id)
    assert {t["state"] for t in post["targets"]} == {"sent"} and post["state"] == "sent"
    news = post["targets"][0]
    assert news["platform_id"].startswith("sandbox-out-") and news["url"].endswith(news["platform_id"])
    [record] = sent_on("news")
    assert record["text"] == "Our spring collection is here." and record["media"] == ["https://cdn.acme.example/a.jpg"]
    assert len(sent_on("brand")) == 1
    assert actions(session_factory).count("post.sent") == 2 and "post.create" in actions(session_factory)


def test_checks_come_first_and_nothing_is_stored_when_they_fail(session_factory, people):
    lee = people["lee"]
    for kwargs, expected in (
        ({"channels": ()}, "choose at least one channel"),
        ({"channels": ("nope",)}, "no such channel: nope"),
        ({"channels": ("inbox-mail",)}, "cannot publish posts"),
        ({"text": "   "}, "needs some text"),
        ({"text": "x" * 501}, "News allows 500"),
        ({"media": ["javascript:alert(1)"]}, "must start with http"),
        # The cloud metadata service and this machine, however written: refused before anything is stored.
        ({"media": ["http://169.254.169.254/latest/meta-data/iam"]}, "cannot be used: .* not a public address"),
        ({"media": ["http://2130706433:8000/admin.png"]}, "cannot be used: .* not a public address"),
        ({"media": ["http://[::ffff:10.0.0.1]/x.png"]}, "cannot be used: .* not a public address"),
        ({"scheduled_at": utcnow() - timedelta(hours=2)}, "has passed"),
        ({"scheduled_at": utcnow().replace(tzinfo=None) + timedelta(hours=2)}, "needs a time zone"),
    ):
        with pytest.raises(InvalidInput, match=expected):
            create(session_factory, lee, **kwargs)
    with session_factory() as session:
        assert service.list_posts(session, lee) == []


def test_media_only_from_the_organizations_hosts_when_it_lists_them(session_factory, people):
    from onevoice import egress

    egress.configure(media_hosts=".acme.example")
    create(session_factory, people["lee"], channels=("news",), media=["https://cdn.acme.example/a.jpg"])
    with pytest.raises(InvalidInput, match="elsewhere.example is not one of the allowed hosts"):
        create(session_factory, people["lee"], channels=("news",), media=["https://elsewhere.example/a.jpg"])


def test_who_may_publish_where(session_factory, people):
    sam, vic, cai, pia = people["sam"], people["vic"], people["cai"], people["pia"]
    create(session_factory, sam, channels=("news",))  # Support owns news
    with pytest.raises(Forbidden):
        create(session_factory, sam, channels=("brand",))  # Marketing's
    with pytest.raises(Forbidden):
        create(session_factory, vic, channels=("news",))  # viewers read only
    with pytest.raises(Forbidden):
        create(session_factory, cai, channels=("news",))
    with pytest.raises(Forbidden):
        create(session_factory, pia, channels=("brand",))  # a partner without a grant, even on their team's channel
    pia_brand = granted(session_factory, pia, "brand")
    post_id, out = create(session_factory, pia_brand, channels=("brand",))
    assert out.held == ["brand"]  # the default rule: partners are reviewed by PR
    with session_factory() as session:  # PR is told, with the way to the approvals queue
        told = session.scalar(select(Notification).where(Notification.kind == "approval"))
        assert told.links == [{"label": "Review it", "href": "/approvals"}]
    with pytest.raises(Forbidden):
        create(session_factory, pia_brand, channels=("news",))
    # Partners and responders see only what they may post on (or wrote); viewers read everything.
    with session_factory() as session:
        assert [p.id for p in service.list_posts(session, pia_brand)] == [post_id]
        assert len(service.list_posts(session, vic)) == 2
        assert post_id not in [p.id for p in service.list_posts(session, sam)]
        with pytest.raises(NotFound):
            service.get_visible(session, sam, post_id)


def test_a_blocked_post_is_refused_with_findings_and_nothing_is_stored(session_factory, people):
    lee = people["lee"]
    with pytest.raises(service.PostBlocked) as err:
        create(session_factory, lee, "Only an idiot would miss this sale", channels=("news", "brand"))
    assert set(err.value.blocked) == {"news", "brand"}
    assert any(f.severity == "block" and f.match == "idiot" and (f.start, f.end) == (8, 13)
               for f in err.value.findings)
    with session_factory() as session:
        assert service.list_posts(session, lee) == [] and session.scalar(select(OutboxJob.id)) is None
    assert sent_on("news") == []


def test_an_approval_finding_holds_the_post_for_its_team_who_approve_or_edit_and_approve(session_factory, people):
    sam, lena, lee = people["sam"], people["lena"], people["lee"]
    post_id, out = create(session_factory, sam, "This cream is a guaranteed cure for dry skin.")
    assert out.held == ["news"] and out.job_ids == []
    post = show(session_factory, sam, post_id)
    approval = post["targets"][0]["approval"]
    assert post["state"] == "awaiting_approval" and "guaranteed" in approval["reason"] and approval["due_at"]
    with session_factory() as session:
        row = session.get(Approval, approval["id"])
        assert row.post_id == post_id and row.case_id is None
        assert [a.id for a in approvals.pending_for(session, lena)] == [row.id]  # Legal approves claims
        assert approvals.pending_for(session, sam) == []
    with pytest.raises(Forbidden), unit_of_work(session_factory) as session:
        decide(session, sam, approval["id"], True)
    with pytest.raises(InvalidInput, match="blocked"), unit_of_work(session_factory) as session:
        decide(session, lena, approval["id"], True, text="What an idiot offer")
    with unit_of_work(session_factory) as session:
        decide(session, lena, approval["id"], True, text="This cream helps with dry skin.")
    deliver_due(session_factory)
    post = show(session_factory, lee, post_id)
    assert post["targets"][0]["state"] == "sent" and post["targets"][0]["text"] == "This cream helps with dry skin."
    assert [r["text"] for r in sent_on("news")] == ["This cream helps with dry skin."]
    assert "post.approve" in actions(session_factory)


def test_a_rejected_post_is_never_sent_and_says_why(session_factory, people):
    sam, lena = people["sam"], people["lena"]
    post_id, _ = create(session_factory, sam, "Risk-free returns, guaranteed.")
    approval_id = show(session_factory, sam, post_id)["targets"][0]["approval"]["id"]
    with pytest.raises(InvalidInput, match="say why"), unit_of_work(session_factory) as session:
        decide(session, lena, approval_id, False)
    with unit_of_work(session_factory) as session:
        decide(session, lena, approval_id, False, note="no claims please")
    deliver_due(session_factory)
    target = show(session_factory, sam, post_id)["targets"][0]
    assert target["state"] == "rejected" and "no claims please" in target["error"] and sent_on("news") == []


def test_approval_rules_can_target_posts_without_touching_replies(session_factory, people):
    from onevoice.governance import approval_rules as rules
    from tests.governance.conftest import make_case

    sam, ada = people["sam"], people["ada"]
    with unit_of_work(session_factory) as session:
        rules.create_rule(session, ada, {"name": "Posts on news by responders", "position": 1, "kinds": ["post"],
                                         "channels": ["news"], "author_roles": ["responder"],
                                         "approver_team": "marketing", "sla_minutes": 20})
    with pytest.raises(InvalidInput, match="kinds are"), unit_of_work(session_factory) as session:
        rules.create_rule(session, ada, {"name": "x", "kinds": ["tweet"], "approver_team": "pr"})
    post_id, out = create(session_factory, sam, "Store opens at nine tomorrow.")
    assert out.held == ["news"]
    approval = show(session_factory, sam, post_id)["targets"][0]["approval"]
    assert "Posts on news by responders" in approval["reason"]
    with session_factory() as session:
        row = session.get(Approval, approval["id"])
        assert abs((row.due_at - row.requested_at) - timedelta(minutes=20)) < timedelta(seconds=5)
        case = make_case(session, channel="xcom")
        from onevoice.governance.review import review_outgoing

        assert review_outgoing(session, sam, "Store opens at nine tomorrow.", case=case).approval is None


def test_a_scheduled_post_waits_and_is_sent_when_due(session_factory, people):
    lee = people["lee"]
    at = utcnow() + timedelta(hours=3)
    post_id, out = create(session_factory, lee, scheduled_at=at, channels=("news", "brand"))
    assert out.scheduled == ["news", "brand"] and out.job_ids == []
    assert publish_due(session_factory) == [] and deliver_due(session_factory) == []
    assert set(states(session_factory, lee, post_id).values()) == {"scheduled"} and sent_on("news") == []
    with session_factory() as session:
        assert [p.id for p in service.list_posts(session, lee, "scheduled")] == [post_id]
    jobs = publish_due(session_factory, now=at + timedelta(seconds=1))
    assert len(jobs) == 2 and publish_due(session_factory, now=at + timedelta(seconds=2)) == []
    assert set(states(session_factory, lee, post_id).values()) == {"sent"}
    assert len(sent_on("news")) == 1 and len(sent_on("brand")) == 1


def test_an_approved_scheduled_post_keeps_its_time(session_factory, people):
    sam, lena = people["sam"], people["lena"]
    at = utcnow() + timedelta(hours=1)
    post_id, _ = create(session_factory, sam, "A guaranteed bargain.", scheduled_at=at)
    approval_id = show(session_factory, sam, post_id)["targets"][0]["approval"]["id"]
    with unit_of_work(session_factory) as session:
        decide(session, lena, approval_id, True)
    assert states(session_factory, sam, post_id) == {"news": "scheduled"}
    publish_due(session_factory, now=at + timedelta(minutes=1))
    assert states(session_factory, sam, post_id) == {"news": "sent"}


class Flaky:
    """A connector that fails as told, then publishes (through the real sandbox, which records by key)."""

    def __init__(self, errors):
        self.errors, self.calls = list(errors), []

    def __call__(self, kind, config):
        from onevoice.connectors.registry import build

        real, outer = build(kind, config), self

        class Wrapped:
            def publish(self, text, key, media=()):
                outer.calls.append(key)
                if outer.errors:
                    raise outer.errors.pop(0)
                return real.publish(text, key, media)

            def delete(self, external_id):
                outer.calls.append(("delete", external_id))
                if outer.errors:
                    raise outer.errors.pop(0)
                return real.delete(external_id)

        return Wrapped()


def test_a_transient_failure_is_retried_with_backoff_and_never_posts_twice(session_factory, people):
    lee = people["lee"]
    post_id, _ = create(session_factory, lee)
    flaky = Flaky([ConnectorError("platform 503", permanent=False)])
    deliver_due(session_factory, build=flaky)
    target = show(session_factory, lee, post_id)["targets"][0]
    assert target["state"] == "queued" and "retrying: platform 503" in target["error"]
    assert datetime.fromisoformat(target["next_attempt_at"]) > utcnow() + timedelta(seconds=3)  # backed off
    assert deliver_due(session_factory, build=flaky) == [] and len(flaky.calls) == 1  # not due yet
    later = utcnow() + timedelta(minutes=1)
    deliver_due(session_factory, build=flaky, now=later)
    # A crash after the platform accepted: the lease lapses and the job is claimed again with the same key.
    with unit_of_work(session_factory) as session:
        job = session.scalar(select(OutboxJob).where(OutboxJob.kind == "post"))
        job.status, job.next_attempt_at = "sending", utcnow()
    deliver_due(session_factory, build=flaky, now=later + timedelta(minutes=10))
    assert len(set(flaky.calls)) == 1 and len(flaky.calls) == 3  # one idempotency key for every attempt
    assert len(sent_on("news")) == 1 and states(session_factory, lee, post_id) == {"news": "sent"}


def test_a_permanent_failure_is_visible_with_the_platforms_error_and_can_be_retried(session_factory, people):
    lee = people["lee"]
    post_id, _ = create(session_factory, lee)
    deliver_due(session_factory, build=Flaky([ConnectorError("duplicate status", permanent=True, platform_code=187)]))
    target = show(session_factory, lee, post_id)["targets"][0]
    assert target["state"] == "failed" and target["error"] == "duplicate status [187]"
    with session_factory() as session:
        assert [p.id for p in service.list_posts(session, lee, "failed")] == [post_id]
    with unit_of_work(session_factory) as session:
        service.retry_post(session, lee, post_id)
    deliver_due(session_factory)
    assert states(session_factory, lee, post_id) == {"news": "sent"} and len(sent_on("news")) == 1
    with pytest.raises(InvalidInput, match="nothing failed"), unit_of_work(session_factory) as session:
        service.retry_post(session, lee, post_id)


def test_an_expired_token_fails_the_post_and_marks_the_channels_health(session_factory, people):
    lee = people["lee"]
    post_id, _ = create(session_factory, lee)
    deliver_due(session_factory, build=Flaky([AuthExpired("token expired", platform_code=190)]))
    assert states(session_factory, lee, post_id) == {"news": "failed"}
    with session_factory() as session:
        channel = session.scalar(select(Channel).where(Channel.key == "news"))
        assert channel.health == "revoked" and "token expired" in channel.health_detail


def test_delete_a_published_post_through_the_outbox(session_factory, people):
    sam, lee, mia = people["sam"], people["lee"], people["mia"]
    post_id, _ = create(session_factory, sam)
    deliver_due(session_factory)
    with pytest.raises(Forbidden), unit_of_work(session_factory) as session:
        service.delete_post(session, mia, post_id)  # a manager of the team, but not the author
    with unit_of_work(session_factory) as session:
        jobs = service.delete_post(session, sam, post_id)
    assert len(jobs) == 1 and states(session_factory, sam, post_id) == {"news": "deleting"}
    deliver_due(session_factory)
    assert states(session_factory, sam, post_id) == {"news": "deleted"} and sent_on("news")[0]["deleted"] is True
    assert "post.deleted" in actions(session_factory) and "post.delete" in actions(session_factory)
    with pytest.raises(InvalidInput, match="nothing to delete"), unit_of_work(session_factory) as session:
        service.delete_post(session, lee, post_id)


def test_a_failed_delete_keeps_the_post_published_and_says_so(session_factory, people):
    lee = people["lee"]
    post_id, _ = create(session_factory, lee)
    deliver_due(session_factory)
    with unit_of_work(session_factory) as session:
        service.delete_post(session, lee, post_id)
    deliver_due(session_factory, build=Flaky([ConnectorError("not yours", permanent=True)]))
    target = show(session_factory, lee, post_id)["targets"][0]
    assert target["state"] == "sent" and target["error"] == "delete failed: not yours"
    with unit_of_work(session_factory) as session:
        service.retry_post(session, lee, post_id)
    deliver_due(session_factory)
    assert states(session_factory, lee, post_id) == {"news": "deleted"}


def test_cancel_stops_what_has_not_gone_out(session_factory, people):
    sam, lee = people["sam"], people["lee"]
    held_id, _ = create(session_factory, sam, "A guaranteed win.")
    sched_id, _ = create(session_factory, lee, scheduled_at=utcnow() + timedelta(hours=1), channels=("news", "brand"))
    with pytest.raises(Forbidden), unit_of_work(session_factory) as session:
        service.cancel_post(session, people["mia"], sched_id)
    with unit_of_work(session_factory) as session:
        assert service.cancel_post(session, sam, held_id) == ["news"]
        assert service.cancel_post(session, lee, sched_id) == ["news", "brand"]
    with session_factory() as session:
        assert session.scalar(select(Approval.status)) == "cancelled"
    publish_due(session_factory, now=utcnow() + timedelta(hours=2))
    assert set(states(session_factory, lee, sched_id).values()) == {"cancelled"} and sent_on("news") == []
    with pytest.raises(InvalidInput, match="nothing left"), unit_of_work(session_factory) as session:
        service.cancel_post(session, lee, sched_id)


def test_a_draft_is_checked_when_submitted(session_factory, people):
    lee = people["lee"]
    post_id, out = create(session_factory, lee, "Draft: you idiot", draft=True)
    assert out.job_ids == [] and states(session_factory, lee, post_id) == {"news": "draft"}
    with pytest.raises(service.PostBlocked), unit_of_work(session_factory) as session:
        service.submit_post(session, lee, post_id)
    assert states(session_factory, lee, post_id) == {"news": "draft"}  # the draft is kept
    ok_id, _ = create(session_factory, lee, "Ready to go", draft=True)
    with unit_of_work(session_factory) as session:
        assert len(service.submit_post(session, lee, ok_id).job_ids) == 1
