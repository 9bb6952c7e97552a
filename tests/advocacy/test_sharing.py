"""Employee advocacy: items through the guard and the approval rules, who may share (policy and training), the
short links (a redirect only ever to an approved link, bot bursts limited, clicks counted without addresses),
the leaderboard switch and the participation view."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, inspect, select

from onevoice.advocacy import participation, sharing
from onevoice.advocacy.links import ClickLimiter, clean_instance, with_utm
from onevoice.advocacy.models import Share, ShareableItem, ShareClick
from onevoice.audit.models import AuditRecord
from onevoice.db import unit_of_work, utcnow
from onevoice.errors import Forbidden, InvalidInput
from onevoice.governance import policy
from onevoice.governance.models import TrainingModule
from onevoice.inbox.models import Notification

pytestmark = pytest.mark.both_databases
LINK = "https://acme.example/launch?ref=blog"


def ready(session, who):
    """This person acknowledged the current policy and finished every training module."""
    policy.acknowledge(session, who, policy.current_version(session).id)
    for module_id in session.scalars(select(TrainingModule.id)):
        policy.complete_module(session, who, module_id)


@pytest.fixture
def item_id(session_factory, people):
    with unit_of_work(session_factory) as s:
        return sharing.create_item(s, people["lee"], "Spring launch", "Our new app is out!", LINK,
                                   variants={"x": "New app, short version"}, campaign="spring-launch").id


def test_items_go_through_the_guard_and_the_approval_rules(session_factory, people):
    with unit_of_work(session_factory) as s:
        sharing.save_settings(s, people["lee"], True, ["support"])
    with pytest.raises(sharing.ItemBlocked) as err, unit_of_work(session_factory) as s:
        sharing.create_item(s, people["lee"], "T", "Fine text", LINK, variants={"bluesky": "you idiot"})
    assert list(err.value.blocked) == ["Bluesky variant"]
    with unit_of_work(session_factory) as s:
        assert s.scalar(select(func.count()).select_from(ShareableItem)) == 0  # nothing stored
        # A responder of an allowed team, with a claim: the default rules send it to Legal.
        held = sharing.create_item(s, people["sam"], "Tips", "The new app is guaranteed to save you time", LINK)
        assert held.status == "pending_approval" and "Regulated words or claims" in held.approval_reason
        told = s.scalar(select(Notification).where(Notification.kind == "approval"))  # Legal, with the way there
        assert told.links == [{"label": "Review it", "href": f"/advocacy#waiting-{held.id}"}]
        with pytest.raises(Forbidden):
            sharing.decide(s, people["sam"], held.id, True)  # not one's own
        with pytest.raises(Forbidden):
            sharing.decide(s, people["mia"], held.id, True)  # Support's manager; Legal approves
        with pytest.raises(InvalidInput, match="say why"):
            sharing.decide(s, people["lee"], held.id, False)
        ready(s, people["lee"])
        with pytest.raises(InvalidInput, match="not approved"):
            sharing.share(s, people["lee"], held.id, "x", "http://ov.test")
        assert sharing.decide(s, people["lena"], held.id, True).status == "approved"  # Legal
        with pytest.raises(Forbidden):
            sharing.create_item(s, people["cai"], "T", "text", LINK)  # Product is not allowed to curate
        for bad, message in (("javascript:alert(1)", "https://"), ("https://u:p@acme.example", "password"),
                             ("https://acme.example/a b", "without spaces")):
            with pytest.raises(InvalidInput, match=message):
                sharing.create_item(s, people["lee"], "T", "text", bad)
        actions = set(s.scalars(select(AuditRecord.action).where(AuditRecord.action.like("advocacy.%"))))
        assert {"advocacy.settings", "advocacy.item.create", "advocacy.item.approve"} <= actions


def test_only_those_who_acknowledged_and_trained_may_share(session_factory, people, item_id):
    with unit_of_work(session_factory) as s:
        g = sharing.gate(s, people["cai"])
        assert not g.ok and [link for _r, link in g.reasons] == ["/governance/policy", "/governance/policy"]
        assert "Acknowledge version 1" in g.reasons[0][0] and "Finish the training" in g.reasons[1][0]
        with pytest.raises(Forbidden, match="Acknowledge"):
            sharing.share(s, people["cai"], item_id, "x", "http://ov.test")
        assert not sharing.gate(s, people["pia"]).ok  # partners do not share our content
        ready(s, people["cai"])
        assert sharing.gate(s, people["cai"]).ok
        url = sharing.share(s, people["cai"], item_id, "x", "http://ov.test")
        again = sharing.share(s, people["cai"], item_id, "x", "http://ov.test")
    q = parse_qs(urlsplit(url).query)
    assert url.startswith("https://x.com/intent/post?") and q["text"] == ["New app, short version"]
    assert re.fullmatch(r"http://ov\.test/s/[A-Za-z0-9_-]{8}", q["url"][0]) and url == again  # one link, reused
    with session_factory() as s:
        share = s.scalar(select(Share))
        assert (share.network, share.shared_count) == ("x", 2)
    with unit_of_work(session_factory) as s:
        with pytest.raises(InvalidInput, match="Mastodon server"):
            sharing.share(s, people["cai"], item_id, "mastodon", "http://ov.test")
        sharing.set_mastodon_instance(s, people["cai"], "https://Fosstodon.org/@cai")
        masto = sharing.share(s, people["cai"], item_id, "mastodon", "http://ov.test")
        assert masto.startswith("https://fosstodon.org/share?text=Our%20new%20app%20is%20out%21")
        for network, start in (("linkedin", "https://www.linkedin.com/sharing/share-offsite/?url=http"),
                               ("facebook", "https://www.facebook.com/sharer/sharer.php?u=http"),
                               ("bluesky", "https://bsky.app/intent/compose?text=Our+new+app")):
            assert sharing.share(s, people["cai"], item_id, network, "http://ov.test").startswith(start)


def test_short_links_redirect_count_and_limit(session_factory, people, item_id, browser_for, gov_app):
    from fastapi.testclient import TestClient

    cai = browser_for("cai")
    assert cai.get(f"/advocacy/items/{item_id}/share/x", follow_redirects=False).status_code == 403  # no token
    assert cai.get(f"/advocacy/items/{item_id}/share/x?t=forged", follow_redirects=False).status_code == 403
    pia = browser_for("pia")  # a partner, even with her page's token
    assert pia.get(f"/advocacy/items/{item_id}/share/x?t={pia.csrf}", follow_redirects=False).status_code == 403
    assert cai.get(f"/advocacy/items/{item_id}/share/x?t={cai.csrf}", follow_redirects=False).status_code == 403
    with unit_of_work(session_factory) as s:
        ready(s, people["cai"])
    r = cai.get(f"/advocacy/items/{item_id}/share/x?t={cai.csrf}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("https://x.com/intent/post?")
    short = parse_qs(urlsplit(r.headers["location"]).query)["url"][0]
    code = short.rsplit("/", 1)[1]
    visitor = TestClient(gov_app, headers={"User-Agent": "Mozilla/5.0 (X11; Linux) Firefox/133.0"})
    first = visitor.get(f"/s/{code}?url=https://evil.example", follow_redirects=False)
    assert first.status_code == 302
    target = urlsplit(first.headers["location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "acme.example", "/launch")
    assert parse_qs(target.query) == {"ref": ["blog"], "utm_source": ["x"], "utm_medium": ["employee_advocacy"],
                                      "utm_campaign": ["spring-launch"], "utm_content": [code]}
    # The same person clicking again within half an hour, a link previewer: redirected, not counted.
    assert visitor.get(f"/s/{code}", follow_redirects=False).status_code == 302
    preview = TestClient(gov_app, headers={"User-Agent": "Twitterbot/1.0"})
    assert preview.get(f"/s/{code}", follow_redirects=False).status_code == 302
    # A bot burst from one address: refused past the rate, and never counted.
    statuses = [visitor.get(f"/s/{code}", follow_redirects=False).status_code for _ in range(40)]
    assert statuses.count(429) >= 10 and set(statuses) <= {302, 429}
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(ShareClick)) == 1
        bind = s.get_bind()
    # No column of the clicks can hold an address or a user agent.
    assert {c["name"] for c in inspect(bind).get_columns("advocacy_clicks")} == {"id", "share_id", "at"}
    assert "1 click" in cai.get("/advocacy").text
    gov_app.state.click_limiter = ClickLimiter()  # every test client has the same address: a new minute
    assert TestClient(gov_app).get("/s/nope1234", follow_redirects=False).status_code == 404
    # Withdrawn: the link stops redirecting at once. Never a URL that is not approved now.
    with unit_of_work(session_factory) as s:
        sharing.withdraw(s, people["lee"], item_id)
    gone = TestClient(gov_app).get(f"/s/{code}", follow_redirects=False)
    assert gone.status_code == 404 and "location" not in gone.headers


def test_an_expired_item_is_neither_shared_nor_redirected(session_factory, people, item_id):
    with unit_of_work(session_factory) as s:
        ready(s, people["cai"])
        sharing.share(s, people["cai"], item_id, "linkedin", "http://ov.test")
        code = s.scalar(select(Share.code))
        assert sharing.resolve(s, code) is not None
        s.get(ShareableItem, item_id).expires_at = utcnow() - timedelta(minutes=1)
        s.flush()
        assert sharing.resolve(s, code) is None
        with pytest.raises(InvalidInput, match="expired"):
            sharing.share(s, people["cai"], item_id, "x", "http://ov.test")
        with pytest.raises(InvalidInput, match="past"):
            sharing.create_item(s, people["lee"], "T", "text", LINK, expires_at=utcnow() - timedelta(days=1))


def test_the_leaderboard_switch_and_the_participation_view(session_factory, people, item_id):
    with unit_of_work(session_factory) as s:
        for name in ("sam", "cai", "lena"):
            ready(s, people[name])
            sharing.share(s, people[name], item_id, "x", "http://ov.test")
        codes = dict(s.execute(select(Share.user_id, Share.id)).all())
        for _ in range(3):
            sharing.count_click(s, codes[people["lena"].user_id])
        sharing.count_click(s, codes[people["sam"].user_id])
    with session_factory() as s:
        board = participation.feed(s, people["cai"])["leaderboard"]
        assert [p["name"] for p in board] == ["Lena Brandt", "Sam Rivera", "Cai Contributor"]
        everyone = participation.participation(s, people["lee"])
        assert [(p["name"], p["clicks"]) for p in everyone["people"]] == [("Lena Brandt", 3), ("Sam Rivera", 1),
                                                                          ("Cai Contributor", 0)]
        assert everyone["items"][0]["clicks"] == 4 and everyone["items"][0]["by_network"]["x"] == 4
        assert {t["team"]: t["clicks"] for t in everyone["teams"]} == {"legal": 3, "support": 1, "product": 0}
        mine = participation.participation(s, people["mia"])  # Support's manager: Support's people
        assert [p["name"] for p in mine["people"]] == ["Sam Rivera"]
        with pytest.raises(Forbidden):
            participation.participation(s, people["sam"])
    with unit_of_work(session_factory) as s:
        with pytest.raises(Forbidden):
            sharing.save_settings(s, people["mia"], False, [])
        sharing.save_settings(s, people["lee"], False, ["marketing"])
    with session_factory() as s:
        assert participation.feed(s, people["cai"])["leaderboard"] is None


def test_the_click_limiter_on_a_clock():
    now = [0.0]
    limiter = ClickLimiter(clock=lambda: now[0])
    assert limiter.check("1.1.1.1", "abc") == (True, True)
    assert limiter.check("1.1.1.1", "abc") == (True, False)  # the same clicker, again
    now[0] += ClickLimiter.DEDUPE_WINDOW + 1
    assert limiter.check("1.1.1.1", "abc") == (True, True)  # half an hour later: counted
    # Many addresses at once on one link: counted up to the burst cap a minute, all redirected.
    results = [limiter.check(f"10.0.{i // 250}.{i % 250}", "hot") for i in range(ClickLimiter.SHARE_BURST + 20)]
    assert sum(c for _a, c in results) == ClickLimiter.SHARE_BURST and all(a for a, _c in results)
    now[0] += 61
    assert limiter.check("10.9.9.9", "hot") == (True, True)
    assert not limiter._seen or all(isinstance(k[0], bytes) for k in limiter._seen)  # hashes, never addresses


def test_urls_and_servers_are_cleaned():
    assert clean_instance("@me@Mastodon.Social") == "mastodon.social"
    with pytest.raises(InvalidInput):
        clean_instance("localhost")
    with pytest.raises(InvalidInput):
        clean_instance("bad host.example")
    assert with_utm("https://a.example/?utm_source=news", "x", "c", "k") == \
        "https://a.example/?utm_source=news&utm_medium=employee_advocacy&utm_campaign=c&utm_content=k"
