"""What employee advocacy adds up to: the feed each employee sees, the managers' participation view (who
shares, reach, clicks per item and per team) and the leaderboard the coordinator can switch off."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from onevoice.advocacy import repository, sharing
from onevoice.advocacy.models import NETWORKS, ShareableItem
from onevoice.advocacy.schemas import FeedItem, LiveItem, MyShare, WaitingItem
from onevoice.auth.principal import Principal
from onevoice.db import utcnow
from onevoice.errors import Forbidden

OVERSEERS = frozenset({"admin", "coordinator", "manager"})
# The item's own columns in the feed's models; `status` is worked out (an approved item past its date expired).
ITEM_FIELDS = tuple(name for name in FeedItem.model_fields if name != "status")


def _fields(item: ShareableItem, now: datetime) -> dict:
    """The item's columns as `FeedItem` names them (keyword arguments for the feed's models)."""
    return {**{name: getattr(item, name) for name in ITEM_FIELDS},
            "status": "expired" if item.status == "approved" and not sharing.is_live(item, now) else item.status}


def feed(session: Session, who: Principal, now: datetime | None = None) -> dict:
    """Current items with this person's share links and clicks, whether they may share (and why not), what a
    curator or approver has to do, and the leaderboard when it is on."""
    now = now or utcnow()
    items = repository.items(session)
    mine = repository.my_shares(session, who.user_id) if who.user_id else {}
    clicks = repository.click_counts(session, [s.id for s in mine.values()])
    live = []
    for item in items:
        if not sharing.is_live(item, now):
            continue
        live.append(LiveItem(**_fields(item, now), my_shares={
            n: MyShare(code=s.code, clicks=clicks.get(s.id, 0)) for (iid, n), s in mine.items() if iid == item.id}))
    curator = sharing.may_curate(session, who)
    waiting = [WaitingItem(**_fields(i, now), can_decide=sharing.may_decide(session, who, i)) for i in items
               if i.status == "pending_approval" and (sharing.may_decide(session, who, i) or i.created_by == who.label)]
    settings = sharing.get_settings(session)
    return {"items": live, "gate": sharing.gate(session, who), "networks": NETWORKS,
            "network_names": sharing.NETWORK_NAMES, "mastodon": sharing.mastodon_instance(session, who.user_id),
            "may_curate": curator, "waiting": waiting,
            "mine": [FeedItem(**_fields(i, now)) for i in items if i.created_by == who.label] if curator else [],
            "leaderboard": leaderboard(session, now) if settings["leaderboard"] else None, "settings": settings}


def _totals(session: Session, since: datetime):
    shares = repository.all_shares(session, since)
    clicks = repository.click_counts(session, [s.id for s in shares], since)
    return shares, clicks


def leaderboard(session: Session, now: datetime | None = None, days: int = 30, top: int = 10) -> list[dict]:
    """Employees by clicks their shares brought in the last `days`, then by shares."""
    now = now or utcnow()
    shares, clicks = _totals(session, now - timedelta(days=days))
    per: dict[int, list[int]] = {}
    for s in shares:
        row = per.setdefault(s.user_id, [0, 0])
        row[0] += clicks.get(s.id, 0)
        row[1] += s.shared_count
    people = repository.users_with_teams(session, set(per))
    ranked = sorted(per.items(), key=lambda kv: (-kv[1][0], -kv[1][1], people[kv[0]][0].name))
    return [{"name": people[uid][0].name, "clicks": c, "shares": n} for uid, (c, n) in ranked[:top]]


def participation(session: Session, who: Principal, now: datetime | None = None, days: int = 30) -> dict:
    """For managers (their teams' people), coordinators and admins (everyone): who shares and how often, on
    which networks, their reach (followers of their linked handles our channels have seen), the clicks each
    item and each team brought."""
    if who.role not in OVERSEERS:
        raise Forbidden("the participation view is for managers, coordinators and admins")
    now = now or utcnow()
    since = now - timedelta(days=days)
    shares, clicks = _totals(session, since)
    everyone = repository.users_with_teams(session)
    scope_teams = None if who.role in ("admin", "coordinator") else set(who.team_keys)

    def in_scope(uid: int) -> bool:
        return uid in everyone and (scope_teams is None or bool(set(everyone[uid][1]) & scope_teams))

    shares = [s for s in shares if in_scope(s.user_id)]
    handles = [h for h in repository.active_handles(session) if in_scope(h.user_id)]
    followers = repository.followers_of_handles(session, [(h.network, h.handle) for h in handles])
    reach: dict[int, int] = {}
    for h in handles:
        reach[h.user_id] = reach.get(h.user_id, 0) + followers.get((h.network, h.handle), 0)
    people: dict[int, dict] = {}
    items: dict[int, dict] = {}
    teams: dict[str, dict] = {}
    titles = {i.id: i.title for i in repository.items(session, limit=10_000)}
    for s in shares:
        user, user_teams = everyone[s.user_id]
        c = clicks.get(s.id, 0)
        p = people.setdefault(s.user_id, {"name": user.name, "email": user.email, "teams": user_teams, "shares": 0,
                                          "clicks": 0, "networks": set(), "reach": reach.get(s.user_id, 0)})
        p["shares"] += s.shared_count
        p["clicks"] += c
        p["networks"].add(s.network)
        it = items.setdefault(s.item_id, {"id": s.item_id, "title": titles.get(s.item_id, f"item {s.item_id}"),
                                          "shares": 0, "clicks": 0, "sharers": set(),
                                          "by_network": {n: 0 for n in NETWORKS}})
        it["shares"] += s.shared_count
        it["clicks"] += c
        it["sharers"].add(s.user_id)
        it["by_network"][s.network] += c
        for key in user_teams or ["(no team)"]:
            t = teams.setdefault(key, {"team": key, "shares": 0, "clicks": 0, "sharers": set()})
            t["shares"] += s.shared_count
            t["clicks"] += c
            t["sharers"].add(s.user_id)
    members: dict[str, int] = {}
    for uid, (_user, user_teams) in everyone.items():
        if in_scope(uid):
            for key in user_teams:
                members[key] = members.get(key, 0) + 1
    out_people = sorted(({**p, "networks": sorted(p["networks"])} for p in people.values()),
                        key=lambda p: (-p["clicks"], -p["shares"], p["name"]))
    out_items = sorted(({**i, "sharers": len(i["sharers"])} for i in items.values()),
                       key=lambda i: (-i["clicks"], -i["shares"], i["id"]))
    out_teams = sorted(({**t, "sharers": len(t["sharers"]), "members": members.get(t["team"], 0)}
                        for t in teams.values()), key=lambda t: (-t["clicks"], t["team"]))
    return {"days": days, "people": out_people, "items": out_items, "teams": out_teams,
            "totals": {"shares": sum(p["shares"] for p in out_people), "clicks": sum(p["clicks"] for p in out_people),
                       "sharers": len(out_people)},
            "settings": sharing.get_settings(session), "can_configure": who.role in ("admin", "coordinator"),
            "team_keys": sorted(repository.team_ids_by_key(session))}
