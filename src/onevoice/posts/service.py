"""Publishing: a post on one or more of the organization's own channels, through the policy guard, the
approval rules and the outbox, exactly as replies go.

    create_post(...)        checks (channels, permission, lengths, media, schedule), then per channel:
                            guard blocks -> PostBlocked (nothing stored); approval -> held for the approving
                            team; scheduled -> kept until due; otherwise queued in the outbox
    release_due(session)    the scheduler: queue what came due
    cancel_post / delete_post / retry_post    by the author, coordinators and admins

Each channel's copy is an outbound message (kind "post", no case): its status is the target's state, the
outbox and approvals drive it. The edge commits and then wakes the sender.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.approvals import service as approvals
from onevoice.approvals.models import Approval
from onevoice.audit import log as audit
from onevoice.auth.permissions import may_post_on
from onevoice.auth.principal import Principal
from onevoice.channels.models import Channel
from onevoice.connectors.base import Capability
from onevoice.db import utcnow
from onevoice.errors import Forbidden, InvalidInput, NotFound
from onevoice.governance.approval_rules import apply_requirement
from onevoice.governance.guard import Finding
from onevoice.governance.review import review_outgoing
from onevoice.inbox.notify import notify_team
from onevoice.messages.models import Message
from onevoice.outbox import service as outbox
from onevoice.outbox.models import OutboxJob
from onevoice.posts import compose
from onevoice.posts.models import Post, PostTarget
from onevoice.posts.schemas import PostOut, PostTargetOut, TargetApproval

# May cancel or delete anyone's post; authors may always cancel or delete their own.
MANAGE_ANY = frozenset({"admin", "coordinator"})
# Read every post (executives' read-only view included); others see their own and their channels'.
READ_ALL = frozenset({"admin", "coordinator", "viewer"})
CANCELLABLE = ("draft", "pending_approval", "scheduled", "queued", "failed")


class PostBlocked(InvalidInput):
    """The policy guard refused the text on at least one channel: nothing is stored or sent."""

    def __init__(self, text: str, blocked: dict[str, list[Finding]]) -> None:
        self.text, self.blocked = text, blocked
        self.findings = _unique(f for fs in blocked.values() for f in fs)
        parts = [f"{key}: " + "; ".join(f.message for f in fs if f.severity == "block") for key, fs in blocked.items()]
        super().__init__("not published: " + " | ".join(parts))


def _unique(findings) -> list[Finding]:
    seen, out = set(), []
    for f in findings:
        if (f.rule, f.start, f.end, f.message) not in seen:
            seen.add((f.rule, f.start, f.end, f.message))
            out.append(f)
    return out


@dataclass
class PostOutcome:
    post: Post
    job_ids: list[int] = field(default_factory=list)
    held: list[str] = field(default_factory=list)       # channel keys waiting for approval
    scheduled: list[str] = field(default_factory=list)  # channel keys kept for the schedule time
    warnings: list[Finding] = field(default_factory=list)


def create_post(session: Session, who: Principal, text: str, channels: list[str], media: list | None = None,
                scheduled_at: datetime | None = None, sponsored: bool = False, draft: bool = False,
                now: datetime | None = None) -> PostOutcome:
    """Store a post and send, hold or schedule each channel's copy (or keep it all as a draft)."""
    now = now or utcnow()
    text = compose.clean_text(text)
    targets = compose.target_channels(session, who, channels)
    compose.check_lengths(text, targets)
    post = Post(text=text, media=compose.clean_media(media or [], targets),
                scheduled_at=compose.clean_schedule(scheduled_at, now), sponsored=bool(sponsored),
                created_by=who.label, author_name=who.name, created_at=now, updated_at=now)
    session.add(post)
    session.flush()
    for channel in targets:
        message = Message(channel_id=channel.id, external_id=f"outbound:{uuid.uuid4().hex}", direction="outbound",
                          kind="post", text=text, author={"external_id": "organization", "handle": channel.name,
                                                          "name": who.name},
                          created_at=now, received_at=now, status="draft", sent_by=who.label)
        session.add(message)
        session.flush()
        session.add(PostTarget(post_id=post.id, channel_id=channel.id, message_id=message.id))
    session.flush()
    audit.record(session, who, "post.create", f"post:{post.id}",
                 {"channels": [c.key for c in targets], "scheduled_at": post.scheduled_at, "draft": bool(draft),
                  "media": len(post.media), "chars": len(text)})
    if draft:
        return PostOutcome(post)
    return _submit(session, who, post, now)


def submit_post(session: Session, who: Principal, post_id: int, now: datetime | None = None) -> PostOutcome:
    """Send a draft through the guard and the approval rules (the author, coordinators and admins)."""
    post = _manageable(session, who, post_id, "submit")
    rows = _targets(session, post.id)
    if not any(m.status == "draft" for _t, m, _c in rows):
        raise InvalidInput("this post is not a draft")
    for _t, _m, channel in rows:  # the permission may have changed since the draft was saved
        compose.target_channels(session, who, [channel.key])
    now = now or utcnow()
    if post.scheduled_at is not None and post.scheduled_at < now:
        post.scheduled_at = None  # a draft whose time has passed goes out now
    return _submit(session, who, post, now)


def _submit(session: Session, who: Principal, post: Post, now: datetime) -> PostOutcome:
    rows = [(t, m, c) for t, m, c in _targets(session, post.id) if m.status == "draft"]
    verdicts = {c.key: review_outgoing(session, who, post.text, channel=c, sponsored=post.sponsored, kind="post")
                for _t, _m, c in rows}
    blocked = {key: v.guard.findings for key, v in verdicts.items() if v.blocked}
    if blocked:
        raise PostBlocked(post.text, blocked)
    out = PostOutcome(post, warnings=_unique(f for v in verdicts.values() for f in v.warnings))
    for _target, message, channel in rows:
        held = verdicts[channel.key].approval
        if held:
            message.status = "pending_approval"
            approval = approvals.request(session, None, message, who, held.reason, post_id=post.id)
            apply_requirement(approval, held)
            if held.team_id is not None:
                notify_team(session, held.team_id, None, "approval", who.label,
                            f"A post by {who.name} on {channel.name} waits for your approval: {held.reason}",
                            [{"label": "Review it", "href": "/approvals"}])
            out.held.append(channel.key)
        elif post.scheduled_at is not None and post.scheduled_at > now:
            message.status = "scheduled"
            out.scheduled.append(channel.key)
        else:
            out.job_ids.append(_queue(session, post, message).id)
    post.updated_at = now
    session.flush()
    return out


def _queue(session: Session, post: Post, message: Message) -> OutboxJob:
    return outbox.enqueue(session, message, post.created_by, kind="post", payload={"media": post.media})


def release_approved(session: Session, post_id: int, message: Message, now: datetime | None = None) -> None:
    """An approved copy goes out now, or waits for the post's schedule time."""
    now = now or utcnow()
    post = session.get(Post, post_id)
    if post.scheduled_at is not None and post.scheduled_at > now:
        message.status = "scheduled"
    else:
        _queue(session, post, message)


def release_due(session: Session, now: datetime | None = None, limit: int = 200) -> list[int]:
    """Queue every scheduled copy whose time has come (the scheduler's job; safe to run twice at once:
    rows are locked on PostgreSQL, and a copy already queued is not queued again)."""
    now = now or utcnow()
    q = (select(Message, Post).join(PostTarget, PostTarget.message_id == Message.id)
         .join(Post, Post.id == PostTarget.post_id)
         .where(Message.status == "scheduled", Post.scheduled_at <= now).order_by(Post.scheduled_at).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(of=Message, skip_locked=True)
    return [_queue(session, post, message).id for message, post in session.execute(q).all()]


def cancel_post(session: Session, who: Principal, post_id: int, now: datetime | None = None) -> list[str]:
    """Stop every copy not yet on the platform (draft, held, scheduled, queued, failed). Returns their channels."""
    post = _manageable(session, who, post_id, "cancel")
    stopped = _stop(session, who, post, now or utcnow())
    if not stopped:
        raise InvalidInput("nothing left to cancel: every channel has sent it (delete it instead) or stopped")
    audit.record(session, who, "post.cancel", f"post:{post.id}", {"channels": stopped})
    return stopped


def _stop(session: Session, who: Principal, post: Post, now: datetime) -> list[str]:
    stopped = []
    for _target, message, channel in _targets(session, post.id):
        if message.status not in CANCELLABLE:
            continue
        if message.status == "queued":
            job = session.scalar(_job_query(session, message.id, "post"))
            if job is None or job.status != "queued":
                continue  # being sent right now: it will land; delete it afterwards
            job.status = "cancelled"
        if message.status == "failed":
            for job in session.scalars(select(OutboxJob).where(OutboxJob.message_id == message.id,
                                                               OutboxJob.status == "failed")):
                job.status = "cancelled"
        if message.status == "pending_approval":
            approval = session.scalar(select(Approval).where(Approval.message_id == message.id))
            if approval is not None and approval.status == "pending":
                approval.status, approval.decided_by, approval.decided_at = "cancelled", who.label, now
                approval.decision_note = "the post was cancelled"
        message.status, message.error = "cancelled", None
        stopped.append(channel.key)
    post.updated_at = now
    return stopped


def _job_query(session: Session, message_id: int, kind: str):
    q = select(OutboxJob).where(OutboxJob.message_id == message_id, OutboxJob.kind == kind)
    return q.with_for_update() if session.get_bind().dialect.name == "postgresql" else q


def delete_post(session: Session, who: Principal, post_id: int, channel: str | None = None,
                now: datetime | None = None) -> list[int]:
    """Remove a published post from the platforms (through the outbox) and stop the copies not yet out.
    `channel` limits it to one channel. Returns the delete jobs to run."""
    post = _manageable(session, who, post_id, "delete")
    rows = [(t, m, c) for t, m, c in _targets(session, post.id) if channel is None or c.key == channel]
    if channel is not None and not rows:
        raise NotFound(f"post {post_id} was not published on {channel}")
    sent = [(m, c) for _t, m, c in rows if m.status == "sent"]
    cant = [c.name for _m, c in sent if Capability.DELETE not in compose.capabilities(c.kind)]
    if cant:
        raise InvalidInput(f"{', '.join(cant)} cannot delete posts through OneVoice: remove it on the platform")
    jobs = []
    for message, _channel in sent:
        platform_id = (message.raw or {}).get("platform_id") or message.external_id
        jobs.append(outbox.enqueue(session, message, who.label, kind="delete",
                                   payload={"external_id": platform_id}).id)
    stopped = _stop(session, who, post, now or utcnow()) if channel is None else []
    if not jobs and not stopped:
        raise InvalidInput("nothing to delete: no channel has published this post")
    audit.record(session, who, "post.delete", f"post:{post.id}",
                 {"channels": [c.key for _m, c in sent], "stopped": stopped})
    return jobs


def retry_post(session: Session, who: Principal, post_id: int, channel: str | None = None) -> list[int]:
    """Send the failed copies again (the same outbox job, so the same idempotency key: never twice)."""
    post = _manageable(session, who, post_id, "retry")
    jobs = []
    for _target, message, ch in _targets(session, post.id):
        if (channel is None or ch.key == channel) and message.error and message.status in ("failed", "sent"):
            failed = session.scalar(select(OutboxJob.id).where(OutboxJob.message_id == message.id,
                                                               OutboxJob.status == "failed"))
            if failed is not None:
                jobs.append(outbox.retry(session, message.id).id)
    if not jobs:
        raise InvalidInput("nothing failed to retry")
    return jobs


# --- reading ---------------------------------------------------------------------------------------------

def _targets(session: Session, post_id: int) -> list[tuple[PostTarget, Message, Channel]]:
    return list(session.execute(
        select(PostTarget, Message, Channel).join(Message, Message.id == PostTarget.message_id)
        .join(Channel, Channel.id == PostTarget.channel_id).where(PostTarget.post_id == post_id)
        .order_by(PostTarget.id)).all())


def _manageable(session: Session, who: Principal, post_id: int, what: str) -> Post:
    post = get_visible(session, who, post_id)
    if who.role not in MANAGE_ANY and post.created_by != who.label:
        raise Forbidden(f"only the author, coordinators and admins may {what} a post")
    return post


def _allowed_channel_ids(session: Session, who: Principal) -> list[int]:
    return [c.id for c in session.scalars(select(Channel)) if may_post_on(who, c)]


def get_visible(session: Session, who: Principal, post_id: int) -> Post:
    """A post this person may see (else NotFound: its existence is not revealed)."""
    post = session.get(Post, post_id)
    if post is None or not _sees(session, who, post):
        raise NotFound(f"no post {post_id}")
    return post


def _sees(session: Session, who: Principal, post: Post) -> bool:
    if who.role in READ_ALL or post.created_by == who.label:
        return True
    allowed = set(_allowed_channel_ids(session, who))
    if any(c.id in allowed for _t, _m, c in _targets(session, post.id)):
        return True
    pending = session.scalars(select(Approval).where(Approval.post_id == post.id, Approval.status == "pending"))
    return any(approvals.may_approve(session, who, a) for a in pending)


def list_posts(session: Session, who: Principal, state: str | None = None, limit: int = 100) -> list[PostOut]:
    """Newest first; `state` keeps posts with at least one channel in that state (e.g. "scheduled")."""
    q = select(Post).order_by(Post.id.desc())
    if who.role not in READ_ALL:
        mine = select(PostTarget.post_id).where(PostTarget.channel_id.in_(_allowed_channel_ids(session, who) or [-1]))
        q = q.where((Post.created_by == who.label) | Post.id.in_(mine))
    if state:
        statuses = [k for k, v in _STATES.items() if v == state or k == state]
        if not statuses:
            raise InvalidInput(f"unknown state {state!r}; one of {', '.join(sorted(set(_STATES.values())))}")
        q = q.where(Post.id.in_(select(PostTarget.post_id).join(Message, Message.id == PostTarget.message_id)
                                .where(Message.status.in_(statuses))))
    return [describe(session, p) for p in session.scalars(q.limit(max(1, min(limit, 500))))]


def describe(session: Session, post: Post) -> PostOut:
    """The post as the API and the posts page show it: each channel's copy with its state and approval."""
    targets = []
    for _target, message, channel in _targets(session, post.id):
        approval = session.scalar(select(Approval).where(Approval.message_id == message.id))
        job = session.scalar(select(OutboxJob).where(OutboxJob.message_id == message.id)
                             .order_by(OutboxJob.id.desc()).limit(1))
        targets.append(PostTargetOut(
            channel=channel.key, channel_name=channel.name, kind=channel.kind,
            state=_STATES.get(message.status, message.status), status=message.status, text=message.text,
            platform_id=(message.raw or {}).get("platform_id") if message.status in ("sent", "deleting",
                                                                                     "deleted") else None,
            url=message.url, error=message.error, attempts=job.attempts if job else 0,
            next_attempt_at=job.next_attempt_at if job and job.status == "queued" else None,
            approval=None if approval is None else TargetApproval(
                id=approval.id, status=approval.status, reason=approval.reason, due_at=approval.due_at,
                decided_by=approval.decided_by, note=approval.decision_note),
            can_delete=Capability.DELETE in compose.capabilities(channel.kind)))
    return PostOut(id=post.id, text=post.text, media=post.media, sponsored=post.sponsored,
                   scheduled_at=post.scheduled_at, created_by=post.created_by, author_name=post.author_name,
                   created_at=post.created_at, updated_at=post.updated_at,
                   state=summary([t.state for t in targets]), targets=targets)


_STATES = {"draft": "draft", "pending_approval": "awaiting_approval", "scheduled": "scheduled", "queued": "queued",
           "sent": "sent", "failed": "failed", "rejected": "rejected", "cancelled": "cancelled",
           "deleting": "deleting", "deleted": "deleted"}
# The state a post shows for its channels together: the one that most needs a person's attention.
_ORDER = ("failed", "awaiting_approval", "draft", "scheduled", "queued", "deleting", "sent", "deleted", "rejected",
          "cancelled")


def summary(states: list[str]) -> str:
    """The state a post shows for its channels' states together."""
    return next((s for s in _ORDER if s in states), "cancelled")
