"""Intake plus full processing through the HTTP API, embedded SQLite (issue 2's targets).

1. Throughput: N messages (default 200,000) in batches of 1,000 over HTTP; the rate is N divided by the
   time from the first request until the last message is processed (visible in its case).
2. Latency: a steady 200 messages/s for D seconds; each message's time from its accept (the 202) to
   the live event saying it is in its case (server-sent events), p50/p95/p99.

    python -m bench.bench_intake [--messages 200000] [--latency-seconds 30]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bench.common import LiveArrivals, Server, machine, percentile, seeded_database
from onevoice.connectors.sandbox.traffic import SandboxTraffic

CHANNELS = ("sandbox-mastodon", "sandbox-x", "sandbox-mail", "sandbox-reviews")


def batches(n: int, size: int, seed: int = 1):
    traffic = SandboxTraffic(seed)
    sent = 0
    while sent < n:
        k = min(size, n - sent)
        yield [traffic.next_message(CHANNELS[(sent + i) % 4]) for i in range(k)]
        sent += k


def queue_depth(client: httpx.Client) -> int:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("onevoice_queue_depth "):
            return int(float(line.split()[1]))
    return -1


def throughput(server: Server, headers: dict, n: int) -> dict:
    payloads = [json.dumps({"messages": b}).encode() for b in batches(n, 1000)]
    with httpx.Client(base_url=server.url, headers={**headers, "Content-Type": "application/json"},
                      timeout=120) as client:
        started = time.perf_counter()

        def send(body: bytes) -> int:
            r = client.post("/api/v1/messages", content=body)
            r.raise_for_status()
            return len(r.json()["accepted"])

        with ThreadPoolExecutor(2) as pool:
            accepted = sum(pool.map(send, payloads))
        accept_seconds = time.perf_counter() - started
        while queue_depth(client) > 0:
            time.sleep(0.05)
        total = time.perf_counter() - started
    return {"messages": n, "accepted": accepted, "accept_seconds": round(accept_seconds, 2),
            "total_seconds": round(total, 2), "messages_per_second": round(n / total)}


def latency(server: Server, headers: dict, seconds: float, rate: int = 200) -> dict:
    live = LiveArrivals(server.url, headers).start()
    accepted_at: dict[int, float] = {}
    per_tick = 10  # 10 messages every 50 ms = 200/s
    gen = batches(int(seconds * rate), per_tick, seed=99)
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        start = time.perf_counter()
        for tick, batch in enumerate(gen):
            due = start + tick * per_tick / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            r = client.post("/api/v1/messages", json={"messages": batch})
            now = time.perf_counter()
            for a in r.json()["accepted"]:
                accepted_at[a["id"]] = now
        time.sleep(2)
    live.stop()
    arrivals = live.arrivals
    lat = [arrivals[m] - t for m, t in accepted_at.items() if m in arrivals]
    return {"rate_per_second": rate, "seconds": seconds, "messages": len(accepted_at), "seen_live": len(lat),
            "p50_ms": round(percentile(lat, 50) * 1000, 1), "p95_ms": round(percentile(lat, 95) * 1000, 1),
            "p99_ms": round(percentile(lat, 99) * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--latency-seconds", type=float, default=30)
    args = parser.parse_args()
    out = {"machine": machine()}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        token = seeded_database(url)
        headers = {"Authorization": f"Bearer {token}"}
        with Server(url) as server:
            out["latency_at_200_per_s"] = latency(server, headers, args.latency_seconds)
            out["throughput"] = throughput(server, headers, args.messages)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
