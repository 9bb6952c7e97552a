"""What anchors the audit log outside the database, so that someone who can write the database cannot
rewrite it unseen: an HMAC key, and checkpoints of the head written to a file and the logs.

The hash chain alone is keyed by nobody: whoever can write `audit_log` can change a record and recompute
every hash after it. So, when an audit key is configured (ONEVOICE_AUDIT_KEY_FILE, or ONEVOICE_AUDIT_KEY),
each record also carries `mac` = HMAC-SHA256(key, its hash) and `key_id` (a fingerprint of the key, never
the key). The hash covers the previous hash, so one record whose MAC checks vouches for every record before
it: records written before the key existed (or under a retired key) are anchored by the first record after
them that carries a MAC under a key verify has. From that record on, every record must carry such a MAC.

A MAC cannot show that the newest records were removed (the remaining chain is still valid and sealed), nor
a chain re-created from nothing with no MACs at all. Checkpoints can: every so often (the scheduler, or
`onevoice audit checkpoint`) the head's seq and hash are appended as one JSON line to a file the database
cannot write (ONEVOICE_AUDIT_CHECKPOINT_PATH, by default <data dir>/audit-checkpoints.jsonl) and logged
(logger onevoice.audit.anchor), signed with the audit key when there is one. `verify` then requires
every checkpointed record to still be there with the same hash. Each line names the database it was taken
of (a fingerprint of its URL without the password), so one file can serve several databases and a file
from elsewhere is never compared with the wrong log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from onevoice.audit.models import AuditRecord
from onevoice.db import normalize_url
from onevoice.errors import InvalidInput

log = logging.getLogger(__name__)
MIN_KEY_CHARS = 32
_KEY_ID = b"onevoice-audit-key-id"
_RECORD = "onevoice-audit-record-v1\n"
_CHECKPOINT = "onevoice-audit-checkpoint-v1\n"
_INFO = "audit_anchor"


@dataclass(frozen=True)
class AuditKey:
    secret: bytes = field(repr=False)

    @property
    def id(self) -> str:
        """A fingerprint that names the key in each record; it reveals nothing of the key."""
        return hmac.new(self.secret, _KEY_ID, hashlib.sha256).hexdigest()[:16]

    def seal(self, record_hash: str) -> str:
        return hmac.new(self.secret, (_RECORD + record_hash).encode(), hashlib.sha256).hexdigest()

    def sign(self, body: str) -> str:
        return hmac.new(self.secret, (_CHECKPOINT + body).encode(), hashlib.sha256).hexdigest()


def parse_key(text: str, where: str) -> AuditKey:
    text = text.strip()
    if len(text) < MIN_KEY_CHARS:
        raise InvalidInput(f"the audit key in {where} is too short: use at least {MIN_KEY_CHARS} characters "
                           "(`onevoice audit new-key` makes one)")
    return AuditKey(text.encode("utf-8"))


def read_key_file(path: Path) -> AuditKey:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read the audit key file {path}: {exc}") from None
    return parse_key(text, str(path))


def write_new_key(path: Path) -> AuditKey:
    """A new random key in a new file only its owner can read; never overwrites an existing file."""
    text = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InvalidInput(f"{path} already exists: a key file is never overwritten") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text + "\n")
    return AuditKey(text.encode("utf-8"))


@dataclass(frozen=True)
class Anchor:
    """The key new records are sealed with (None: records carry no MAC), where checkpoints go, and which
    database they are of."""

    key: AuditKey | None = None
    checkpoint_path: Path | None = None
    database: str | None = None


def database_tag(url: str) -> str:
    """The same for every spelling of one database's URL that we can see (driver, relative SQLite path,
    password); different for different databases."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        parsed = parsed.set(database=str(Path(parsed.database).resolve()))
    text = parsed.set(drivername=parsed.get_backend_name(), password=None).render_as_string(hide_password=False)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def anchor_from_settings(settings) -> Anchor:
    """Raises InvalidInput when the configured key cannot be used: a deployment that asked for a key must
    not quietly write records without one."""
    inline, path = settings.audit_key, settings.audit_key_file
    if inline is not None and path is not None:
        raise InvalidInput("set ONEVOICE_AUDIT_KEY_FILE or ONEVOICE_AUDIT_KEY, not both")
    key = read_key_file(path) if path is not None else (
        parse_key(inline.get_secret_value(), "ONEVOICE_AUDIT_KEY") if inline is not None else None)
    return Anchor(key, settings.audit_checkpoint_path or Path(settings.data_dir) / "audit-checkpoints.jsonl",
                  database_tag(settings.database_url))


def session_info(anchor: Anchor) -> dict:
    """For `make_sessionmaker(..., info=)`: every session of the factory seals and verifies with it."""
    return {_INFO: anchor}


def anchor_of(session: Session) -> Anchor:
    return session.info.get(_INFO) or Anchor()


# Checkpoints ---------------------------------------------------------------------------------------------

def _body(seq: int, record_hash: str, at: str, db: str | None) -> str:
    return json.dumps({"at": at, "db": db, "hash": record_hash, "seq": seq}, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Checkpoint:
    line: int
    seq: int
    hash: str
    at: str
    db: str | None
    key_id: str | None
    mac: str | None


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """Every checkpoint in the file, oldest first; InvalidInput names the first line that is not one."""
    out: list[Checkpoint] = []
    with open(path, encoding="utf-8") as lines:
        for n, text in enumerate(lines, 1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
                out.append(Checkpoint(n, int(row["seq"]), str(row["hash"]), str(row["at"]), row.get("db"),
                                      row.get("key_id"), row.get("mac")))
            except (ValueError, KeyError, TypeError):
                raise InvalidInput(f"line {n} of {path} is not a checkpoint: the file was damaged") from None
    return out


def signature_ok(checkpoint: Checkpoint, keys: dict[str, AuditKey]) -> bool | None:
    """True/False when signed with a key we have; None when unsigned or signed with a key we lack."""
    key = keys.get(checkpoint.key_id or "")
    if key is None or not checkpoint.mac:
        return None
    body = _body(checkpoint.seq, checkpoint.hash, checkpoint.at, checkpoint.db)
    return hmac.compare_digest(key.sign(body), checkpoint.mac)


def _last_seq(path: Path, db: str | None) -> int | None:
    """The newest seq checkpointed for this database, from the file's last few kilobytes."""
    if not path.exists():
        return None
    with open(path, "rb") as f:
        f.seek(max(0, f.seek(0, os.SEEK_END) - 16384))
        tail = f.read().splitlines()
    for raw in reversed(tail):
        try:
            row = json.loads(raw)
            if row.get("db") == db:
                return int(row["seq"])
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # a partial first line of the window, or damage that verify reports
    return None


def write_checkpoint(session: Session, anchor: Anchor | None = None, now: datetime | None = None) -> dict | None:
    """Append the head (seq, hash) to the checkpoint file and the logs; nothing when the log is empty or the
    head is the one checkpointed last. Returns what was written."""
    anchor = anchor or anchor_of(session)
    if anchor.checkpoint_path is None:
        return None
    head = session.execute(select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc())
                           .limit(1)).first()
    path = Path(anchor.checkpoint_path)
    if head is None or _last_seq(path, anchor.database) == head.seq:
        return None
    at = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    body = _body(head.seq, head.hash, at, anchor.database)
    row = {"seq": head.seq, "hash": head.hash, "at": at, "db": anchor.database,
           "key_id": anchor.key.id if anchor.key else None, "mac": anchor.key.sign(body) if anchor.key else None}
    line = json.dumps(row, sort_keys=True, separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    # One write in append mode: lines from several nodes sharing the file never interleave mid-line.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    log.info("audit checkpoint %s", line)
    return row


def checkpoint_job(factory, anchor: Anchor) -> dict | None:
    """The scheduler's periodic checkpoint (its own read-only unit of work)."""
    with factory() as session:
        return write_checkpoint(session, anchor)
