"""How long erasing one person takes in a large database, which on SQLite is how long intake waits for the
write lock (the sweep reads every text column of every table inside the erasure's transaction).

    python -m bench.bench_erasure [--messages 200000] [--cases 60000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from bench.common import seeded_database
from bench.dataset import build
from onevoice.auth.principal import Principal
from onevoice.db import make_engine, make_sessionmaker, unit_of_work
from onevoice.messages.models import Message
from onevoice.privacy import erasure, sweep

ADMIN = Principal(user_id=None, email="bench", name="bench", role="admin")


def measure(url: str, messages: int, cases: int) -> dict:
    seeded_database(url)
    engine = make_engine(url)
    build(engine, cases=cases, messages=messages)
    factory = make_sessionmaker(engine)
    with factory() as s:
        contact_id = s.scalar(select(Message.contact_id).group_by(Message.contact_id)
                              .order_by(func.count().desc()).limit(1))
        total = s.scalar(select(func.count(Message.id)))
    t0 = time.perf_counter()
    with factory() as s:
        preview = erasure.preview(s, ADMIN, contact_id)
    t1 = time.perf_counter()
    # erasure.erase_contact's two steps, timed apart: the look (read-only) and the write transaction, which on
    # SQLite is how long intake waits.
    with make_sessionmaker(engine, readonly=True)() as s:
        person = erasure.gather(s, contact_id)
        found = sweep.candidates(s, person.needles)
        replies = erasure.replies_to(s, person.external_ids)
    t2 = time.perf_counter()
    with unit_of_work(factory) as s:
        done = erasure.erase(s, ADMIN, contact_id, "BENCH-1", found=found, replies=replies)
    t3 = time.perf_counter()
    engine.dispose()
    return {"database": url.split(":", 1)[0], "messages_in_db": total, "their_messages": preview["messages"],
            "preview_s": round(t1 - t0, 2), "look_s": round(t2 - t1, 2), "write_lock_s": round(t3 - t2, 2),
            "elsewhere": done["elsewhere"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--cases", type=int, default=60_000)
    ap.add_argument("--postgres", help="an empty PostgreSQL database URL to measure there too")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        print(measure(f"sqlite:///{Path(d) / 'bench.db'}", args.messages, args.cases))
    if args.postgres:
        print(measure(args.postgres, args.messages, args.cases))


if __name__ == "__main__":
    main()
