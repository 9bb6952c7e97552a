"""What the API's answers cost to build and write (issue 12: response models must not make them slower).

In-process (FastAPI's test client, the real app and an embedded worker on SQLite): the demo organization,
then 2,000 sandbox messages taken in and processed; then each question below asked `--runs` times, the
first as a warm-up. The intake question re-sends the same 1,000 messages, so every run answers the same
1,000 `accepted` entries (duplicates) without growing the database.

    python -m bench.bench_answers [--runs 40]

Run it with the code before and after a change, back to back (PYTHONPATH=<before checkout>/src:. for the
before run), and read the ratio: the machine is shared and single figures are noisy; `cpu_p50_ms` (the
process's CPU time per answer) moves less with the load than the wall-clock percentiles.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from bench.common import demo_app, machine, percentile, sandbox_batches


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    batches = sandbox_batches(2)
    out: dict = {"machine": machine(), "runs": args.runs}
    with demo_app("bench-answers-", batches) as (client, _url):
        case_id = client.get("/api/v1/cases", params={"limit": 1}).json()["items"][0]["id"]
        questions = {
            "POST /api/v1/messages (1,000, all duplicates)": ("POST", "/api/v1/messages",
                                                              {"json": {"messages": batches[0]}}),
            "GET /api/v1/cases?limit=50": ("GET", "/api/v1/cases", {"params": {"limit": 50}}),
            "GET /api/v1/cases/{id}": ("GET", f"/api/v1/cases/{case_id}", {}),
            "GET /api/v1/messages?limit=200": ("GET", "/api/v1/messages", {"params": {"limit": 200}}),
        }
        for name, (method, path, kw) in questions.items():
            times, cpu = [], []
            for i in range(args.runs + 1):
                t, c = time.perf_counter(), time.process_time()
                r = client.request(method, path, **kw)
                elapsed, used = (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000
                assert r.status_code < 300, (name, r.status_code, r.text[:300])
                if i:
                    times.append(elapsed)
                    cpu.append(used)
            # CPU time of the whole process (the app runs in the test client's thread; the idle worker adds
            # next to nothing): steadier than wall time on a shared machine, where others' work stretches waits.
            out[name] = {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(percentile(times, 95), 2),
                         "cpu_p50_ms": round(statistics.median(cpu), 2), "bytes": len(r.content)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
