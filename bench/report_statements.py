"""Every statement a report sends to the database driver (its SQL and its parameters' values, in order),
to compare two versions of the code: a change to how the statements are built must send the same ones.

The report's parts are read one after the other in the session (no fan-out, so the order is fixed), at a
fixed `now`, for the coordinator and Support's manager over 28 and 7 days, and 28 or 90 days filtered
(teams, a channel, a product, a tag, two at once); a scope the person may not read is written as refused.
PostgreSQL's named parameters are written as %s with their values in the order they appear.

    python -m bench.report_statements URL OUT.json     # with each version; then compare the two files
"""

from __future__ import annotations

import json
import re
import sys
import threading
from datetime import UTC, datetime, timedelta
from datetime import time as dtime

from sqlalchemy import event, func, select

from onevoice.auth.models import User
from onevoice.auth.users import principal_for
from onevoice.cases.models import Case
from onevoice.channels.models import Channel
from onevoice.db import make_engine, make_sessionmaker
from onevoice.errors import Forbidden
from onevoice.reports import service, snapshot


def main() -> None:
    url, out = sys.argv[1], sys.argv[2]
    # Taken: every report reads its parts in order in its session (snapshot.concurrently's fallback).
    snapshot._fanning = threading.BoundedSemaphore(1)
    snapshot._fanning.acquire()
    engine = make_engine(url)
    read = make_sessionmaker(engine, readonly=True)
    with read() as s:
        last = s.scalar(select(func.max(Case.created_at))).date()
        people = [principal_for(s, s.scalar(select(User).where(User.email == e)))
                  for e in ("lead@demo.onevoice.test", "manager@demo.onevoice.test")]
        channel = s.scalar(select(Channel.key).order_by(Channel.id).limit(1))
    now = datetime.combine(last, dtime(20), tzinfo=UTC)
    service.utcnow = lambda: now
    log: list = []

    @event.listens_for(engine, "before_cursor_execute")
    def _trace(conn, cursor, statement, parameters, context, executemany):
        if isinstance(parameters, dict):
            names = re.findall(r"%\((\w+)\)s", statement)
            log.append([re.sub(r"%\((\w+)\)s", "%s", statement), [repr(parameters[n]) for n in names]])
        else:
            log.append([statement, [repr(p) for p in (parameters or ())]])

    for who in people:
        for days, kw in ((28, {}), (7, {}), (28, {"team": "support"}), (28, {"product": "x"}),
                         (28, {"channel": channel}), (90, {"team": "marketing"}), (28, {"tag": "spring"}),
                         (28, {"team": "support", "channel": channel, "product": "x"})):
            log.append(["--- report", [who.label, days, repr(kw)]])
            with read() as s:
                try:
                    scope = service.make_scope(s, who, start=last - timedelta(days=days - 1), end=last, **kw)
                except Forbidden as exc:
                    log.append(["refused", [str(exc)]])
                    continue
                service.report(s, who, scope)
    with open(out, "w") as f:
        json.dump(log, f, indent=0)
    print(len(log), "statements and markers in", out)
    engine.dispose()


if __name__ == "__main__":
    main()
