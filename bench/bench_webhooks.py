"""Webhook intake at platform speed (issue 14): signed Meta page-comment deliveries into a real server.

A real `onevoice serve` process (embedded SQLite, its own worker) gets a Meta channel; sender processes
(not threads: the client must not share an interpreter lock with itself) post deliveries shaped exactly
like Meta's `page` / `feed` webhooks (tests/connectors/fixtures/meta/page_feed_comment.json), each signed
with X-Hub-Signature-256 over the exact bytes sent, over keep-alive connections. Reported: deliveries/s
while sending, p50/p95/p99 of each request, non-200 answers, and the time until every comment is
processed (status 'processed' in the database, read directly).

    python -m bench.bench_webhooks                    # all parts: 1 and 10 comments, batched API, burst
    python -m bench.bench_webhooks --parts single --deliveries 3000 --senders 4
    python -m bench.bench_webhooks --parts burst      # 50,000 deliveries paced over 60 s
    python -m bench.bench_webhooks --parts latency    # accept-to-visible at 200 deliveries/s (not in the default)

`--profile FILE` samples the server with py-spy (`pip install py-spy`) while the parts run, every thread and
child process, and writes collapsed stacks to FILE (summarise with `python -m bench.profile_summary FILE`).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import multiprocessing as mp
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import LiveArrivals, Server, machine, percentile, seeded_database

PAGE = "104873926541280"
APP_SECRET = "bench-app-secret-0123456789abcdef"
CHANNEL = "fb-bench"


def comment(n: int, now: int) -> dict:
    """One `feed` change for a new comment, as Meta documents it (field 'feed', item 'comment', verb 'add')."""
    post = f"{PAGE}_10293847561{n % 50:02d}"
    return {"field": "feed", "value": {
        "from": {"id": str(7311298455600000 + n % 5000), "name": f"Customer {n % 5000}"},
        "post": {"status_type": "added_photos", "is_published": True, "updated_time": "2026-12-06T05:55:58+0000",
                 "permalink_url": "https://www.facebook.com/acmehome/posts/pfbid02kXq7",
                 "promotion_status": "inactive", "id": post},
        "message": f"Comment {n}: my kettle stopped heating after a month, who do I talk to about a refund?",
        "post_id": post, "comment_id": f"{post.split('_')[1]}_{8934027166000000 + n}",
        "created_time": now, "item": "comment", "parent_id": post, "verb": "add"}}


def delivery(first: int, per: int, now: int) -> bytes:
    body = {"object": "page", "entry": [{"id": PAGE, "time": now,
                                         "changes": [comment(first + i, now) for i in range(per)]}]}
    return json.dumps(body, separators=(",", ":")).encode()


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


def _sender(port: int, path: str, bodies: list[bytes], interval: float, start_at: float, timeout: float,
            out) -> None:
    """One platform sender: sequential requests on one keep-alive connection (a new one after an error)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    latencies, codes = [], {}
    while time.time() < start_at:
        time.sleep(0.001)
    t0 = time.perf_counter()
    for i, body in enumerate(bodies):
        if interval:
            delay = t0 + i * interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)}
        started = time.perf_counter()
        try:
            conn.request("POST", path, body, headers)
            resp = conn.getresponse()
            resp.read()
            code = str(resp.status)
        except (OSError, http.client.HTTPException) as exc:
            code = type(exc).__name__
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        latencies.append(time.perf_counter() - started)
        codes[code] = codes.get(code, 0) + 1
    out.put((latencies, codes, time.perf_counter() - t0))


def send(port: int, bodies: list[bytes], senders: int, path: str = f"/webhooks/{CHANNEL}",
         rate: float | None = None, timeout: float = 10.0) -> dict:
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    shares = [bodies[i::senders] for i in range(senders)]
    interval = senders / rate if rate else 0.0
    start_at = time.time() + 0.5
    procs = [ctx.Process(target=_sender, args=(port, path, share, interval, start_at, timeout, out))
             for share in shares]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    latencies = [x for r in results for x in r[0]]
    codes: dict[str, int] = {}
    for r in results:
        for k, v in r[1].items():
            codes[k] = codes.get(k, 0) + v
    seconds = max(r[2] for r in results)
    return {"requests": len(latencies), "seconds": round(seconds, 2), "per_second": round(len(latencies) / seconds),
            "p50_ms": round(percentile(latencies, 50) * 1000, 1), "p95_ms": round(percentile(latencies, 95) * 1000, 1),
            "p99_ms": round(percentile(latencies, 99) * 1000, 1), "max_ms": round(max(latencies) * 1000, 1),
            "answers": codes}


def cpu_seconds(pid: int, children: bool = True) -> float:
    """CPU time (user + system) of a process and its live children: a figure the machine's other load moves
    far less than wall-clock rates (the server and its worker process)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task") if children else ():
            pids += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def upkeep_counters(server: Server, token: str) -> dict | None:
    """The server's counters of the reports' upkeep (`/metrics`, cli/serving._upkeep_counted): its scheduler
    thread's CPU seconds and the cases folded and recomputed. None from a server that has none (older code)."""
    try:
        text = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10).text
    except httpx.HTTPError:
        return None
    names = {"onevoice_reports_upkeep_cpu_seconds_total": "cpu_s",
             'onevoice_reports_upkeep_cases_total{how="folded"}': "folded",
             'onevoice_reports_upkeep_cases_total{how="recomputed"}': "recomputed"}
    out = {names[k]: float(v) for k, v in (line.rsplit(" ", 1) for line in text.splitlines()
                                           if line and not line.startswith("#")) if k in names}
    return out if "cpu_s" in out else None


def processed(db: str) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as c:
        return c.execute("SELECT count(*) FROM messages WHERE status = 'processed'").fetchone()[0]


def processed_by(db: str) -> dict[str, int]:
    """Messages processed so far, by worker (the `message.processed` events' actor): whether the pool's second
    worker process took part (worker/spread.py)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as c:
        return dict(c.execute("SELECT actor, count(*) FROM events WHERE kind = 'message.processed' "
                              "GROUP BY actor").fetchall())


def wait_processed(db: str, expected: int, started: float, limit: float = 600) -> float | None:
    while time.perf_counter() - started < limit:
        if processed(db) >= expected:
            return round(time.perf_counter() - started, 2)
        time.sleep(0.1)
    return None


def wait_reports(db: str, started: float, limit: float = 300) -> float | None:
    """Seconds from `started` until the reports' upkeep has folded every event there is (None: it runs on
    no node of this server, ONEVOICE_REPORTS_UPKEEP_SECONDS=0, or did not catch up within `limit`)."""
    if os.environ.get("ONEVOICE_REPORTS_UPKEEP_SECONDS") in ("0", "0.0"):
        return None
    while time.perf_counter() - started < limit:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as c:
            top = c.execute("SELECT max(id) FROM events").fetchone()[0] or 0
            mark = c.execute("SELECT last_event_id FROM report_state WHERE key = 'facts'").fetchone()
        if mark and mark[0] >= top:
            return round(time.perf_counter() - started, 2)
        time.sleep(0.2)
    return None


def add_meta_channel(url: str) -> None:
    from onevoice.channels.service import add_channel
    from onevoice.db import make_engine, make_sessionmaker, unit_of_work
    from onevoice.settings import DEV_SECRET

    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as s:
        add_channel(s, CHANNEL, "meta", config={"app_secret": APP_SECRET, "verify_token": "bench-verify",
                                               "page_access_token": "EAAB-bench", "page_id": PAGE},
                    secret_key=DEV_SECRET)
    engine.dispose()


def webhook_part(server: Server, db: str, base: int, deliveries: int, per: int, senders: int,
                 rate: float | None = None) -> dict:
    now = int(time.time())
    bodies = [delivery(base + i * per, per, now) for i in range(deliveries)]
    before = processed(db)
    cpu, web_cpu = cpu_seconds(server.proc.pid), cpu_seconds(server.proc.pid, children=False)
    started = time.perf_counter()
    result = send(server.port, bodies, senders, rate=rate)
    result["comments_per_delivery"] = per
    result["all_processed_seconds"] = wait_processed(db, before + deliveries * per, started)
    result["processed"] = processed(db) - before
    result["server_cpu_ms_per_delivery"] = round((cpu_seconds(server.proc.pid) - cpu) * 1000 / deliveries, 2)
    result["web_process_cpu_ms_per_delivery"] = round(
        (cpu_seconds(server.proc.pid, children=False) - web_cpu) * 1000 / deliveries, 2)
    result["load"] = os.getloadavg()[0]
    result["processed_by_so_far"] = processed_by(db)
    return result


def _retexted(batch: list[dict], start: int, texts: list[str] | None, distinct: bool) -> list[dict]:
    """The messages (the `start`-th of the run first) with their texts taken in turn from `texts` (e.g. public
    tweets: a vocabulary as wide as real customers' words, where the sandbox's ~2,500 templates reuse a few hundred
    words), and with `distinct` each made its own: the sandbox repeats ~2,500 texts over 50,000 messages, and the
    triager keeps what it read of a text (triager.TextReading), so repeated texts cost less than new ones. A
    customer's order number, different in every message, is what makes real texts differ most often."""
    out = []
    for n, m in enumerate(batch, start):
        text = texts[n % len(texts)] if texts else m["text"]
        out.append({**m, "text": f"{text} (order {7_000_000 + n})" if distinct else text})
    return out


def batched_api(server: Server, db: str, token: str, messages: int, per_request: int, senders: int,
                distinct: bool = False, texts: list[str] | None = None) -> dict:
    try:
        from bench.bench_intake import batches
    except ImportError:  # measuring an older checkout (PYTHONPATH), where the demo's traffic lived in demo/
        from onevoice.demo.traffic import SandboxTraffic  # type: ignore[import-not-found]

        def batches(n: int, size: int, seed: int = 1):
            traffic, channels = SandboxTraffic(seed), ("sandbox-mastodon", "sandbox-x", "sandbox-mail",
                                                       "sandbox-reviews")
            for start in range(0, n, size):
                yield [traffic.next_message(channels[(start + i) % 4]) for i in range(min(size, n - start))]

    bodies = [json.dumps({"messages": _retexted(b, i * per_request, texts, distinct) if texts or distinct else b})
              .encode() for i, b in enumerate(batches(messages, per_request, seed=7))]
    before = processed(db)
    upkeep_before = upkeep_counters(server, token)
    cpu, web_cpu = cpu_seconds(server.proc.pid), cpu_seconds(server.proc.pid, children=False)
    started = time.perf_counter()
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_api_sender, args=(server.port, token, bodies[i::senders], out))
             for i in range(senders)]
    for p in procs:
        p.start()
    codes: dict[str, int] = {}
    for _ in procs:
        for k, v in out.get().items():
            codes[k] = codes.get(k, 0) + v
    for p in procs:
        p.join()
    accepted = time.perf_counter() - started
    total = wait_processed(db, before + messages, started)
    cpu_processed = cpu_seconds(server.proc.pid), cpu_seconds(server.proc.pid, children=False)
    current = wait_reports(db, started)
    # Up to the figures being current: the upkeep's passes after the last message is processed too (the pass that
    # catches up after a surge is most of its work; with the upkeep off, the same as at processed).
    cpu_current = cpu_seconds(server.proc.pid)
    upkeep_after = upkeep_counters(server, token)
    # The upkeep's share of the server's CPU (web and worker processes) up to the figures current, as one
    # measured figure: its thread's CPU over the processes' (/proc), over the same span.
    upkeep = {k: round(upkeep_after[k] - upkeep_before.get(k, 0.0), 3) for k in upkeep_after} \
        if upkeep_before and upkeep_after else None
    if upkeep:
        upkeep["cpu_ms_per_message"] = round(upkeep["cpu_s"] * 1000 / messages, 4)
        upkeep["share_of_server_cpu_pct"] = round(100 * upkeep["cpu_s"] / (cpu_current - cpu), 2)
    return {"messages": messages, "per_request": per_request, "distinct_texts": distinct,
            "texts": len(set(texts)) if texts else "sandbox", "answers": codes,
            "accept_seconds": round(accepted, 2),
            "all_processed_seconds": total,
            # the figures lag the processing by the upkeep's interval and the pass that is running
            "reports_current_seconds": current,
            "messages_per_second_end_to_end": round(messages / total) if total else None,
            "server_cpu_ms_per_message": round((cpu_processed[0] - cpu) * 1000 / messages, 3),
            "web_process_cpu_ms_per_message": round((cpu_processed[1] - web_cpu) * 1000 / messages, 3),
            "server_cpu_ms_per_message_until_current": round((cpu_current - cpu) * 1000 / messages, 3),
            "upkeep_until_current": upkeep, "load": os.getloadavg()[0], "processed_by_so_far": processed_by(db)}


def webhook_latency(server: Server, db: str, token: str, base: int, seconds: float, rate: int = 200) -> dict:
    """Accept-to-visible for single-comment deliveries paced at `rate`/s from one sender: from the 200 of the
    delivery to the comment's live update on the SSE stream (what a page sees), through the intake journal,
    the worker's gathering and processing. Comments are told apart by their Meta comment id."""
    live = LiveArrivals(f"http://127.0.0.1:{server.port}", {"Authorization": f"Bearer {token}"}).start()
    now = int(time.time())
    # A fresh server's worker loads its models with its first batch (seconds): warm it up first.
    before = processed(db)
    send(server.port, [delivery(base - 100 + i, 1, now) for i in range(50)], 1)
    wait_processed(db, before + 50, time.perf_counter())
    count = int(seconds * rate)
    answered: dict[str, float] = {}
    codes: dict[str, int] = {}
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    start = time.perf_counter()
    for i in range(count):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        body = delivery(base + i, 1, now)
        conn.request("POST", f"/webhooks/{CHANNEL}", body, {"Content-Type": "application/json",
                                                           "X-Hub-Signature-256": sign(body)})
        resp = conn.getresponse()
        resp.read()
        codes[str(resp.status)] = codes.get(str(resp.status), 0) + 1
        answered[json.loads(body)["entry"][0]["changes"][0]["value"]["comment_id"]] = time.perf_counter()
    time.sleep(2)
    live.stop()
    arrivals = live.arrivals
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as c:
        ids = dict(c.execute("SELECT external_id, id FROM messages").fetchall())
    lat = [arrivals[ids[k]] - t for k, t in answered.items() if k in ids and ids[k] in arrivals]
    return {"rate_per_second": rate, "deliveries": count, "answers": codes, "seen_live": len(lat),
            "p50_ms": round(percentile(lat, 50) * 1000, 1), "p95_ms": round(percentile(lat, 95) * 1000, 1),
            "p99_ms": round(percentile(lat, 99) * 1000, 1), "max_ms": round(max(lat) * 1000, 1),
            "load": os.getloadavg()[0]}


def _api_sender(port: int, token: str, bodies: list[bytes], out) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    codes: dict[str, int] = {}
    for body in bodies:
        conn.request("POST", "/api/v1/messages", body, {"Content-Type": "application/json",
                                                        "Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        resp.read()
        codes[str(resp.status)] = codes.get(str(resp.status), 0) + 1
    out.put(codes)


def _read_texts(path: str | None) -> list[str] | None:
    if not path:
        return None
    with open(path, encoding="utf-8") as f:
        return [t for t in (line.strip() for line in f) if t] or None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parts", default="single,multi,batch,burst")
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--batch-messages", type=int, default=50_000)
    parser.add_argument("--burst", type=int, default=50_000, help="deliveries in the burst, paced over 60 s")
    parser.add_argument("--latency-seconds", type=float, default=20,
                        help="part 'latency': single-comment deliveries at 200/s for this long")
    parser.add_argument("--distinct-texts", action="store_true",
                        help="batched part: every message's text its own (the sandbox repeats ~2,500 texts)")
    parser.add_argument("--texts-from", help="batched part: the messages' texts from this file, one a line, in turn "
                        "(e.g. public tweets; the sandbox's templates repeat a few hundred words)")
    parser.add_argument("--profile", help="run the server under cProfile, stats written here")
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args()
    parts = args.parts.split(",")
    out: dict = {"machine": machine(), "load_before": os.getloadavg(), "senders": args.senders}
    with tempfile.TemporaryDirectory() as tmp:
        db = f"{tmp}/bench.db"
        url = f"sqlite:///{db}"
        token = seeded_database(url)
        add_meta_channel(url)
        with Server(url) as server:
            spy = None
            if args.profile:
                spy = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record",
                                        "--pid", str(server.proc.pid), "--subprocesses", "--format", "raw",
                                        "--rate", "200", "--output", args.profile, "--nonblocking"],
                                       stdout=subprocess.DEVNULL)
                time.sleep(1)
            base = 0
            if "single" in parts:
                out["one_comment"] = webhook_part(server, db, base, args.deliveries, 1, args.senders)
                base += args.deliveries
            if "multi" in parts:
                out["ten_comments"] = webhook_part(server, db, base, args.deliveries, 10, args.senders)
                base += args.deliveries * 10
            if "batch" in parts:
                out["batched_api"] = batched_api(server, db, token, args.batch_messages, 500, 2, args.distinct_texts,
                                               _read_texts(args.texts_from))
            if "latency" in parts:
                out["latency_at_200_per_s"] = webhook_latency(server, db, token, base + 2 * 10**7,
                                                              args.latency_seconds)
            if "burst" in parts:
                out["burst_60s"] = webhook_part(server, db, base + 10**7, args.burst, 1, 8, rate=args.burst / 60)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(60)
    out["load_after"] = os.getloadavg()
    text = json.dumps(out, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
