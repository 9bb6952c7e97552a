"""The embedded default: one process accepts, processes in the background and streams live events."""

from __future__ import annotations

import json
import threading
import time

import httpx
from tests.factories import message
from tests.server import ServerThread

from onevoice.app import create_app


def test_embedded_worker_processes_and_streams_live(runtime, token):
    app = create_app(runtime.settings, runtime=runtime, start_worker=True)
    headers = {"Authorization": f"Bearer {token}"}
    with ServerThread(app) as server:
        events: list[dict] = []
        connected = threading.Event()

        def listen():
            with httpx.Client(base_url=server.url, headers=headers, timeout=20) as c, \
                    c.stream("GET", "/api/v1/stream?team=support") as r:
                for line in r.iter_lines():
                    if line.startswith(": connected"):
                        connected.set()
                    if line.startswith("data: "):
                        events.append({**json.loads(line[6:]), "_at": time.monotonic()})
                        return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert connected.wait(10)
        with httpx.Client(base_url=server.url, headers=headers, timeout=20) as c:
            sent = time.monotonic()
            r = c.post("/api/v1/messages", json=message(text="my parcel never arrived, terrible"))
            assert r.status_code == 202
            mid = r.json()["accepted"][0]["id"]
            listener.join(10)
            assert events, "no live event arrived"
            assert events[0]["type"] == "case.created" and "support" in events[0]["teams"]
            assert events[0]["_at"] - sent < 5
            m = c.get(f"/api/v1/messages/{mid}").json()
            assert m["status"] == "processed" and m["case_id"] == events[0]["case_id"]


def test_server_stays_responsive_while_the_worker_is_busy(runtime, token):
    app = create_app(runtime.settings, runtime=runtime, start_worker=True)
    headers = {"Authorization": f"Bearer {token}"}
    with ServerThread(app) as server, httpx.Client(base_url=server.url, headers=headers, timeout=30) as c:
        for batch in range(4):
            items = [message(text=f"broken {batch}-{i}", author=f"b{batch}-{i}") for i in range(500)]
            assert c.post("/api/v1/messages", json={"messages": items}).status_code == 202
        slowest = 0.0
        for _ in range(20):
            t = time.perf_counter()
            assert c.get("/healthz").status_code == 200
            slowest = max(slowest, time.perf_counter() - t)
            time.sleep(0.02)
        assert slowest < 1.0, f"health check took {slowest:.2f}s while the worker was busy"
        deadline = time.monotonic() + 60
        while c.get("/api/v1/messages?status=accepted&limit=1").json()["items"]:
            assert time.monotonic() < deadline, "backlog did not drain"
            time.sleep(0.2)
        metrics = c.get("/metrics").text
        assert "onevoice_messages_processed_total" in metrics and "onevoice_queue_depth 0.0" in metrics
