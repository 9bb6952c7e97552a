"""CPU time of what the pages read (issue 12: models instead of hand-built dicts must not make pages slower).

In-process on SQLite: the demo organization, 1,000 sandbox messages taken in and processed (as
bench_answers does), then `inbox.rows.case_rows` for the 50 newest cases and `desk.page.case_page` for the
newest, each called `--runs` times in a fresh read session; prints the median CPU milliseconds of each.

    python -m bench.bench_page_reads [--runs 200]

Run it before and after a change, alternating (farm-bench --vs), and read the ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from sqlalchemy import select

from bench.common import demo_app, machine, sandbox_batches
from onevoice.auth.models import User
from onevoice.auth.users import principal_for
from onevoice.cases.models import Case
from onevoice.db import make_engine, make_sessionmaker
from onevoice.desk.page import case_page
from onevoice.inbox.rows import case_rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with demo_app("bench-page-reads-", sandbox_batches(1)) as (_client, url):
        pass  # the app only takes the messages in; the reads below run on its database alone
    engine = make_engine(url)
    factory = make_sessionmaker(engine, readonly=True)
    with factory() as s:
        ids = list(s.scalars(select(Case.id).order_by(Case.id.desc()).limit(50)))
        lead = principal_for(s, s.scalar(select(User).where(User.email == "lead@demo.onevoice.test")))
    out: dict = {"machine": machine(), "runs": args.runs}
    for name, read in {"case_rows(50)": lambda s: case_rows(s, ids),
                       "case_page": lambda s: case_page(s, lead, ids[0])}.items():
        cpu = []
        for i in range(args.runs + 1):
            with factory() as s:
                c = time.process_time()
                read(s)
                if i:  # the first call warms caches
                    cpu.append((time.process_time() - c) * 1000)
        out[name] = {"cpu_p50_ms": round(statistics.median(cpu), 3)}
    engine.dispose()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
