"""Employee advocacy: shareable items curated by coordinators (and the teams they allow), checked by the policy
guard and the approval rules like a post, shared by employees who acknowledged the policy and did the training.

    create_item(...)         guard every text (the item's and each network's variant): a block refuses it
                             (nothing stored); an approval rule or finding holds it for the approving team;
                             otherwise it is approved at once
    decide(...)              the approving team (managers, coordinators, admins; never the author)
    gate(session, who)       may this person share now, and if not, why and how to fix it
    share(...)               the employee's short link for (item, network) and the network's share page
    resolve(session, code)   where /s/<code> goes: the approved link with UTM parameters, or nowhere
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from onevoice.advocacy import links, repository
from onevoice.advocacy.models import NETWORKS, AdvocacySetting, Share, ShareableItem, ShareClick, SharerProfile
from onevoice.approvals.models import Approval
from onevoice.approvals.service import may_approve
from onevoice.audit import log as audit
from onevoice.auth.permissions import POLICY_OWNERS
from onevoice.auth.principal import Principal
from onevoice.db import utcnow
from onevoice.errors import Forbidden, InvalidInput, NotFound
from onevoice.governance import policy
from onevoice.governance.guard import Finding
from onevoice.governance.review import review_outgoing
from onevoice.inbox.notify import notify_team

NETWORK_NAMES = {"x": "X", "linkedin": "LinkedIn", "facebook": "Facebook", "bluesky": "Bluesky",
                 "mastodon": "Mastodon"}
# Every employee shares; partners are outsiders and speak for their own organization.
SHARERS = frozenset({"admin", "coordinator", "manager", "responder", "contributor", "viewer", "executive"})  # employees
MAX_TEXT = 3000
_CAMPAIGN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class ItemBlocked(InvalidInput):
    """The guard refused a text of the item: nothing is stored. `blocked` maps the part (text, a network's
    variant) to its findings."""

    def __init__(self, blocked: dict[str, list[Finding]]) -> None:
        self.blocked = blocked
        super().__init__("not saved: " + " | ".join(
            f"{part}: " + "; ".join(f.message for f in fs if f.severity == "block") for part, fs in blocked.items()))


@dataclass
class Gate:
    ok: bool
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (what is missing, where to fix it)


# --- settings ----------------------------------------------------------------------------------------------

DEFAULTS = {"leaderboard": True, "curator_teams": ["marketing"]}


def get_settings(session: Session) -> dict:
    row = repository.setting(session, "sharing")
    return {**DEFAULTS, **(row.value if row else {})}


def save_settings(session: Session, who: Principal, leaderboard: bool, curator_teams: list[str],
                  ip: str | None = None) -> dict:
    """The coordinator's switches: the leaderboard shown or not, the teams whose members may curate items."""
    if who.role not in POLICY_OWNERS:
        raise Forbidden("only coordinators and admins change the advocacy settings")
    known = repository.team_ids_by_key(session)
    unknown = sorted(set(curator_teams) - set(known))
    if unknown:
        raise InvalidInput(f"unknown team {unknown[0]!r}")
    value = {"leaderboard": bool(leaderboard), "curator_teams": sorted(set(curator_teams))}
    row = repository.setting(session, "sharing")
    before = row.value if row else DEFAULTS
    if row is None:
        row = AdvocacySetting(key="sharing")
        session.add(row)
    row.value, row.updated_by, row.updated_at = value, who.label, utcnow()
    session.flush()
    audit.record(session, who, "advocacy.settings", "advocacy", {"before": before, "after": value}, ip)
    return value


def may_curate(session: Session, who: Principal) -> bool:
    if who.role in POLICY_OWNERS:
        return True
    if not who.can_act or who.role == "partner":
        return False
    return bool(set(who.team_keys) & set(get_settings(session)["curator_teams"]))


# --- items -------------------------------------------------------------------------------------------------

def create_item(session: Session, who: Principal, title: str, text: str, link_url: str, media_url: str = "",
                media_alt: str = "", variants: dict[str, str] | None = None, campaign: str = "",
                expires_at: datetime | None = None, now: datetime | None = None) -> ShareableItem:
    """Store an item (approved, or held for approval), or refuse it with the guard's findings."""
    now = now or utcnow()
    if not may_curate(session, who):
        raise Forbidden("shareable items are curated by coordinators, admins and the teams they allow")
    title, text = (title or "").strip(), (text or "").strip()
    if not title or not text:
        raise InvalidInput("an item needs a title and a text")
    if len(text) > MAX_TEXT or len(title) > 200:
        raise InvalidInput(f"a title is at most 200 characters and a text at most {MAX_TEXT}")
    link = links.clean_url(link_url)
    media = links.clean_url(media_url, "the media URL") if (media_url or "").strip() else None
    variants = {k: v.strip() for k, v in (variants or {}).items() if v and v.strip()}
    wrong = sorted(set(variants) - set(NETWORKS))
    if wrong:
        raise InvalidInput(f"unknown network {wrong[0]!r}: one of {', '.join(NETWORKS)}")
    if any(len(v) > MAX_TEXT for v in variants.values()):
        raise InvalidInput(f"a variant is at most {MAX_TEXT} characters")
    campaign = (campaign or "").strip()
    if campaign and not _CAMPAIGN.match(campaign):
        raise InvalidInput("a campaign tag is letters, digits, - _ or . (e.g. spring-launch)")
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("the expiry is in the past")
    # Each text is checked for the network it goes to (its limits and rules), the main text for any network.
    parts = {"text": (text, None), **{f"{NETWORK_NAMES[n]} variant": (v, n) for n, v in variants.items()}}
    verdicts = {part: review_outgoing(session, who, body, channel_kind=kind, kind="post")
                for part, (body, kind) in parts.items()}
    blocked = {part: v.guard.findings for part, v in verdicts.items() if v.blocked}
    if blocked:
        raise ItemBlocked(blocked)
    item = ShareableItem(title=title, text=text, link_url=link, media_url=media, media_alt=(media_alt or "")[:1000],
                         variants=variants, campaign=campaign, expires_at=expires_at, created_by=who.label,
                         author_name=who.name, created_at=now,
                         warnings=[f.to_dict() for v in verdicts.values() for f in v.warnings])
    held = next((v.approval for v in verdicts.values() if v.approval), None)
    if held:
        item.status, item.approval_reason = "pending_approval", held.reason
        item.approver_team_id, item.due_at = held.team_id, held.due_at
    else:
        item.status, item.decided_by, item.decided_at = "approved", "policy guard (no approval needed)", now
    session.add(item)
    session.flush()
    if held and held.team_id is not None:
        notify_team(session, held.team_id, None, "approval", who.label,
                    f"A shareable item by {who.name} waits for your approval: {held.reason}",
                    [{"label": "Review it", "href": f"/advocacy#waiting-{item.id}"}])
    audit.record(session, who, "advocacy.item.create", f"advocacy_item:{item.id}",
                 {"status": item.status, "link": link, "networks": sorted(variants), "campaign": campaign,
                  "reason": item.approval_reason or None})
    return item


def _approval_view(item: ShareableItem) -> Approval:
    # The approval rules' who-decides check, on an item instead of a held message (nothing is stored).
    return Approval(approver_team_id=item.approver_team_id, requested_by=item.created_by, message_id=0)


def may_decide(session: Session, who: Principal, item: ShareableItem) -> bool:
    return item.status == "pending_approval" and may_approve(session, who, _approval_view(item))


def decide(session: Session, who: Principal, item_id: int, approve: bool, note: str = "",
           ip: str | None = None) -> ShareableItem:
    item = get_item(session, item_id)
    if item.created_by == who.label and who.role != "admin":
        raise Forbidden("you created this item: someone else approves it")
    if not may_approve(session, who, _approval_view(item)):
        raise Forbidden("this item is decided by its approving team, managers, coordinators and admins")
    if item.status != "pending_approval":
        raise InvalidInput(f"this item is {item.status.replace('_', ' ')}, not waiting for approval")
    note = (note or "").strip()
    if not approve and not note:
        raise InvalidInput("say why the item is rejected: its author sees the reason")
    item.status = "approved" if approve else "rejected"
    item.decided_by, item.decided_at, item.decision_note = who.label, utcnow(), note or None
    session.flush()
    audit.record(session, who, f"advocacy.item.{'approve' if approve else 'reject'}", f"advocacy_item:{item.id}",
                 {"note": note or None}, ip)
    return item


def withdraw(session: Session, who: Principal, item_id: int, ip: str | None = None) -> ShareableItem:
    """Stop an item: no one can share it any more and its short links stop redirecting."""
    item = get_item(session, item_id)
    if who.role not in POLICY_OWNERS and item.created_by != who.label:
        raise Forbidden("only the item's author, coordinators and admins withdraw it")
    if item.status in ("withdrawn", "rejected"):
        raise InvalidInput(f"this item is already {item.status}")
    item.status = "withdrawn"
    session.flush()
    audit.record(session, who, "advocacy.item.withdraw", f"advocacy_item:{item.id}", {}, ip)
    return item


def get_item(session: Session, item_id: int) -> ShareableItem:
    item = session.get(ShareableItem, item_id)
    if item is None:
        raise NotFound(f"no shareable item {item_id}")
    return item


def is_live(item: ShareableItem, now: datetime) -> bool:
    return item.status == "approved" and (item.expires_at is None or item.expires_at > now)


# --- who may share -----------------------------------------------------------------------------------------

def gate(session: Session, who: Principal) -> Gate:
    """Only employees who acknowledged the current policy version and finished the required training share."""
    if who.role not in SHARERS:
        return Gate(False, [("Partners share their own organization's content, not ours.", "")])
    if who.user_id is None:
        return Gate(False, [("Sharing is for signed-in people, not programs.", "/login")])
    reasons = []
    version = policy.current_version(session)
    if version is not None and policy.acknowledged(session, who.user_id, version.id) is None:
        reasons.append((f"Acknowledge version {version.version} of the social media policy.", "/governance/policy"))
    done = policy.completed_ids(session, who.user_id)
    missing = [m.title for m in policy.list_modules(session) if m.id not in done]
    if missing:
        reasons.append(("Finish the training: " + ", ".join(missing) + ".", "/governance/policy"))
    return Gate(not reasons, reasons)


def mastodon_instance(session: Session, user_id: int | None) -> str | None:
    profile = session.get(SharerProfile, user_id) if user_id else None
    return profile.mastodon_instance if profile else None


def set_mastodon_instance(session: Session, who: Principal, instance: str) -> str | None:
    """Remember the Mastodon server this person posts from (empty: forget it)."""
    if who.user_id is None or who.role not in SHARERS:
        raise Forbidden("only a signed-in employee names their Mastodon server")
    value = links.clean_instance(instance) if (instance or "").strip() else None
    profile = session.get(SharerProfile, who.user_id)
    if profile is None:
        profile = SharerProfile(user_id=who.user_id)
        session.add(profile)
    profile.mastodon_instance, profile.updated_at = value, utcnow()
    session.flush()
    return value


def share(session: Session, who: Principal, item_id: int, network: str, base_url: str,
          now: datetime | None = None) -> str:
    """This person's short link for the item on the network (made once, reused), recorded and audited; returns
    the network's share page with the text (the network's variant when there is one) and the short link."""
    now = now or utcnow()
    g = gate(session, who)
    if not g.ok:
        raise Forbidden("you cannot share yet: " + " ".join(r for r, _ in g.reasons))
    item = get_item(session, item_id)
    if not is_live(item, now):
        raise InvalidInput("this item is not approved for sharing (or has expired)")
    if network not in NETWORKS:
        raise InvalidInput(f"unknown network {network!r}: one of {', '.join(NETWORKS)}")
    instance = mastodon_instance(session, who.user_id) if network == "mastodon" else None
    if network == "mastodon" and not instance:
        raise InvalidInput("name your Mastodon server first (on the Share page)")
    row = repository.share_for(session, item.id, who.user_id, network)
    if row is None:
        row = Share(item_id=item.id, user_id=who.user_id, network=network, code=links.new_code(), created_at=now,
                    last_shared_at=now, shared_count=1)
        session.add(row)
    else:
        row.shared_count, row.last_shared_at = row.shared_count + 1, now
    session.flush()
    audit.record(session, who, "advocacy.share", f"advocacy_item:{item.id}", {"network": network, "code": row.code})
    short = base_url.rstrip("/") + f"/s/{row.code}"
    return links.share_url(network, item.variants.get(network) or item.text, short, instance)


def resolve(session: Session, code: str, now: datetime | None = None) -> tuple[Share, str] | None:
    """(share, where to send the clicker) for a live item's link; None for an unknown code, an item withdrawn,
    rejected or expired: a short link never sends anyone to a URL that is not approved now."""
    if not code or len(code) > 16:
        return None
    row = repository.share_by_code(session, code)
    if row is None:
        return None
    item = session.get(ShareableItem, row.item_id)
    if item is None or not is_live(item, now or utcnow()):
        return None
    return row, links.with_utm(item.link_url, row.network, item.campaign or f"item-{item.id}", row.code)


def count_click(session: Session, share_id: int, now: datetime | None = None) -> None:
    session.add(ShareClick(share_id=share_id, at=now or utcnow()))
    session.flush()
