"""Helpers shared by the benchmarks: a seeded database and a real server process."""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from onevoice.app import create_app
from onevoice.connectors.sandbox.traffic import SandboxTraffic
from onevoice.db import make_engine, make_sessionmaker, unit_of_work
from onevoice.demo.seed import seed_demo
from onevoice.migrate import upgrade
from onevoice.settings import Settings


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def seeded_database(url: str) -> str:
    """Migrate and seed the demo organization; returns an API token."""
    upgrade(url)
    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as s:
        token = seed_demo(s)
    engine.dispose()
    return token


def seeded_pipeline(db: Path):
    """A new SQLite database at `db` with the demo organization: its engine, a session factory and the real
    processor (worker "bench"). The reports' upkeep has run once, so its watermark starts after the seeding."""
    from onevoice.reports.upkeep import upkeep_job
    from onevoice.runtime import build_processor

    db.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    seeded_database(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    processor = build_processor(Settings(environment="development", database_url=url), factory, worker="bench")
    upkeep_job(factory)
    return engine, factory, processor


SANDBOX_CHANNELS = ("sandbox-mastodon", "sandbox-x", "sandbox-mail", "sandbox-reviews")


def sandbox_batches(count: int, size: int = 1000, seed: int = 7) -> list[list[dict]]:
    """`count` batches of `size` sandbox messages, spread over the demo's four sandbox channels."""
    traffic = SandboxTraffic(seed)
    return [[traffic.next_message(SANDBOX_CHANNELS[i % 4]) for i in range(size)] for _ in range(count)]


@contextmanager
def demo_app(prefix: str, batches: list[list[dict]]) -> Iterator[tuple[TestClient, str]]:
    """The real app (embedded worker) on a new SQLite database with the demo organization, these batches taken
    in and processed: yields a client signed in with an API token, and the database URL."""
    data = Path(tempfile.mkdtemp(prefix=prefix))
    url = f"sqlite:///{data}/bench.db"
    token = seeded_database(url)
    app = create_app(Settings(environment="development", data_dir=data, database_url=url, log_json=False))
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        take_in(client, batches)
        yield client, url


def take_in(client, batches: list[list[dict]], timeout: float = 600) -> None:
    """Send each batch to the intake API through `client` (a signed-in test client of an app with its embedded
    worker) and wait until the worker has processed every message."""
    for batch in batches:
        assert client.post("/api/v1/messages", json={"messages": batch}).status_code == 202
    deadline = time.monotonic() + timeout
    while client.get("/api/v1/messages", params={"status": "accepted", "limit": 1}).json()["items"]:
        assert time.monotonic() < deadline, f"the worker did not process the messages in {timeout:.0f} s"
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`onevoice serve` in its own process, as a user would run it."""

    def __init__(self, database_url: str, redis_url: str | None = None, env: dict | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "onevoice.cli.main", "serve", "--port", str(self.port),
                "--database-url", database_url, "--no-poll"]
        if redis_url:
            args += ["--redis-url", redis_url]
        self.proc = subprocess.Popen(args, env={**os.environ, "ONEVOICE_LOG_LEVEL": "WARNING", **(env or {})})

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class LiveArrivals:
    """When each message's first live update arrived on the server's SSE stream (`/api/v1/stream`), by message
    id, heard in a background thread from `start()` (returns once connected) until `stop()`."""

    def __init__(self, url: str, headers: dict) -> None:
        self.url, self.headers = url, headers
        self.arrivals: dict[int, float] = {}
        self._ready, self._stop = threading.Event(), threading.Event()

    def start(self) -> LiveArrivals:
        threading.Thread(target=self._listen, daemon=True).start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._stop.set()

    def _listen(self) -> None:
        with httpx.Client(base_url=self.url, headers=self.headers, timeout=None) as c, \
                c.stream("GET", "/api/v1/stream") as r:
            for line in r.iter_lines():
                if line.startswith(": connected"):
                    self._ready.set()
                elif line.startswith("data: "):
                    event = json.loads(line[6:])
                    if "message_id" in event:
                        self.arrivals.setdefault(event["message_id"], time.perf_counter())
                if self._stop.is_set():
                    return


def sign_in_for_reports(client: TestClient, engine, email: str, prefix: str) -> str:
    """Sign `client` in as a demo user through the login form (its CSRF token), and return an API token of theirs
    with `reports:read` named `<prefix>-<user id>-<time>`: how the report benches read the pages and the API."""
    import re

    from sqlalchemy import select

    from onevoice.auth.models import User
    from onevoice.auth.tokens import create_token
    from onevoice.demo.seed import DEMO_PASSWORD

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": csrf},
                    follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    with unit_of_work(make_sessionmaker(engine)) as s:
        uid = s.scalar(select(User.id).where(User.email == email))
        return create_token(s, f"{prefix}-{uid}-{time.time()}", ["reports:read"], user_id=uid)[1]
