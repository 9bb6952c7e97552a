"""`onevoice serve` on the embedded default runs its worker in a child process: live updates still reach a
connected page, a killed worker is started again and finishes the work, and the child goes with the server."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select
from tests.channels.test_intake_journal import _Server
from tests.factories import seed_org

from onevoice.db import make_engine, make_sessionmaker
from onevoice.messages.models import Message


def _children(pid: int) -> list[int]:
    """The server's worker processes (multiprocessing's resource tracker is a child too, and is left out)."""
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return [c for c in found if b"spawn_main" in _cmdline(c)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _message(n: int) -> dict:
    return {"channel": "mast", "external_id": f"wp-{n}", "kind": "mention", "text": f"order {n} never arrived",
            "author": {"external_id": f"wp-a{n}", "handle": f"@a{n}"}, "created_at": "2026-12-06T07:00:00Z"}


def test_worker_process_sends_live_updates_restarts_and_dies_with_the_server(db_url, tmp_path):
    factory = make_sessionmaker(make_engine(db_url))
    token = seed_org(factory, channels=("mast",), kind="webhook", config={"secret": "worker-process-secret"})
    headers = {"Authorization": f"Bearer {token}"}
    server = _Server(db_url, tmp_path)
    base = f"http://127.0.0.1:{server.port}"
    try:
        # The default pool: two worker processes, the second asleep until a backlog (worker/spread.py).
        deadline = time.monotonic() + 60
        while len(_children(server.proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        first = set(_children(server.proc.pid))
        assert len(first) == 2
        events: list[dict] = []
        ready = threading.Event()

        def listen() -> None:
            client = httpx.Client(base_url=base, headers=headers, timeout=None)
            # The server is killed at the end: the stream breaks then.
            with contextlib.suppress(httpx.HTTPError), client as c, c.stream("GET", "/api/v1/stream") as r:
                for line in r.iter_lines():
                    if line.startswith(": connected"):
                        ready.set()
                    elif line.startswith("data: "):
                        events.append(json.loads(line[6:]))

        threading.Thread(target=listen, daemon=True).start()
        assert ready.wait(30)
        r = httpx.post(base + "/api/v1/messages", headers=headers, json={"messages": [_message(1)]}, timeout=30)
        assert r.status_code == 202, r.text
        first_id = r.json()["accepted"][0]["id"]
        deadline = time.monotonic() + 60
        while not any(e.get("message_id") == first_id for e in events) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert any(e.get("message_id") == first_id and e["type"] == "case.created" for e in events), events

        for child in first:  # the workers die; the server starts others
            os.kill(child, signal.SIGKILL)
        r = httpx.post(base + "/api/v1/messages", headers=headers, json={"messages": [_message(2)]}, timeout=30)
        assert r.status_code == 202
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with factory() as s:
                if s.scalar(select(func.count()).select_from(Message).where(Message.status == "processed")) == 2:
                    break
            time.sleep(0.2)
        second = {c for c in _children(server.proc.pid) if _cmdline(c)}
        assert second and not second & first
        with factory() as s:
            assert s.scalar(select(func.count()).select_from(Message).where(Message.status == "processed")) == 2
    finally:
        pid = server.proc.pid
        children = _children(pid) if server.proc.poll() is None else []
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(10)
        server.log.close()
    deadline = time.monotonic() + 20
    while children and any(Path(f"/proc/{c}").exists() and "zombie" not in _state(c) for c in children):
        assert time.monotonic() < deadline, "the worker process outlived its server"
        time.sleep(0.1)


def _state(pid: int) -> str:
    try:
        line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("State:"))
        return line.lower()
    except (OSError, StopIteration):
        return "zombie"
