"""Helpers shared by the benchmarks: a seeded database and a real server process."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from onevoice.db import make_engine, make_sessionmaker, unit_of_work
from onevoice.demo.seed import seed_demo
from onevoice.migrate import upgrade


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
