"""A real uvicorn server on a free localhost port, in a thread (tests of live behaviour)."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    def __init__(self, app, port: int | None = None, config: uvicorn.Config | None = None) -> None:
        """`config` (e.g. cli.serving.uvicorn_config) replaces the default one; its port is used."""
        self.port = config.port if config is not None else (port or free_port())
        self.server = uvicorn.Server(config or uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                              log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(20)
