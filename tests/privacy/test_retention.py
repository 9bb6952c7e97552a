"""Retention on SQLite and PostgreSQL: the most specific rule decides, old content goes, labels and counts stay,
each run is recorded and audited, deletion takes what hangs off a message, nothing unprocessed is touched."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from onevoice.audit import log as audit
from onevoice.audit.models import AuditRecord
from onevoice.cases.models import Case
from onevoice.db import exclusive, lock_key, make_engine, make_sessionmaker, unit_of_work, utcnow
from onevoice.errors import Conflict, Forbidden, InvalidInput
from onevoice.inbox.search import matching_case_ids
from onevoice.messages.models import Message, RoutingDecision
from onevoice.pipeline.intake import accept_batch
from onevoice.privacy import retention
from onevoice.privacy.models import RetentionRun

pytestmark = pytest.mark.both_databases


def _item(channel, ext, kind, days_ago, text, **extra):
    return {"channel": channel, "external_id": ext, "kind": kind, "text": text,
            "author": {"external_id": f"a-{ext}", "handle": f"@h{ext}", "name": f"Person {ext}"},
            "created_at": (utcnow() - timedelta(days=days_ago)).isoformat(), "raw": {"text": text},
            "attachments": [{"type": "image", "url": f"https://files.example/{ext}.jpg"}], **extra}


@pytest.fixture
def traffic(runtime, org, drain):
    with unit_of_work(runtime.session_factory) as s:
        accept_batch(s, [
            _item("mast", "old-direct", "direct", 40, "oldsecret direct never arrived"),
            _item("mast", "old-mention", "mention", 40, "oldmention broken blender"),
            _item("mast", "young-direct", "direct", 5, "youngdirect refund please"),
            _item("xcom", "old-x", "mention", 40, "oldx terrible service"),
            _item("xcom", "older-x", "mention", 400, "olderx terrible service"),
            _item("xcom", "older-comment", "comment", 400, "oldercomment hello"),
        ])
    drain()
    with unit_of_work(runtime.session_factory) as s:  # one that is still waiting: never touched
        accept_batch(s, [_item("mast", "waiting", "mention", 90, "waitingtext")])


def _by_ext(s) -> dict[str, Message]:
    return {m.external_id: m for m in s.scalars(select(Message))}


def test_the_most_specific_rule_decides_and_figures_stay(runtime, org, traffic):
    with unit_of_work(runtime.session_factory) as s:
        retention.set_rule(s, org["lee"], None, None, 365, "anonymize")        # default: a year
        retention.set_rule(s, org["lee"], "mast", None, 30, "anonymize")       # mast: 30 days
        retention.set_rule(s, org["lee"], "mast", "direct", 7, "anonymize")    # mast DMs: a week (young one is 5)
        retention.set_rule(s, org["lee"], None, "mention", 1000, "anonymize")  # less specific than mast's
    with runtime.session_factory() as r:
        sentiments = {e: (m.triage or {}).get("sentiment") for e, m in _by_ext(r).items()}
        cases = r.scalar(select(func.count(Case.id)))
    result = retention.run(runtime.session_factory, org["lee"], batch=1)  # batches of one: the loop is exercised
    assert result["anonymized"] == 3 and result["deleted"] == 0
    assert result["attachments"] == 3 and result["raw_payloads"] == 3
    with runtime.session_factory() as s:
        m = _by_ext(s)
        for ext in ("old-direct", "old-mention"):
            assert m[ext].text == "" and not m[ext].raw and not m[ext].attachments and m[ext].author == {}
            assert m[ext].redacted_at is not None and m[ext].triage["sentiment"] == sentiments[ext]
        # xcom mentions: the mention rule (1000 days) beats the default; an xcom comment: the default (365).
        assert m["older-x"].text == "olderx terrible service" and m["older-comment"].text == ""
        assert m["young-direct"].text == "youngdirect refund please"
        assert m["waiting"].text == "waitingtext" and m["waiting"].status == "accepted"
        assert s.scalar(select(func.count(Case.id))) == cases
        assert matching_case_ids(s, "oldsecret") == [] and matching_case_ids(s, "olderx")
        run = s.scalar(select(RetentionRun))
        assert (run.anonymized, run.actor, run.finished_at is not None) == (3, "lee@acme.test", True)
        rec = s.scalar(select(AuditRecord).where(AuditRecord.action == "retention.run"))
        assert rec.data["anonymized"] == 3 and audit.verify(s).ok
    again = retention.run(runtime.session_factory, "scheduler")
    assert again["anonymized"] == 0  # idempotent: anonymized messages are not counted twice


def test_delete_takes_the_message_and_what_hangs_off_it(runtime, org, traffic):
    with unit_of_work(runtime.session_factory) as s:
        retention.set_rule(s, org["ada"], "xcom", None, 30, "delete")
    result = retention.run(runtime.session_factory, org["ada"])
    assert result["deleted"] == 3
    with runtime.session_factory() as s:
        m = _by_ext(s)
        assert not {"old-x", "older-x", "older-comment"} & set(m) and "old-mention" in m
        processed = [x for x in m.values() if x.status == "processed"]
        assert s.scalar(select(func.count(RoutingDecision.id))) == len(processed)


def test_rules_are_checked_and_only_owners_set_them(runtime, org, traffic):
    with unit_of_work(runtime.session_factory) as s:
        with pytest.raises(Forbidden):
            retention.set_rule(s, org["sam"], None, None, 30)
        for args, msg in ((("nope", None, 30), "no channel"), ((None, "tweet", 30), "kind must be"),
                          ((None, None, 0), "days must be"), ((None, None, 10**9), "days must be")):
            with pytest.raises(InvalidInput, match=msg):
                retention.set_rule(s, org["ada"], *args)
        with pytest.raises(InvalidInput, match="action"):
            retention.set_rule(s, org["ada"], None, None, 30, "shred")
        rule = retention.set_rule(s, org["ada"], None, None, 30)
        again = retention.set_rule(s, org["ada"], None, None, 60, "delete")  # replaces, one rule per scope
        assert again.id == rule.id and len(retention.list_rules(s)) == 1
    assert retention.job(runtime.session_factory) is not None


def _other_node(runtime):
    """A second node: its own engine and connection pool on the same database, as another process has."""
    engine = make_engine(runtime.settings.database_url)
    return engine, make_sessionmaker(engine)


def test_two_nodes_never_run_retention_at_once(runtime, org, traffic):
    with unit_of_work(runtime.session_factory) as s:
        retention.set_rule(s, org["lee"], None, None, 30, "anonymize")
    engine, other = _other_node(runtime)
    seen = []

    def meanwhile(_report):  # node A is between two batches of its run: node B's scheduler and a person try
        if seen:
            return
        seen.append(retention.job(other))
        with pytest.raises(Conflict, match="already under way"):
            retention.run(other, org["lee"])
    try:
        first = retention.run(runtime.session_factory, "scheduler", batch=1, progress=meanwhile)
        assert seen == [None]  # B's pass skipped: it found the lock held
        assert first["anonymized"] == 5  # every processed message older than 30 days
        with runtime.session_factory() as s:
            assert [r.actor for r in s.scalars(select(RetentionRun))] == ["scheduler"]
        # Released when A's run ended: B's next pass runs (nothing left to do, and it says so).
        assert retention.job(other)["anonymized"] == 0
        with runtime.session_factory() as s:
            assert s.scalar(select(func.count(RetentionRun.id))) == 2
    finally:
        engine.dispose()


def test_the_lock_is_released_when_the_node_holding_it_dies(runtime):
    engine, _other = _other_node(runtime)
    try:
        with exclusive(runtime.engine, "retention") as held:
            assert held
            with exclusive(engine, "retention") as second:
                assert not second
            if runtime.engine.dialect.name != "postgresql":
                return
            # PostgreSQL: the holder's connection dies (its node was killed): the server frees the lock.
            k = lock_key("retention") & 0xFFFFFFFFFFFFFFFF
            with engine.connect() as c:
                pids = c.execute(text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
                                      "classid::bigint = :hi AND objid::bigint = :lo"),
                                 {"hi": k >> 32, "lo": k & 0xFFFFFFFF}).scalars().all()
                assert len(pids) == 1
                c.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pids[0]})
                # pg_terminate_backend only signals the backend: the lock goes when it has exited.
                # pg_locks is read live; each check in its own transaction (a transaction keeps one snapshot of
                # the statistics views, so pg_stat_activity would show the old backend until it ends).
                for _ in range(200):
                    c.commit()
                    if not c.execute(text("SELECT 1 FROM pg_locks WHERE pid = :p AND locktype = 'advisory'"),
                                     {"p": pids[0]}).first():
                        break
                    time.sleep(0.05)
                else:
                    raise AssertionError("the terminated backend did not exit within 10 s")
            with exclusive(engine, "retention") as taken_over:
                assert taken_over
        with exclusive(engine, "retention") as after:  # and nothing is left held
            assert after
    finally:
        engine.dispose()
