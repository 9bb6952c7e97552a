"""Issue 14's peer, measured like OneVoice: `bench_webhooks`' signed Meta deliveries into a Django +
PostgreSQL app under gunicorn (2 processes x 2 threads), same sender processes.

    python -m venv /tmp/peer && /tmp/peer/bin/pip install django gunicorn "psycopg[binary]"
    .venv/bin/python -m bench.peer.run_peer --peer-python /tmp/peer/bin/python [--deliveries 3000]

It makes a database of its own (`onevoice_peer_bench`) on the local PostgreSQL and drops it afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import httpx
import psycopg

from bench.bench_webhooks import APP_SECRET, delivery, send
from bench.common import free_port, machine

DB = "onevoice_peer_bench"
HERE = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer-python", required=True)
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with psycopg.connect(args.pg, autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB}")
        c.execute(f"CREATE DATABASE {DB}")
    with psycopg.connect(args.pg.rsplit("/", 1)[0] + "/" + DB, autocommit=True) as c:
        c.execute("CREATE TABLE peer_comments (id bigserial PRIMARY KEY, external_id text UNIQUE NOT NULL, "
                  "author text, text text, raw jsonb, received_at timestamptz DEFAULT now())")
    port = free_port()
    gunicorn = str(Path(args.peer_python).with_name("gunicorn"))
    env = {**os.environ, "PEER_DB": DB, "PEER_APP_SECRET": APP_SECRET, "PYTHONPATH": str(HERE)}
    proc = subprocess.Popen([gunicorn, "-w", "2", "--threads", "2", "-k", "gthread", "-b", f"127.0.0.1:{port}",
                             "--log-level", "warning", "peer_app:application"], env=env, cwd=HERE)
    out: dict = {"machine": machine(), "load_before": os.getloadavg(), "peer": "Django + PostgreSQL, gunicorn 2x2"}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        for per, name in ((1, "one_comment"), (10, "ten_comments")):
            now = int(time.time())
            base = 0 if per == 1 else 10**6
            bodies = [delivery(base + i * per, per, now) for i in range(args.deliveries)]
            out[name] = {**send(port, bodies, args.senders, path="/webhooks/fb"), "load": os.getloadavg()[0]}
    finally:
        proc.terminate()
        proc.wait(20)
        with psycopg.connect(args.pg, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {DB}")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
