"""Parts of one report read at the same time, on separate PostgreSQL connections that share one snapshot.

PostgreSQL runs each connection in a server process of its own, so the advocacy statement (half of the
coordinator's report at full size) can run beside the other figures. The first connection opens a REPEATABLE
READ transaction and exports its snapshot (pg_export_snapshot); the others import it (SET TRANSACTION
SNAPSHOT) before their first statement, so every part reads the same committed state. (The report read in
one READ COMMITTED session took a new snapshot for every statement.)
Only for a read-only session: another connection does not see a transaction's uncommitted writes.
Elsewhere the parts run one after the other in the session. SQLite is left so: two readers could be made to
share a snapshot (both beginning while a third connection holds the write lock, so nothing commits between
them), but at full size on the shared 2-core machine it gained nothing (the parts compete for the same busy
cores; bench/README.md, branch `advread`), and the report would have waited for any writer's transaction.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import ExitStack
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

# Threads for the parts beyond the first (which runs in the caller's thread); a few reports at once.
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="report-part")
# Reports reading their parts at once, at most: each holds a connection per part besides its session's, so many
# at a time could take the whole pool, every one of them waiting for more while holding its own. A report that
# finds the fan-out taken does not wait: it reads its parts one after the other in its session (same answer).
FAN_OUT = 2
_fanning = threading.BoundedSemaphore(FAN_OUT)
_SNAPSHOT_ID = re.compile(r"^[0-9A-Fa-f-]+$")


def shared(session: Session) -> bool:
    """Whether `concurrently` reads the parts at once (else one after the other in `session`)."""
    bind = session.get_bind()
    return bind.dialect.name == "postgresql" and bool(bind.get_execution_options().get("readonly"))


def concurrently(session: Session, parts: list[Callable[[Session], Any]],
                 prepare: Callable[[Session], None] | None = None,
                 then: Callable[[Session, list], Any] | None = None) -> Any:
    """[part(s) for part in parts], each part on its own connection, all reading the same committed state;
    `prepare(s)` first on each (settings for the transaction); with `then`, then(s, results) in the first
    part's session once all have ended (still that state), and its result instead. One after the other in
    `session` where that cannot be made sure of (see the module's docstring)."""
    if len(parts) < 2 or not shared(session) or not _fanning.acquire(blocking=False):
        if prepare:
            prepare(session)
        results = [part(session) for part in parts]
        return then(session, results) if then else results
    try:
        return _at_once(session.get_bind(), parts, prepare, then)
    finally:
        _fanning.release()


def _at_once(bind, parts, prepare, then) -> Any:
    with ExitStack() as stack:
        connections = [stack.enter_context(bind.connect()) for _ in parts]
        _share_snapshot(connections)
        sessions = [stack.enter_context(Session(bind=c)) for c in connections]

        def run(i: int):
            if prepare:
                prepare(sessions[i])
            return parts[i](sessions[i])

        later = [_POOL.submit(run, i) for i in range(1, len(parts))]
        try:
            first = run(0)
        finally:  # the connections are closed only once every part has let go of its own
            wait(later)
        results = [first, *(f.result() for f in later)]
        return then(sessions[0], results) if then else results


def _share_snapshot(connections: list[Connection]) -> None:
    for c in connections:
        c.execution_options(isolation_level="REPEATABLE READ")
    snapshot = connections[0].exec_driver_sql("SELECT pg_export_snapshot()").scalar()
    if not _SNAPSHOT_ID.match(snapshot or ""):  # it is spliced into the statement below
        raise RuntimeError(f"unexpected snapshot id {snapshot!r}")
    for c in connections[1:]:
        c.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")

