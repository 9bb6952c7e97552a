"""The batched API's web side alone, in process: CPU per message accepted (issue 14, branch webside).

The real app (`create_app`, no worker, no scheduler) on a fresh seeded SQLite database; requests of 500
sandbox messages (the batched bench's traffic, seed 7) sent through its ASGI interface, so that the figure is
the route's own work (body, JSON, token, validation, insert, commit, answer) without a server's other threads
(the reports' upkeep, the worker's live updates). `--profile FILE` runs the endpoint's thread-pool step inline
and writes a CPU-time cProfile of it.

    python -m bench.bench_accept [--messages 20000] [--profile /tmp/accept.prof]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import shutil
import tempfile
import time
from pathlib import Path

import httpx

from bench.bench_intake import batches
from bench.common import seeded_database
from onevoice.app import create_app
from onevoice.ops import heap
from onevoice.settings import Settings

WARM_UP = 10  # requests before measuring: the first ones compile statements and fill caches


async def _inline(fn, *args, **kwargs):
    return fn(*args, **kwargs)


async def run(messages: int, per_request: int, profile: str | None) -> dict:
    data = Path(tempfile.mkdtemp(prefix="bench-accept-"))
    url = f"sqlite:///{data}/bench.db"
    token = seeded_database(url)
    app = create_app(Settings(environment="development", data_dir=data, database_url=url, log_json=False,
                              log_level="WARNING"), start_worker=False)
    heap.tune()
    bodies = [json.dumps({"messages": b}).encode()
              for b in batches(messages + WARM_UP * per_request, per_request, seed=7)]
    prof = None
    if profile:
        import onevoice.pipeline.api as api  # cProfile sees one thread: the accept step runs inline

        api.run_in_threadpool = _inline
        prof = cProfile.Profile(time.process_time)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}) as client:
        for body in bodies[:WARM_UP]:
            assert (await client.post("/api/v1/messages", content=body)).status_code == 202
        cpu, wall = time.process_time(), time.perf_counter()
        if prof:
            prof.enable()
        for body in bodies[WARM_UP:]:
            assert (await client.post("/api/v1/messages", content=body)).status_code == 202
        if prof:
            prof.disable()
            prof.dump_stats(profile)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    shutil.rmtree(data, ignore_errors=True)
    return {"messages": messages, "per_request": per_request, "profiled": bool(profile),
            "cpu_ms_per_message": round(cpu * 1000 / messages, 4), "wall_seconds": round(wall, 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--per-request", type=int, default=500)
    parser.add_argument("--profile", help="write a CPU-time cProfile of the requests here")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.messages, args.per_request, args.profile))))


if __name__ == "__main__":
    main()
