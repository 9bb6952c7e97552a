"""Webhook throughput through the production topology: nginx (TLS) -> 1 or 2 web nodes -> Redis Streams ->
1 or 2 workers -> PostgreSQL, all on this machine (deploy/topology.py, each configuration on a fresh stack).

    python -m bench.bench_topology [--deliveries 3000] [--concurrency 8] [--per-delivery 1]

For each configuration: signed webhook deliveries (generic webhook channel, HMAC-SHA256) sent as fast as
`--concurrency` senders can, through nginx over https; measured client-side: deliveries per second answered
2xx and the latency of each; then the time until every message is processed (end to end, from the first
send). Then, with the workers stopped, a backlog of `--backlog` messages goes in through the batched API and
the workers are started: the rate at which they drain it is processing alone. Writes
bench/results-topology.json. The load average is recorded: on a shared 2-core machine every
process here (nginx, web nodes, workers, PostgreSQL, Redis and the senders) competes for the same cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from deploy.topology import Stack, wait_for
from deploy.traffic import Sender, make_deliveries

from bench.common import machine

CONFIGS = ((1, 1), (2, 1), (1, 2), (2, 2))


def _processed(stack: Stack) -> int:
    import psycopg

    with psycopg.connect(stack.postgres.url) as conn:
        return conn.execute("SELECT count(*) FROM messages WHERE status = 'processed'").fetchone()[0]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def measure(webs: int, workers: int, deliveries: int, concurrency: int, per_delivery: int,
            backlog: int = 0) -> dict:
    root = Path(tempfile.mkdtemp(prefix="onevoice-bench-topology-"))
    with Stack(root, webs=webs, workers=workers) as stack:
        warm = make_deliveries(20, per_delivery, tag="warm")
        warm = [d for d in warm if d.kind == "webhook"]
        Sender(stack.nginx.url, stack.token, stack.webhook_secret, concurrency=2).run(warm)
        wait_for(lambda: _processed(stack) >= len(warm) * per_delivery, 120, "warm-up processed")
        load = [d for d in make_deliveries(2 * deliveries, per_delivery, tag="load") if d.kind == "webhook"]
        load_before = os.getloadavg()[0]
        sender = Sender(stack.nginx.url, stack.token, stack.webhook_secret, concurrency=concurrency,
                        deadline=600)
        started = time.time()
        sender.run(load)
        answered = time.time() - started
        target = (len(warm) + len(load)) * per_delivery
        wait_for(lambda: _processed(stack) >= target, 900, "every message processed", interval=0.2)
        end_to_end = time.time() - started
        ok = [a for a in sender.attempts if a.status is not None and a.status < 300]
        latencies = [(a.ended - a.started) * 1000 for a in ok]
        result = {
            "web_nodes": webs, "workers": workers, "deliveries": len(load), "messages": len(load) * per_delivery,
            "concurrency": concurrency, "per_delivery": per_delivery,
            "deliveries_per_s": round(len(ok) / answered, 1),
            "p50_ms": round(statistics.median(latencies), 1), "p95_ms": round(_pct(latencies, 0.95), 1),
            "p99_ms": round(_pct(latencies, 0.99), 1),
            "non_2xx": len(sender.attempts) - len(ok),
            "processed_msg_per_s_end_to_end": round(len(load) * per_delivery / end_to_end, 1),
            "load_average_before": round(load_before, 2), "load_average_after": round(os.getloadavg()[0], 2),
        }
        result.update(drain(stack, backlog, target))
    return result


def drain(stack: Stack, backlog: int, already: int) -> dict:
    """Processing alone: with the workers stopped, a backlog goes in through the batched API; then the
    workers start and the time until it is all processed is what they can do (intake is out of the way)."""
    import httpx

    if backlog <= 0:
        return {}
    for node in stack.worker_nodes:
        node.stop()
    items = [{**m, "channel": "api"} for d in make_deliveries(backlog, tag="backlog") for m in d.messages]
    with httpx.Client(base_url=stack.nginx.url, verify=False, timeout=120,
                      headers={"Authorization": f"Bearer {stack.token}"}) as client:
        for start in range(0, len(items), 500):
            r = client.post("/api/v1/messages", json={"messages": items[start:start + 500]})
            assert r.status_code == 202, r.text[:300]
    for node in stack.worker_nodes:
        node.start()
    # Timed from the first tenth processed to the last: a worker's start (imports, models) is not its speed.
    tenth = len(items) // 10
    wait_for(lambda: _processed(stack) >= already + tenth, 900, "the first tenth processed", interval=0.05)
    started = time.time()
    wait_for(lambda: _processed(stack) >= already + len(items), 900, "the backlog processed", interval=0.05)
    return {"backlog": len(items),
            "backlog_processed_msg_per_s": round((len(items) - tenth) / (time.time() - started), 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--deliveries", type=int, default=3000)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--per-delivery", type=int, default=1, help="messages (comments) per delivery")
    p.add_argument("--backlog", type=int, default=5000, help="messages for the processing-alone phase (0: skip)")
    p.add_argument("--configs", default=",".join(f"{w}x{k}" for w, k in CONFIGS),
                   help="web nodes x workers, comma-separated (default 1x1,2x1,1x2,2x2)")
    p.add_argument("--out", type=Path, default=Path(__file__).with_name("results-topology.json"))
    args = p.parse_args()
    results = []
    for config in args.configs.split(","):
        webs, workers = (int(x) for x in config.split("x"))
        r = measure(webs, workers, args.deliveries, args.concurrency, args.per_delivery, args.backlog)
        print(json.dumps(r), flush=True)
        results.append(r)
    args.out.write_text(json.dumps({"machine": machine(), "taken": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                    "results": results}, indent=1))


if __name__ == "__main__":
    main()
