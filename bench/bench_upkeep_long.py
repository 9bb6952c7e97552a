"""The upkeep on long cases: one pass after one more message on each of 50 cases that already hold N
messages (recomputing reads all of them, folding reads the new one). SQLite, CPU time of the pass.

    python -m bench.bench_upkeep_long N [database path]
"""

import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import seeded_pipeline
from onevoice.db import unit_of_work
from onevoice.pipeline.intake import accept_batch
from onevoice.reports.repository import context
from onevoice.reports.upkeep import upkeep_job

N = int(sys.argv[1])
CASES = 50
db = Path(sys.argv[2] if len(sys.argv) > 2 else Path(__file__).parent / ".data" / "upkeep-long.db")
db.parent.mkdir(parents=True, exist_ok=True)
engine, factory, processor = seeded_pipeline(db)
with factory() as s:
    context(s)  # the playbook's calendars, parsed once per process
t0 = datetime.now(UTC) - timedelta(hours=2)
seq = [0]


def item(a: int) -> dict:
    """Customer a's next message: the same complaint again, so it joins their open case."""
    seq[0] += 1
    return {"channel": "sandbox-x", "external_id": f"lc-{seq[0]}", "kind": "mention",
            "author": {"external_id": f"long-{a}", "handle": f"@long{a}", "name": f"Long {a}", "followers": 10},
            "text": "My Aero Buds order never arrived, still waiting",
            "created_at": (t0 + timedelta(seconds=seq[0])).isoformat(), "in_reply_to": None,
            "url": f"https://sandbox.invalid/{seq[0]}", "raw": {}}


for _ in range(N):  # N messages on each case
    with unit_of_work(factory) as s:
        ids = accept_batch(s, [item(a) for a in range(CASES)]).new_ids
    processor.process(ids)
upkeep_job(factory)
cpu, processing = [], []
for _ in range(5):
    with unit_of_work(factory) as s:
        ids = accept_batch(s, [item(a) for a in range(CASES)]).new_ids
    c = time.process_time()
    processor.process(ids)
    processing.append(time.process_time() - c)
    c = time.process_time()
    r = upkeep_job(factory)
    cpu.append(time.process_time() - c)
cx = sqlite3.connect(db)
longest = cx.execute("select max(n) from (select count(*) n from messages group by case_id)").fetchone()[0]
print(f"N={N}: {cx.execute('select count(*) from cases').fetchone()[0]} cases, up to {longest} messages each; "
      f"a pass after {CASES} messages: {statistics.median(cpu) * 1000:.1f} ms CPU (median of 5; processing them "
      f"{statistics.median(processing) * 1000:.1f} ms), folded {getattr(r, 'folded', '-')}")
