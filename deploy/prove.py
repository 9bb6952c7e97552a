"""The production topology's failure drill, on this machine: `python -m deploy.prove` (or `make prove`).

Brings up PostgreSQL and Redis of its own, two `onevoice serve` nodes behind Debian's nginx (the site file
in deploy/nginx/, over TLS), and two scale-out workers; sends signed webhook deliveries and API messages
through the proxy while it SIGKILLs a web node and a worker, crashes and restarts Redis (no persistence: the
stream and everything pending in it are lost) and crashes and restarts PostgreSQL; then checks:

* every delivery was finally acknowledged (2xx), every acknowledged message is stored, and every stored
  message was processed exactly once (one `message.processed` event, one routing decision, its own case);
* the only answers that were not 2xx are 503s while PostgreSQL was down (never a 502, a 500 or a timeout);
* live updates still reach a client of the API's stream and a signed-in page's stream (both through the
  proxy, reconnecting as the pages do) after all of it.

Prints a JSON report and exits 1 if any check failed. Run time: about two minutes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from deploy.topology import LEAD, Stack, wait_for
from deploy.traffic import Delivery, LiveListener, Sender, make_deliveries

# Seconds after the traffic starts: (what, when). Spread out so that each failure's effect can be told apart.
SCHEDULE = (("kill the web node holding the live streams (SIGKILL)", 5), ("kill worker worker1 (SIGKILL)", 10),
            ("restart that web node", 14), ("crash and restart Redis", 18), ("restart worker1", 22),
            ("crash PostgreSQL (immediate shutdown)", 27), ("start PostgreSQL again", 32))
PG_GRACE_SECONDS = 1.0  # a request that started this soon after PostgreSQL accepted again may still see it down


def _chaos(stack: Stack, t0: float, log: list, windows: dict, stream: LiveListener) -> None:
    # The node the API's live stream is on (the page's may be on the other: then both nodes matter).
    node = next((n for n in stack.web_nodes if stream.upstream.endswith(f":{n.port}")), stack.web_nodes[0])
    actions = {
        "kill the web node holding the live streams (SIGKILL)": node.kill,
        "kill worker worker1 (SIGKILL)": stack.worker_nodes[0].kill,
        # In the background: a node takes seconds to start, and the schedule goes on meanwhile.
        "restart that web node": lambda: threading.Thread(target=node.start, daemon=True).start(),
        "crash and restart Redis": lambda: (stack.redis.kill(), stack.redis.start()),
        "restart worker1": stack.worker_nodes[0].start,
        "crash PostgreSQL (immediate shutdown)": lambda: stack.postgres.stop("immediate"),
        "start PostgreSQL again": stack.postgres.start,
    }
    for what, at in SCHEDULE:
        time.sleep(max(0.0, t0 + at - time.time()))
        began = time.time()
        if what.startswith("crash PostgreSQL"):
            windows["postgres_down"] = began
        actions[what]()
        if what == "start PostgreSQL again":
            windows["postgres_up"] = time.time()  # start() returns once it accepts connections
        log.append({"at": round(began - t0, 2), "what": what.replace("that web node", node.name)
                    .replace("the web node holding", f"{node.name}, holding"), "took": round(time.time() - began, 2)})


def _database_facts(stack: Stack) -> dict:
    import psycopg

    with psycopg.connect(stack.postgres.url) as conn:
        q = lambda sql: conn.execute(sql).fetchall()  # noqa: E731
        stored = {ext: (mid, status) for mid, ext, status in q(
            "SELECT id, external_id, status FROM messages WHERE direction = 'inbound'")}
        processed_events = Counter(dict(q("SELECT message_id, count(*) FROM events "
                                          "WHERE kind = 'message.processed' GROUP BY message_id")))
        decisions = Counter(dict(q("SELECT message_id, count(*) FROM routing_decisions GROUP BY message_id")))
        cases = q("SELECT count(DISTINCT case_id), count(*) FROM messages WHERE direction = 'inbound'")[0]
        by_worker = dict(q("SELECT actor, count(*) FROM events WHERE kind = 'message.processed' GROUP BY actor"))
    return {"stored": stored, "processed_events": processed_events, "decisions": decisions,
            "distinct_cases": cases[0], "by_worker": by_worker}


def _case_of(stack: Stack, message_id: int) -> int:
    import psycopg

    with psycopg.connect(stack.postgres.url) as conn:
        return conn.execute("SELECT case_id FROM messages WHERE id = %s", (message_id,)).fetchone()[0]


def _all_processed(stack: Stack) -> bool:
    import psycopg

    with psycopg.connect(stack.postgres.url, connect_timeout=3) as conn:
        waiting = conn.execute("SELECT count(*) FROM messages WHERE direction = 'inbound' "
                               "AND status <> 'processed'").fetchone()[0]
    return waiting == 0


def verdict(deliveries: list[Delivery], sender: Sender, facts: dict, windows: dict) -> dict:
    """Pure: what the run shows, and the list of broken promises (empty when the topology held)."""
    problems: list[str] = []
    sent_ids = {e for d in deliveries for e in d.external_ids}
    unsettled = [d.external_ids[0] for d in deliveries
                 if d.external_ids[0] not in sender.settled or (sender.settled[d.external_ids[0]].status or 500) >= 300]
    if unsettled:
        problems.append(f"{len(unsettled)} deliveries never acknowledged, e.g. {unsettled[:5]}")
    stored = facts["stored"]
    # Never a 2xx for a message that is not stored (with the id and external id the answer gave).
    for a in sender.attempts:
        if a.status is not None and a.status < 300:
            for item in a.accepted:
                if stored.get(item["external_id"], (None,))[0] != item["id"]:
                    problems.append(f"acknowledged {item['external_id']} as id {item['id']} but it is not stored")
    missing = sent_ids - set(stored)
    if missing:
        problems.append(f"{len(missing)} sent messages not stored, e.g. {sorted(missing)[:5]}")
    not_processed = [e for e, (_mid, status) in stored.items() if status != "processed"]
    if not_processed:
        problems.append(f"{len(not_processed)} messages not processed, e.g. {not_processed[:5]}")
    twice = [mid for mid, n in facts["processed_events"].items() if n != 1]
    twice += [mid for mid, n in facts["decisions"].items() if n != 1]
    unrecorded = [mid for mid, _s in stored.values() if facts["processed_events"].get(mid, 0) == 0]
    if twice or unrecorded:
        problems.append(f"not exactly once: {len(twice)} processed twice, {len(unrecorded)} never recorded")
    if facts["distinct_cases"] != len(stored):
        problems.append(f"{len(stored)} messages from different customers landed in {facts['distinct_cases']} cases")
    down, up = windows.get("postgres_down"), windows.get("postgres_up")
    failures = [a for a in sender.attempts if a.status is None or a.status >= 500]
    outside = [a for a in failures if not (a.status == 503 and down is not None and up is not None
                                           and a.ended >= down and a.started <= up + PG_GRACE_SECONDS)]
    if outside:
        problems.append(f"{len(outside)} failed answers outside PostgreSQL's outage or not 503: " +
                        "; ".join(f"{a.status} {a.error[:80]} at +{a.started - sender_t0(sender):.1f}s"
                                  for a in outside[:5]))
    statuses = Counter(str(a.status) for a in sender.attempts)
    return {"deliveries": len(deliveries), "messages": len(sent_ids), "attempts": len(sender.attempts),
            "answers": dict(statuses), "answers_503_while_postgres_down": len(failures) - len(outside),
            "stored": len(stored), "processed_by": facts["by_worker"], "problems": problems}


def sender_t0(sender: Sender) -> float:
    return min((a.started for a in sender.attempts), default=0.0)


def nginx_retries(stack: Stack) -> int:
    """Requests nginx passed to the second node because the first refused or dropped them."""
    log = stack.nginx.root / "access.log"
    return sum(1 for line in log.read_text().splitlines() if "," in line.split(" ")[4]) if log.exists() else 0


def run(root: Path, deliveries: int = 1500, rate: float = 30.0) -> dict:
    settings = {"reclaim_idle_ms": 3000, "requeue_after_seconds": 3}
    with Stack(root, webs=2, workers=2, settings=settings) as stack:
        listener = LiveListener(stack.nginx.url, token=stack.token).start()
        page = LiveListener(stack.nginx.url, login=(LEAD, stack.webhook_secret)).start()
        warm = make_deliveries(4, tag="warm")
        warm_sender = Sender(stack.nginx.url, stack.token, stack.webhook_secret, concurrency=1)
        warm_sender.run(warm)
        wait_for(lambda: len(listener.ids) >= 4 and len(page.ids) >= 4, 60, "live events for the first messages")
        load = make_deliveries(deliveries, tag="load")
        sender = Sender(stack.nginx.url, stack.token, stack.webhook_secret, concurrency=4, rate=rate,
                        deadline=240)
        chaos_log: list = []
        windows: dict = {}
        t0 = time.time()
        chaos = threading.Thread(target=_chaos, args=(stack, t0, chaos_log, windows, listener), daemon=True)
        chaos.start()
        sender.run(load)
        chaos.join()
        sent_for = round(time.time() - t0, 1)
        wait_for(lambda: _all_processed(stack), 180, "every stored message to be processed", interval=0.5)
        drained_after = round(time.time() - t0, 1)
        # After everything: does a connected page still hear about new messages?
        marker = make_deliveries(1, tag="after")
        after = Sender(stack.nginx.url, stack.token, stack.webhook_secret, concurrency=1)
        after.run(marker)
        marker_id = after.settled[marker[0].external_ids[0]].accepted[0]["id"]
        live_after = listener.wait_for(marker_id, 30)
        marker_case = _case_of(stack, marker_id)
        page_after = page.wait_for(marker_case, 30)
        listener.stop()
        page.stop()
        facts = _database_facts(stack)
        report = verdict(warm + load + marker, _merge(warm_sender, sender, after), facts, windows)
        if not live_after:
            report["problems"].append("the API's live stream did not tell about a message sent after the drill")
        if not page_after:
            report["problems"].append("the signed-in page's live stream did not tell about the case of a message "
                                      "sent after the drill")
        report.update({
            "chaos": chaos_log, "traffic_seconds": sent_for, "all_processed_after_seconds": drained_after,
            "postgres_down_seconds": round(windows["postgres_up"] - windows["postgres_down"], 2),
            "live": {"api_events_heard": len(listener.ids), "api_connections": len(listener.connections),
                     "page_cases_heard": len(page.ids), "page_connections": len(page.connections),
                     "connection_answers": dict(Counter(str(s) for _t, s in listener.connections + page.connections)),
                     "heard_the_message_sent_after_the_drill": live_after and page_after},
            "nginx_passed_to_the_other_node": nginx_retries(stack),
        })
        return report


def _merge(*senders: Sender) -> Sender:
    merged = Sender("", "", "")
    for s in senders:
        merged.attempts += s.attempts
        merged.settled.update(s.settled)
    return merged


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--deliveries", type=int, default=1500, help="deliveries during the drill (half webhooks)")
    p.add_argument("--rate", type=float, default=30.0, help="deliveries per second")
    p.add_argument("--keep", action="store_true", help="keep the working directory (logs) afterwards")
    p.add_argument("--report", type=Path, help="also write the JSON report here")
    args = p.parse_args(argv)
    # SIGTERM (a CI time-out, systemd, kill) unwinds like Ctrl-C, so the stack's processes are stopped: they
    # run in sessions of their own and would outlive this one.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    root = Path(tempfile.mkdtemp(prefix="onevoice-prove-"))
    try:
        report = run(root / "stack", args.deliveries, args.rate)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"logs kept in {root}", file=sys.stderr)
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if args.report:
        args.report.write_text(text)
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
