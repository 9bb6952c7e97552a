"""Traffic as platforms and pages make it: senders that retry like a platform, and a live-update listener
that reconnects like the pages' script. Every attempt and every event is recorded for the verdict."""

from __future__ import annotations

import itertools
import re
import threading
import time
from dataclasses import dataclass, field

import httpx
import orjson

from onevoice.connectors.webhook.connector import sign

RETRYABLE = {500, 502, 503, 504}


@dataclass
class Delivery:
    """One request's worth of messages: a signed webhook delivery or an API intake call."""

    kind: str  # "webhook" or "api"
    external_ids: list[str]
    messages: list[dict]


@dataclass
class Attempt:
    kind: str
    first_id: str
    started: float
    ended: float
    status: int | None  # None: no HTTP answer (connection refused, reset, timed out)
    error: str = ""
    accepted: list[dict] = field(default_factory=list)


def make_deliveries(count: int, per_delivery: int = 1, tag: str = "p") -> list[Delivery]:
    """Alternating webhook and API deliveries; every message from its own author, so each opens its own case."""
    out, seq = [], itertools.count()
    for d in range(count):
        kind = "webhook" if d % 2 == 0 else "api"
        msgs = []
        for _ in range(per_delivery):
            n = next(seq)
            msgs.append({"external_id": f"{tag}-{n}", "kind": "comment", "created_at": "2026-12-06T06:00:00Z",
                         "author": {"external_id": f"{tag}-author-{n}", "handle": f"@customer{n}",
                                    "name": f"Customer {n}", "followers": n % 500},
                         "text": f"order {n} arrived broken, the box was crushed; please help"})
        out.append(Delivery(kind, [m["external_id"] for m in msgs], msgs))
    return out


class Sender:
    """Sends deliveries through the proxy; a 5xx or no answer is retried with the same body, as platforms do,
    until a 2xx/4xx or the deadline. Pacing: `rate` deliveries per second in total across `concurrency`."""

    def __init__(self, base_url: str, token: str, secret: str, concurrency: int = 4, rate: float | None = None,
                 retry_delay: float = 0.5, deadline: float = 120.0) -> None:
        self.base_url, self.token, self.secret = base_url, token, secret
        self.concurrency, self.rate, self.retry_delay = concurrency, rate, retry_delay
        self.deadline = deadline
        self.attempts: list[Attempt] = []
        self.settled: dict[str, Attempt] = {}  # first external id -> the final attempt
        self._lock = threading.Lock()

    def _request(self, client: httpx.Client, d: Delivery) -> httpx.Response:
        if d.kind == "webhook":
            body = orjson.dumps(d.messages if len(d.messages) > 1 else d.messages[0])
            ts = str(int(time.time()))
            return client.post("/webhooks/hooks", content=body, headers={
                "Content-Type": "application/json", "X-OneVoice-Timestamp": ts,
                "X-OneVoice-Signature": sign(self.secret, ts, body)})
        body = orjson.dumps({"messages": [{**m, "channel": "api"} for m in d.messages]})
        return client.post("/api/v1/messages", content=body, headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {self.token}"})

    def _send(self, client: httpx.Client, d: Delivery, give_up_at: float) -> None:
        while True:
            started = time.time()
            try:
                r = self._request(client, d)
                attempt = Attempt(d.kind, d.external_ids[0], started, time.time(), r.status_code)
                if r.status_code < 300:
                    attempt.accepted = r.json().get("accepted", [])
                elif r.status_code >= 400:
                    attempt.error = r.text[:300]
            except httpx.HTTPError as exc:
                attempt = Attempt(d.kind, d.external_ids[0], started, time.time(), None, repr(exc)[:300])
            with self._lock:
                self.attempts.append(attempt)
            if (attempt.status is not None and attempt.status not in RETRYABLE) or time.time() > give_up_at:
                with self._lock:
                    self.settled[d.external_ids[0]] = attempt
                return
            time.sleep(self.retry_delay)

    def run(self, deliveries: list[Delivery], stop: threading.Event | None = None) -> None:
        """Blocks until every delivery is settled (or the deadline)."""
        give_up_at = time.time() + self.deadline
        pending = iter(deliveries)
        lock = threading.Lock()
        start = time.monotonic()
        sent = itertools.count()

        def loop() -> None:
            with httpx.Client(base_url=self.base_url, verify=False, timeout=30,
                              limits=httpx.Limits(max_keepalive_connections=1)) as client:
                while not (stop and stop.is_set()):
                    with lock:
                        d = next(pending, None)
                    if d is None:
                        return
                    if self.rate:
                        due = start + next(sent) / self.rate
                        time.sleep(max(0.0, due - time.monotonic()))
                    self._send(client, d, give_up_at)

        threads = [threading.Thread(target=loop, daemon=True) for _ in range(self.concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


class LiveListener:
    """Holds a live-update stream open through the proxy and reconnects after any break, as the pages' script
    does; records the ids that events name (`key`), and each (re)connection. With a token it listens on the
    API's `/api/v1/stream` (message ids); with `login` (email, password) it signs in through the sign-in page
    like a browser and listens on the pages' `/live` (case ids)."""

    def __init__(self, base_url: str, token: str | None = None, login: tuple[str, str] | None = None) -> None:
        self.base_url, self.token, self.login = base_url, token, login
        self.path, self.key = ("/live", "case_id") if login else ("/api/v1/stream", "message_id")
        self.ids: dict[int, float] = {}
        self.connections: list[tuple[float, int | None]] = []  # (when, status)
        self.upstream = ""  # the web node that holds the stream now (the local proxy says, X-Upstream)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.seen = threading.Condition()

    def start(self) -> LiveListener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def wait_for(self, some_id: int, timeout: float) -> bool:
        with self.seen:
            return self.seen.wait_for(lambda: some_id in self.ids, timeout)

    def _sign_in(self, client: httpx.Client) -> None:
        form = client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        if form.status_code != 200 or csrf is None:
            raise httpx.HTTPError(f"sign-in page answered {form.status_code}")
        done = client.post("/login", data={"email": self.login[0], "password": self.login[1],
                                           "csrf_token": csrf.group(1), "next": "/inbox"})
        if done.status_code != 303:
            raise httpx.HTTPError(f"sign-in answered {done.status_code}")

    def _run(self) -> None:
        delay = 0.5
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        with httpx.Client(base_url=self.base_url, verify=False, timeout=httpx.Timeout(5, read=20)) as client:
            while not self._stop.is_set():
                try:
                    if self.login and not client.cookies:
                        self._sign_in(client)
                    with client.stream("GET", self.path, headers=headers) as r:
                        self.connections.append((time.time(), r.status_code))
                        self.upstream = r.headers.get("x-upstream", "")
                        if r.status_code != 200:
                            raise httpx.HTTPError(f"stream answered {r.status_code}")
                        delay = 0.5
                        self._read(r)
                except (httpx.HTTPError, httpx.StreamError):
                    pass  # broken or refused, or silent past two heartbeats: reconnect like the pages do
                self._stop.wait(delay)
                delay = min(delay * 2, 4)

    def _read(self, response: httpx.Response) -> None:
        for line in response.iter_lines():
            if self._stop.is_set():
                return
            if line.startswith("data: "):
                event = orjson.loads(line[6:])
                if event.get(self.key) is not None:
                    with self.seen:
                        self.ids.setdefault(event[self.key], time.time())
                        self.seen.notify_all()
