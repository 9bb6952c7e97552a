"""A TCP relay in front of the test server whose line can be cut: what a dropped connection or a restarting proxy
looks like to the browser. Loopback only; its threads end with their sockets.

`cut()` closes every open connection (the live stream with them) and answers each new one with a bare
`502 Bad Gateway`, which makes the browser's EventSource give up for good (so only the page's own reconnecting
brings it back); `restore()` relays again.
"""

from __future__ import annotations

import socket
import threading
from contextlib import suppress

REFUSED = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class CuttableProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.is_cut = False
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.is_cut:
                client.settimeout(2)
                with suppress(OSError):  # errors on a line being cut are the point
                    client.recv(65536)
                    client.sendall(REFUSED)
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        with suppress(OSError):  # errors on a line being cut are the point
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        for s in (src, dst):
            with suppress(OSError):  # errors on a line being cut are the point
                s.shutdown(socket.SHUT_RDWR)
            s.close()
            with self.lock:
                self.open.discard(s)

    def cut(self) -> None:
        self.is_cut = True
        with self.lock:
            sockets = list(self.open)
        for s in sockets:
            with suppress(OSError):  # errors on a line being cut are the point
                s.shutdown(socket.SHUT_RDWR)

    def restore(self) -> None:
        self.is_cut = False

    def close(self) -> None:
        self.closed = True
        self.cut()
        self.listener.close()
