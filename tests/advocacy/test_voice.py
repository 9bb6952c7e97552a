"""Employee voice: opt-in handles, their public posts seen by our channels shown with the guard's findings to
the coordinator and the employee, never routed as customer cases; revocable; audited."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from onevoice.advocacy import voice
from onevoice.advocacy.models import VoiceSighting
from onevoice.audit.models import AuditRecord
from onevoice.channels.models import Channel
from onevoice.db import unit_of_work, utcnow
from onevoice.errors import Forbidden, InvalidInput, NotFound
from onevoice.messages.models import Message
from onevoice.routing.playbook import Playbook

pytestmark = pytest.mark.both_databases
PLAYBOOK = "rules: [{name: all, when: {always: true}, then: {lead: support}}]"


def run(session_factory, posts: list[tuple[str, str]]) -> list[int]:
    """Feed (author handle, text) on the Mastodon channel through the pipeline with the voice hook."""
    from onevoice.pipeline.processor import Processor
    from tests.scripted_triage import ScriptedTriager

    ids = []
    with unit_of_work(session_factory) as s:
        channel_id = s.scalar(select(Channel.id).where(Channel.key == "mast"))
        for handle, text in posts:
            m = Message(channel_id=channel_id, external_id=f"v-{handle}-{len(text)}-{utcnow().timestamp()}",
                        direction="inbound", kind="mention", text=text, created_at=utcnow(),
                        author={"external_id": f"id-{handle}", "handle": handle})
            s.add(m)
            s.flush()
            ids.append(m.id)
    Processor(session_factory, ScriptedTriager(), Playbook.from_yaml(PLAYBOOK),
              claim=voice.claim_employee_voice).process(ids)
    return ids


def test_linked_handles_are_seen_not_routed(session_factory, people, settings):
    with unit_of_work(session_factory) as s:
        with pytest.raises(InvalidInput, match="listen on"):
            voice.link_handle(s, people["cai"], "tiktok", "@cai")
        with pytest.raises(Forbidden):
            voice.link_handle(s, people["pia"], "mastodon", "@pia")  # partners are not employees
        handle = voice.link_handle(s, people["cai"], "mastodon", "@Cai@Mastodon.Social")
        assert handle.handle == "cai@mastodon.social"
        with pytest.raises(InvalidInput, match="someone else"):
            voice.link_handle(s, people["sam"], "mastodon", "cai@mastodon.social")
    employee, customer = run(session_factory, [("@cai@mastodon.social", "Our launch is guaranteed to work, love it"),
                                               ("@ana", "my order never arrived")])
    with session_factory() as s:
        mine, theirs = s.get(Message, employee), s.get(Message, customer)
        assert (mine.status, mine.case_id) == ("processed", None) and mine.contact_id is not None
        assert theirs.case_id is not None  # the customer's message is a case as ever
        seen = voice.review(s, people["lee"])
        assert [x["message_id"] for x in seen] == [employee] and seen[0]["person"] == "Cai Contributor"
        rules = {f["rule"] for f in seen[0]["findings"]}
        assert {"unapproved-claims", "employee-disclosure"} <= rules
        assert [x["message_id"] for x in voice.my_voice(s, people["cai"])["seen"]] == [employee]
        assert voice.my_voice(s, people["sam"])["seen"] == []
        with pytest.raises(Forbidden):
            voice.review(s, people["mia"])
    # With a disclosure, that finding goes; after unlinking, nothing is seen and posts are routed as usual.
    disclosed, = run(session_factory, [("@cai@mastodon.social", "I work at Acme #employee: the new app is out")])
    with unit_of_work(session_factory) as s:
        found = s.scalar(select(VoiceSighting.findings).where(VoiceSighting.message_id == disclosed))
        assert "employee-disclosure" not in {f["rule"] for f in found}
        with pytest.raises(NotFound):
            voice.revoke_handle(s, people["sam"], handle.id)  # not theirs
        voice.revoke_handle(s, people["cai"], handle.id)
    later, = run(session_factory, [("@cai@mastodon.social", "still love it")])
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(VoiceSighting)) == 0
        assert s.get(Message, later).case_id is not None
        actions = list(s.scalars(select(AuditRecord.action).where(AuditRecord.action.like("advocacy.%"))
                                 .order_by(AuditRecord.id)))
        assert actions == ["advocacy.handle.link", "advocacy.voice.seen", "advocacy.voice.seen",
                           "advocacy.handle.revoke"]
    from onevoice.runtime import build_processor

    assert build_processor(settings, session_factory).claim is voice.claim_employee_voice  # wired at composition


def test_the_voice_pages(session_factory, people, browser_for):
    cai = browser_for("cai")
    page = cai.get("/advocacy/voice")
    assert page.status_code == 200 and "never becomes a customer case" in page.text
    r = cai.post("/advocacy/voice/handles", data={"network": "mastodon", "handle": "@cai",
                                                  "csrf_token": cai.csrf}, follow_redirects=False)
    assert r.status_code == 303 and "@cai" in cai.get("/advocacy/voice").text
    run(session_factory, [("@cai", "<script>alert(1)</script> launch day!")])
    review = browser_for("lee").get("/advocacy/voice/review")
    assert review.status_code == 200 and "&lt;script&gt;alert(1)&lt;/script&gt;" in review.text
    assert "employee-disclosure" in review.text
    assert browser_for("sam").get("/advocacy/voice/review").status_code == 403
