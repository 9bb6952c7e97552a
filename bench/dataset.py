"""A large synthetic organization, written straight into the tables (the pipeline would take an hour).

Shapes follow what the pipeline writes: cases with team queue entries, conversations, messages with
triage, contacts with identities. Statuses are realistic: most cases are resolved; a few thousand are open.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from onevoice.cases.models import Case, CaseTeam, Conversation
from onevoice.channels.models import Channel
from onevoice.contacts.models import Contact, ContactIdentity
from onevoice.messages.models import Message
from onevoice.teams.models import Team

INTENTS = ["complaint", "question", "praise", "sales_lead", "job_inquiry", "suggestion", "spam"]
LEAD = {"complaint": "support", "question": "support", "praise": "marketing", "sales_lead": "sales",
        "job_inquiry": "hr", "suggestion": "product", "spam": None}


def build(engine: Engine, cases: int = 300_000, messages: int = 1_000_000, seed: int = 3, chunk: int = 20_000,
          days: int = 320) -> None:
    rng = random.Random(seed)
    with engine.begin() as conn:
        if conn.execute(select(func.count()).select_from(Case)).scalar() >= cases:
            return
        teams = dict(conn.execute(select(Team.key, Team.id)).all())
        channels = list(conn.execute(select(Channel.id)).scalars())
        # The demo seed may hold rows of its own: the data set's ids start after them.
        base = {m: conn.execute(select(func.coalesce(func.max(m.id), 0))).scalar()
                for m in (Contact, ContactIdentity, Case, Conversation, Message)}
    start = datetime(2026, 1, 1, tzinfo=UTC)
    span = timedelta(days=days).total_seconds()
    contacts = cases // 2
    cb, ib, kb, vb, mb = (base[m] for m in (Contact, ContactIdentity, Case, Conversation, Message))
    _bulk(engine, Contact, ({"id": cb + i + 1, "name": f"Customer {i}", "handle": f"@c{i}",
                             "followers": rng.randrange(5000),
                             "message_count": 0, "vip": False, "first_seen_at": start, "last_seen_at": start}
                            for i in range(contacts)), chunk)
    _bulk(engine, ContactIdentity, ({"id": ib + i + 1, "contact_id": cb + i + 1,
                                     "channel_id": channels[i % len(channels)],
                                     "external_id": f"author-{i}", "handle": f"@c{i}", "followers": 0,
                                     "created_at": start} for i in range(contacts)), chunk)
    case_rows, conv_rows, team_rows = [], [], []
    per_case = messages / cases
    for i in range(cases):
        at = start + timedelta(seconds=span * i / cases)
        intent = rng.choice(INTENTS)
        lead = LEAD[intent]
        settled = rng.choice(["resolved", "resolved", "resolved", "pending_customer"])
        status = "closed_spam" if lead is None else ("open" if rng.random() < 0.03 else settled)
        priority = rng.choice(["low", "normal", "normal", "normal", "high", "urgent"])
        due = at + timedelta(hours=4)
        # Answered and resolved at realistic spreads, so the medians and p90 have values to find.
        answered = at + timedelta(seconds=rng.randrange(60, 12 * 3600)) if rng.random() < 0.9 else None
        resolved_at = at + timedelta(seconds=rng.randrange(1800, 5 * 86400)) if settled == "resolved" else None
        case_rows.append({"id": kb + i + 1, "status": status, "priority": priority, "subject": f"case {i} {intent}",
                          "topic": lead or "spam", "intent": intent, "sentiment": "negative", "tags": [],
                          "lead_team_id": teams.get(lead) if lead else None, "contact_id": cb + i % contacts + 1,
                          "channel_id": channels[i % len(channels)], "requires_approval": False,
                          "sla_policy": "default", "sla_due_at": due, "message_count": int(per_case),
                          "last_message_at": at, "created_at": at, "updated_at": at,
                          "first_response_at": answered, "resolved_at": resolved_at if status == "resolved" else None})
        conv_rows.append({"id": vb + i + 1, "channel_id": channels[i % len(channels)],
                          "root_external_id": f"root-{i}", "contact_id": cb + i % contacts + 1, "case_id": kb + i + 1,
                          "created_at": at})
        entry = {"case_id": kb + i + 1, "status": status, "priority": priority, "last_message_at": at,
                 "sla_due_at": due, "added_at": at}
        if lead:
            team_rows.append({**entry, "team_id": teams[lead], "role": "lead"})
        if intent == "complaint" and rng.random() < 0.3:
            team_rows.append({**entry, "team_id": teams["product"], "role": "collaborator"})
        if rng.random() < 0.05 and lead != "pr":
            team_rows.append({**entry, "team_id": teams["pr"], "role": "collaborator"})
    _bulk(engine, Case, case_rows, chunk)
    _bulk(engine, Conversation, conv_rows, chunk)
    _bulk(engine, CaseTeam, team_rows, chunk)
    # Mostly complaints, some praise: customers end up on both sides of the advocacy rule (every message
    # negative made every customer a detractor and left the advocates' lists empty).
    moods = [{"sentiment": s, "intent": i, "urgency": "normal", "language": "en"}
             for s, i in (("negative", "complaint"), ("negative", "complaint"), ("neutral", "question"),
                          ("positive", "praise"))]

    def message_rows():
        for j in range(messages):
            case = j % cases
            at = start + timedelta(seconds=span * case / cases + j // cases * 600)
            yield {"id": mb + j + 1, "channel_id": channels[case % len(channels)], "external_id": f"msg-{j}",
                   "direction": "inbound", "kind": "mention", "text": f"message {j} about case {case}: still broken",
                   "author": {"external_id": f"author-{case % contacts}"}, "in_reply_to": None, "url": None,
                   "raw": {"id": j}, "created_at": at, "received_at": at, "status": "processed", "attempts": 0,
                   "processed_at": at, "language": "en", "triage": moods[(case * 7 + j // cases) % 4],
                   "contact_id": cb + case % contacts + 1,
                   "conversation_id": vb + case + 1, "case_id": kb + case + 1}

    _bulk(engine, Message, message_rows(), chunk)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("contacts", "contact_identities", "cases", "conversations", "messages"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))")
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def _bulk(engine: Engine, model, rows, chunk: int) -> None:
    """Insert rows at the driver's speed: COPY on PostgreSQL, executemany of tuples on SQLite. Each value goes
    through its column type's own bind processing and every missing column gets its model default, so the
    rows stored are the ones an ORM insert would store (the Core insert of dicts took most of an hour at
    1,000,000 messages)."""
    table = model.__table__
    dialect = engine.dialect
    cols: list | None = None
    procs: list = []
    defaults: dict = {}
    batch: list[dict] = []

    def flush() -> None:
        nonlocal cols, procs
        if cols is None:
            given = set(batch[0])
            for c in table.columns:
                if c.name not in given and c.default is not None and not c.default.is_sequence:
                    defaults[c.name] = c.default.arg if c.default.is_scalar else c.default.arg(None)
            cols = [c.name for c in table.columns if c.name in given or c.name in defaults]
            procs = [table.c[c].type._cached_bind_processor(dialect) for c in cols]
        tuples = [tuple(p(v) if p else v for p, v in zip(procs, (r.get(c, defaults.get(c)) for c in cols),
                                                              strict=True)) for r in batch]
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            names = ", ".join(cols)
            if dialect.name == "postgresql":
                with cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                    for t in tuples:
                        copy.write_row(t)
            else:
                cur.execute("BEGIN")
                cur.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(cols))})",
                                tuples)
            raw.commit()
        finally:
            raw.close()

    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            flush()
            batch = []
    if batch:
        flush()
