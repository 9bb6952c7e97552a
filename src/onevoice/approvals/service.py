"""Approvals: a reply or a post that must be signed off waits here; approving queues it for sending.

Which texts wait, for which team and how long is decided by governance (`review_outgoing` and the approval
rules); this module holds the request and its decision: approve, edit and approve, or reject with a reason.
A post's request (`post_id` set, no case) is one channel's copy of the post; approving it hands it back to
publishing, which queues it now or keeps it for its scheduled time.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.approvals.models import Approval
from onevoice.auth.principal import Principal
from onevoice.cases.access import can_see, visible_ids
from onevoice.cases.models import Case
from onevoice.channels.models import Channel
from onevoice.db import utcnow
from onevoice.errors import Forbidden, InvalidInput, NotFound
from onevoice.messages.models import Message
from onevoice.outbox.models import OutboxJob
from onevoice.outbox.service import enqueue, length_limit
from onevoice.teams.models import Team

# May decide any request. Managers and the approving team's members decide the requests of their team.
ALWAYS = frozenset({"admin", "coordinator"})
# When no rule names an approving team, these teams' members (and managers) decide.
APPROVER_TEAMS = ("legal", "pr")
# Nobody decides on a text they wrote, except admins: a one-admin organization would otherwise be stuck with
# its own held reply, and an admin could lift the rule that held it anyway. Their self-decisions are audited
# as such (`self_decided: true` on approval.approve / approval.reject, post.approve / post.reject).
SELF_DECIDERS = frozenset({"admin"})


def own_request(approval: Approval, who: Principal) -> bool:
    return approval.requested_by == who.label


def may_approve(session: Session, who: Principal, approval: Approval | None = None) -> bool:
    """Whether this person may decide this request (or, without one, requests in general)."""
    if approval is not None and own_request(approval, who) and who.role not in SELF_DECIDERS:
        return False
    if who.role in ALWAYS:
        return True
    if not who.can_act or who.role == "partner":
        return False
    if approval is not None and approval.approver_team_id is not None:
        return approval.approver_team_id in who.team_ids
    if who.role == "manager":
        return True
    teams = set(session.scalars(select(Team.id).where(Team.key.in_(APPROVER_TEAMS))))
    return bool(teams & set(who.team_ids))


def request(session: Session, case: Case | None, message: Message, who: Principal, reason: str,
            post_id: int | None = None) -> Approval:
    approval = Approval(case_id=case.id if case is not None else None, post_id=post_id, message_id=message.id,
                        reason=reason, requested_by=who.label)
    session.add(approval)
    session.flush()
    return approval


def decide(session: Session, who: Principal, approval_id: int, approve: bool, note: str = "",
           text: str | None = None, *, guard: Callable, release_post: Callable) -> Approval:
    """Approve (optionally with an edited text, which the policy guard checks again) or reject with a reason.

    The policy guard (`governance.review.guard`) and publishing (`posts.service.release_approved`) live above
    this package: the edge that decides hands them in, so approvals imports neither."""
    approval = session.get(Approval, approval_id)
    case = session.get(Case, approval.case_id) if approval is not None and approval.case_id is not None else None
    if approval is None or (case is not None and not can_see(session, who, case)):
        # The same answer for a request on a case this person cannot see: neither id can be probed.
        raise NotFound(f"no approval {approval_id}")
    if own_request(approval, who) and who.role not in SELF_DECIDERS:
        raise Forbidden("you asked for this approval: someone else decides it (its approving team, "
                        "a coordinator or an admin)")
    if not may_approve(session, who, approval):
        raise Forbidden("this request is decided by its approving team, managers, coordinators and admins")
    if approval.status != "pending":
        raise InvalidInput(f"this approval was already {approval.status}")
    note = (note or "").strip()
    what = "post" if approval.post_id is not None else "reply"
    if not approve and not note:
        raise InvalidInput(f"say why the {what} is rejected: the author sees the reason")
    message = session.get(Message, approval.message_id)
    edited = approve and text is not None and text.strip() and text.strip() != message.text
    if edited:
        channel = session.get(Channel, message.channel_id)
        result = guard(session, text.strip(), channel, case)
        if result.blocked:
            raise InvalidInput("the edited text is blocked: " + "; ".join(f.message for f in result.blocks))
        limit = length_limit(channel.kind)
        if limit and len(text.strip()) > limit:
            raise InvalidInput(f"{channel.name} allows {limit} characters; the edited text has {len(text.strip())}")
        note = (note + "\n" if note else "") + f"edited before approval; the original read: {message.text}"
        message.text = text.strip()
    approval.status = "approved" if approve else "rejected"
    approval.decided_by, approval.decided_at, approval.decision_note = who.label, utcnow(), note or None
    if approve and approval.post_id is not None:
        # Publishing decides between now and the post's scheduled time.
        release_post(session, approval.post_id, message)
    elif approve:
        enqueue(session, message, approval.requested_by)
    else:
        message.status, message.error = "rejected", f"rejected by {who.name}: {note}"
    session.flush()
    return approval


def pending_for_case(session: Session, case_id: int) -> dict[int, Approval]:
    """Approvals by outbound message id for one case."""
    rows = session.scalars(select(Approval).where(Approval.case_id == case_id))
    return {a.message_id: a for a in rows}


def delivery_for_case(session: Session, case_id: int) -> dict[int, OutboxJob]:
    return {j.message_id: j for j in session.scalars(select(OutboxJob).where(OutboxJob.case_id == case_id))}


def pending_for(session: Session, who: Principal, limit: int = 200) -> list[Approval]:
    """The pending requests this person may decide, oldest due first (the approvals queue: replies and posts).
    Replies on cases they cannot see are left out."""
    rows = list(session.scalars(select(Approval).where(Approval.status == "pending")
                                .order_by(Approval.due_at.is_(None), Approval.due_at, Approval.id).limit(limit)))
    seen = visible_ids(session, who, [a.case_id for a in rows if a.case_id is not None])
    return [a for a in rows if may_approve(session, who, a) and (a.case_id is None or a.case_id in seen)]
