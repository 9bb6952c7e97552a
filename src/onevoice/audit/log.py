"""The audit log: every action appended with who, what, when, from where; tamper-evident by a hash chain.

Each record's hash is SHA-256 over the previous record's hash and the canonical JSON of the record
(seq, at, actor, action, target, data, ip). Changing, removing or reordering any record breaks the chain
from that record on; `verify` names the first broken link. The chain alone is keyed by nobody, though:
whoever can write the table can recompute it, and removing the newest records leaves a valid chain. What
anchors it outside the database (each record's MAC under the audit key, checkpoints of the head in a file
and the logs) is in audit/anchor.py; `verify` checks both and says what it proved.

Two writers must not both append after the same record (a fork). On PostgreSQL `record` takes a
transaction-scoped advisory lock before reading the head; on SQLite every write transaction already begins
with BEGIN IMMEDIATE, so writers are serialized. The unique `seq` is the last line of defence.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from onevoice.audit.anchor import AuditKey, Checkpoint, anchor_of, read_checkpoints, signature_ok
from onevoice.audit.models import AuditRecord
from onevoice.audit.schemas import AuditPage, AuditRecordOut
from onevoice.auth.permissions import AUDITORS, require
from onevoice.auth.principal import Principal
from onevoice.db import utcnow
from onevoice.errors import InvalidInput

GENESIS = "0" * 64
# Any fixed 64-bit number: the key of the advisory lock that serializes appends on PostgreSQL.
LOCK_KEY = 0x0E_A0D1_7106
FIELDS = ("seq", "at", "actor", "action", "target", "data", "ip", "prev_hash", "hash")


def canonical(value) -> str:
    """One byte-exact JSON form: sorted keys, no spaces, UTF-8 kept, non-JSON values as strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _iso(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def compute_hash(prev_hash: str, seq: int, at: datetime, actor: str, action: str, target: str, data: dict,
                 ip: str | None) -> str:
    body = canonical({"seq": seq, "at": _iso(at), "actor": actor, "action": action, "target": target,
                      "data": data, "ip": ip})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def actor_label(actor: Principal | str | None) -> str:
    if actor is None:
        return "system"
    return actor if isinstance(actor, str) else actor.label


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})


def _head(session: Session) -> tuple[int, str]:
    pending = [o for o in session.new if isinstance(o, AuditRecord)]
    if pending:
        last = max(pending, key=lambda r: r.seq)
        return last.seq, last.hash
    head = session.execute(select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc())
                           .limit(1)).first()
    return (head[0], head[1]) if head else (0, GENESIS)


def append_unflushed(session: Session, actor: Principal | str | None, action: str, target: str = "",
                     data: dict | None = None, ip: str | None = None) -> AuditRecord:
    """Add the next record to the session without flushing (for use inside a flush hook)."""
    if not action:
        raise InvalidInput("an audit record needs an action")
    _lock(session)
    # Round-trip through canonical JSON so the stored data hashes the same when read back.
    data = json.loads(canonical(data or {}))
    last_seq, prev = _head(session)
    seq, at = last_seq + 1, utcnow()
    rec = AuditRecord(seq=seq, at=at, actor=actor_label(actor)[:320], action=action[:100],
                      target=(target or "")[:300], data=data, ip=(ip or None) and ip[:64], prev_hash=prev)
    rec.hash = compute_hash(prev, seq, at, rec.actor, rec.action, rec.target, data, rec.ip)
    key = anchor_of(session).key
    if key is not None:
        rec.mac, rec.key_id = key.seal(rec.hash), key.id
    session.add(rec)
    return rec


def record(session: Session, actor: Principal | str | None, action: str, target: str = "",
           data: dict | None = None, ip: str | None = None) -> AuditRecord:
    """Append one record in the caller's transaction (it becomes visible when the caller commits).

    actor: the Principal acting (or a label such as "cli:alice" / "scheduler"); action: a dotted verb such
    as "guard_rule.update"; target: what it acted on ("guard_rule:tone", "channel:sandbox-x"); data: details
    (JSON; never secrets); ip: where the request came from.
    """
    session.flush()  # whatever the hook audits in this unit of work goes first
    rec = append_unflushed(session, actor, action, target, data, ip)
    session.flush()
    return rec


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    head_hash: str
    broken_seq: int | None = None
    broken_id: int | None = None
    reason: str | None = None
    # What anchors the chain outside the database (audit/anchor.py).
    sealed_from: int | None = None  # the first record whose MAC checked under a key verify had
    keys_given: int = 0
    checkpoint_path: str | None = None
    checkpoints: int = 0
    checkpoints_signed: int = 0
    newest_checkpoint: Checkpoint | None = None
    other_checkpoints: int = 0  # in the same file, of other databases: not compared

    def findings(self) -> list[str]:
        """What this verification proved and what it did not, in sentences for people."""
        if not self.ok and self.broken_seq is None:  # the checkpoint file could not be read
            return [f"BROKEN: {self.reason}"]
        if not self.ok:
            return [f"BROKEN at record seq={self.broken_seq}{f' (id {self.broken_id})' if self.broken_id else ''}: "
                    f"{self.reason}; {self.checked} record(s) before it are intact"]
        out = [f"ok: {self.checked} record(s), chain intact; head {self.head_hash}"]
        if self.sealed_from is not None:
            before = "" if self.sealed_from == 1 else (
                f"; {_span(1, self.sealed_from - 1, 'are', 'is')} vouched for by the chain up to record "
                f"{self.sealed_from} (written before the key, or under a retired one)")
            out.append(f"sealed: {_span(self.sealed_from, self.checked, 'carry MACs', 'carries a MAC')} under the "
                       f"audit key{before}; rewriting any of them needs the key, not just the database")
        elif not self.keys_given:
            out.append("NOT SEALED: no audit key is configured (ONEVOICE_AUDIT_KEY_FILE), so anyone who can write "
                       "the database could have rewritten the whole chain; it only shows accidental damage")
        else:
            out.append("NOT SEALED: no record carries a MAC under the key given; records written from now on will")
        if self.newest_checkpoint is not None:
            newest = self.newest_checkpoint
            out.append(f"checkpoints: {self.checkpoints} in {self.checkpoint_path} ({self.checkpoints_signed} with a "
                       f"signature checked), the newest of {newest.at} at record {newest.seq}: every checkpointed "
                       "record is still there, unchanged, so nothing up to it was cut from the end")
            if newest.seq < self.checked:
                newer = _span(newest.seq + 1, self.checked, "are", "is")
                out.append(f"not proven: {newer} newer than the last checkpoint; removing them from the end would "
                           "not show until the next checkpoint is compared")
        else:
            where = self.checkpoint_path or "no checkpoint file configured"
            out.append(f"NO CHECKPOINT of this database ({where}): records removed from the end of the log would "
                       "not be noticed")
        if self.other_checkpoints:
            out.append(f"{self.other_checkpoints} checkpoint(s) in the file are of another database (another URL) "
                       "and were not compared")
        return out


_UNSET = object()


def _span(first: int, last: int, plural: str, singular: str) -> str:
    return f"record {first} {singular}" if first == last else f"records {first}-{last} {plural}"


def _seal_problem(rec: AuditRecord, keys: dict[str, AuditKey], sealed: bool) -> str | None:
    key = keys.get(rec.key_id or "")
    if key is not None and rec.mac:
        if not hmac.compare_digest(key.seal(rec.hash), rec.mac):
            return "its MAC does not match: it was rewritten by someone without the audit key"
        return None
    if sealed:
        why = "it carries no MAC" if not rec.mac else f"its MAC is under key {rec.key_id}, which verify was not given"
        return (f"{why}, though the records before it are sealed: added or rewritten without the audit key, or "
                "written by a process that does not have it")
    return None


def verify(session: Session, batch: int = 2000, keys: Iterable[AuditKey] = (), checkpoint_path=_UNSET
           ) -> Verification:
    """Walk the chain from the first record; stop at the first record that does not follow from the one
    before it (changed content, wrong previous hash, or a missing record) or whose seal is wrong; then
    check every checkpoint against the records. Keys: the session's audit key and any `keys` (retired ones)."""
    anchor = anchor_of(session)
    available = {k.id: k for k in (anchor.key, *keys) if k is not None}
    path = anchor.checkpoint_path if checkpoint_path is _UNSET else checkpoint_path
    base = {"keys_given": len(available), "checkpoint_path": str(path) if path else None}
    try:
        checkpoints = read_checkpoints(Path(path)) if path and Path(path).exists() else []
    except (InvalidInput, OSError) as exc:
        return Verification(False, 0, GENESIS, None, None, str(exc), **base)
    others = [c for c in checkpoints if anchor.database and c.db != anchor.database]
    checkpoints = [c for c in checkpoints if c not in others]
    base |= {"other_checkpoints": len(others)}
    wanted, seen = {c.seq for c in checkpoints}, {}
    prev, expected_seq, checked, sealed_from = GENESIS, 1, 0, None
    rows = session.execute(select(AuditRecord).order_by(AuditRecord.seq).execution_options(yield_per=batch))
    for rec in rows.scalars():
        if rec.seq != expected_seq:
            return Verification(False, checked, prev, rec.seq, rec.id,
                                f"record {expected_seq} is missing (found {rec.seq} after {expected_seq - 1})", **base)
        if rec.prev_hash != prev:
            return Verification(False, checked, prev, rec.seq, rec.id,
                                "its previous-hash does not match the record before it", **base)
        again = compute_hash(prev, rec.seq, rec.at, rec.actor, rec.action, rec.target, rec.data or {}, rec.ip)
        if again != rec.hash:
            return Verification(False, checked, prev, rec.seq, rec.id,
                                "its content was changed after it was written (hash mismatch)", **base)
        problem = _seal_problem(rec, available, sealed_from is not None)
        if problem:
            return Verification(False, checked, prev, rec.seq, rec.id, problem, **base)
        if sealed_from is None and rec.mac and rec.key_id in available:
            sealed_from = rec.seq
        if rec.seq in wanted:
            seen[rec.seq] = rec.hash
        prev, expected_seq, checked = rec.hash, expected_seq + 1, checked + 1
    base |= {"sealed_from": sealed_from}
    signed = 0
    for c in checkpoints:
        signature = signature_ok(c, available)
        if signature is False:
            return Verification(False, checked, prev, c.seq, None, f"the checkpoint on line {c.line} of {path} "
                                "does not match its signature: the checkpoint file was altered", **base)
        signed += signature is True
        if c.seq > checked:
            return Verification(False, checked, prev, c.seq, None, f"the log ends at record {checked}, but the "
                                f"checkpoint of {c.at} saw record {c.seq}: records were removed from the end", **base)
        if seen[c.seq] != c.hash:
            return Verification(False, checked, prev, c.seq, None, f"it is not the record checkpointed at {c.at} "
                                f"(line {c.line} of {path}): the log was rewritten", **base)
    newest = max(checkpoints, key=lambda c: c.seq, default=None)
    return Verification(True, checked, prev, checkpoints=len(checkpoints), checkpoints_signed=signed,
                        newest_checkpoint=newest, **base)


def require_auditor(who: Principal) -> None:
    require(who, AUDITORS, "read or export the audit log")


def _query(since: datetime | None = None, until: datetime | None = None, action: str | None = None,
           actor: str | None = None, target: str | None = None):
    q = select(AuditRecord)
    if since is not None:
        q = q.where(AuditRecord.at >= since)
    if until is not None:
        q = q.where(AuditRecord.at < until)
    if action:
        # "channel" finds channel.add, channel.remove...; "channel.add" finds exactly that.
        q = q.where((AuditRecord.action == action) | AuditRecord.action.startswith(action.rstrip(".") + "."))
    if actor:
        q = q.where(AuditRecord.actor == actor)
    if target:
        q = q.where(AuditRecord.target.startswith(target))
    return q


def record_out(rec: AuditRecord) -> AuditRecordOut:
    """One record as readers get it, its time in the chain's own form (`_iso`, what the hash covers)."""
    return AuditRecordOut(id=rec.id, seq=rec.seq, at=_iso(rec.at), actor=rec.actor, action=rec.action,
                          target=rec.target, data=rec.data, ip=rec.ip, prev_hash=rec.prev_hash, hash=rec.hash)


def search(session: Session, who: Principal, *, since=None, until=None, action=None, actor=None, target=None,
           before_seq: int | None = None, limit: int = 100) -> AuditPage:
    """Newest first, paged by `before_seq` (the `next` value of the previous page)."""
    require_auditor(who)
    q = _query(since, until, action, actor, target)
    if before_seq is not None:
        q = q.where(AuditRecord.seq < before_seq)
    rows = list(session.scalars(q.order_by(AuditRecord.seq.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(items=[record_out(r) for r in rows], next=rows[-1].seq if more and rows else None)


def export_lines(session: Session, fmt: str, *, since=None, until=None, action=None, actor=None,
                 target=None) -> Iterator[str]:
    """The matching records, oldest first, as JSON lines or CSV (with a header). Streams in batches."""
    if fmt not in ("jsonl", "csv"):
        raise InvalidInput("format must be jsonl or csv")
    q = _query(since, until, action, actor, target).order_by(AuditRecord.seq).execution_options(yield_per=1000)
    if fmt == "csv":
        yield ",".join(FIELDS) + "\r\n"
    for rec in session.scalars(q):
        row = record_out(rec).model_dump()
        if fmt == "jsonl":
            yield canonical(row) + "\n"
        else:
            buf = io.StringIO()
            csv.writer(buf).writerow([canonical(row[f]) if f == "data" else spreadsheet_safe(row[f])
                                      for f in FIELDS])
            yield buf.getvalue()


# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...) typed as the email of
# a failed sign-in, say); a leading apostrophe makes it text. The JSON column always starts with "{".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def spreadsheet_safe(value: object) -> object:
    """A CSV cell that a spreadsheet shows as the text it is (OWASP's CSV injection advice)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def record_export(session: Session, who: Principal | str, fmt: str, filters: dict, ip: str | None = None) -> None:
    """Exports are themselves audited (who took a copy of what)."""
    record(session, who, "audit.export", "audit_log", {"format": fmt, **{k: v for k, v in filters.items() if v}},
           ip)


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditRecord.action).distinct().order_by(AuditRecord.action)))
