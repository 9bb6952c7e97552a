"""The messages the pipeline processed past the upkeep's watermark, as a pass reads them (reports/upkeep.py):
one join of the `message.processed` events with their messages, the largest read of a catch-up pass (~70,000
rows a minute of saturated traffic), hence its own statement and loop."""

from __future__ import annotations

import json
from functools import lru_cache

from sqlalchemy import JSON, String, bindparam, func, select, type_coerce
from sqlalchemy.orm import Session

from onevoice.db import read_utc_time, select_rows
from onevoice.events.models import Event
from onevoice.messages.models import Message
from onevoice.reports.facts import MessageRow, recommended

TRIAGE_FIELDS = ("sentiment", "products", "intent", "complaint")


def processed_messages(session: Session, after_id: int, top: int) -> tuple[dict[int, list[MessageRow]], set]:
    """The messages the pipeline processed in the events (after_id, top]: per `message.processed` event with a
    case, read with their events in one join, (every case such an event named -> its messages as the facts read
    them; their authors). A case whose message's row is gone has none of it. A message now in another case than
    its processing event said comes as direction 'moved': the fold declines (it is an outbound one, or was moved).

    One loop over the rows, unpacked (a catch-up pass reads ~70,000: a call per row to build each message and
    a generator between it and the upkeep were a fifth of reading them)."""
    sqlite = session.bind.dialect.name == "sqlite"
    query = _statement("sqlite" if sqlite else "postgresql")
    cases: dict[int, list[MessageRow]] = {}
    authors: set = set()
    seen: dict = {}  # the triage fields by their text (a pass sees a few dozen different ones)
    for case_id, message_case, contact_id, direction, kind, created_at, status, triage, language, body, deleted_at, \
            mid in select_rows(session, query, {"after": after_id, "top": top})[1]:
        rows = cases.get(case_id)
        if rows is None:
            rows = cases[case_id] = []
        if mid is None:
            continue
        authors.add(contact_id)
        created_at = read_utc_time(created_at)
        if message_case != case_id:
            rows.append(MessageRow("moved", kind, created_at))
            continue
        fields = seen.get(triage) if sqlite else None
        if fields is None:
            fields = _triage(triage)
            if sqlite:
                seen[triage] = fields
        sentiment, products, intent, complaint = fields
        rows.append(MessageRow(direction, kind, created_at, status, sentiment, language, products, intent, complaint,
                               recommended(direction, sentiment, intent, body), deleted_at is not None, mid))
    return cases, authors


def _triage(value) -> tuple:
    """(sentiment, products, intent, complaint) from `_statement`'s array: on SQLite its text, on PostgreSQL
    decoded by the driver. As `repository._message` reads them: products a list (else none; the list is shared by the
    messages of the same triage text, read only), complaint a bool. A sentiment or intent that is not text (the
    triage schema makes them text) is made text; only the words of `advocacy.polarity` count, which no text of a
    number or a boolean is."""
    values = json.loads(value) if value.__class__ is str else value
    sentiment, products, intent, complaint = values if values.__class__ is list and len(values) == 4 else \
        (None, None, None, None)
    return (sentiment if sentiment is None or sentiment.__class__ is str else str(sentiment),
            products if products.__class__ is list else [],
            intent if intent is None or intent.__class__ is str else str(intent), bool(complaint))


@lru_cache(maxsize=2)
def _statement(dialect: str):
    """Each `message.processed` event with a case, with its message's case, author, the columns `processed_messages`
    reads and the message's id last (None when its row is gone). The four triage fields come as one JSON array
    (`_triage`), extracted in one pass over the document: on SQLite a json_extract of four paths parses the
    triage document once instead of four times (the document, ~1 KB with its explanations, is parsed whole
    each time: the four extracts were half of this query's time)."""
    t, created_at, deleted_at = Message.triage, Message.created_at, Message.deleted_at
    # The pipeline writes the same four fields, as the same array, in the event's data (pipeline/processor.py,
    # "triage"): that document is a fifth of the message's triage, so parsing it is cheaper. The message's
    # triage only where the event has none: events written before, or whose data an erasure or retention
    # emptied (they keep the four fields in the message's triage). COALESCE evaluates its second argument
    # only then, on both databases.
    if dialect == "sqlite":
        triage = type_coerce(func.coalesce(func.json_extract(Event.data, "$.triage"),
                                           func.json_extract(t, *(f'$."{k}"' for k in TRIAGE_FIELDS))), String)
        # As text: `processed_messages` parses the time in its loop, and reads only whether deleted_at is set
        # (each column converted by `select_rows` cost a list per row).
        created_at, deleted_at = type_coerce(created_at, String), type_coerce(deleted_at, String)
    else:
        triage = func.coalesce(Event.data["triage"], func.json_build_array(*(t[k] for k in TRIAGE_FIELDS)),
                               type_=JSON)
    return select(Event.case_id, Message.case_id, Message.contact_id, Message.direction, Message.kind, created_at,
                  Message.status, triage, Message.language, Message.text, deleted_at, Message.id) \
        .select_from(Event).outerjoin(Message, Message.id == Event.message_id) \
        .where(Event.id > bindparam("after"), Event.id <= bindparam("top"), Event.kind == "message.processed",
               Event.case_id.is_not(None))
