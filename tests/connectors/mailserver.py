"""Real mail servers on localhost for the email connector's tests.

SMTP is aiosmtpd (a real SMTP server, with AUTH). IMAP is a small IMAP4rev1 stand-in speaking the
subset the connector uses (LOGIN, SELECT/EXAMINE, UID SEARCH, UID FETCH, LOGOUT) over a real socket,
so imaplib, the connector's parsing and its error paths all run for real.
"""

from __future__ import annotations

import re
import socket
import socketserver
import threading
import warnings
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Mailbox:
    user: str
    password: str
    uidvalidity: int = 1741900000
    messages: list[tuple[int, bytes]] = field(default_factory=list)

    def append(self, data: bytes) -> int:
        uid = (self.messages[-1][0] if self.messages else 0) + 1
        self.messages.append((uid, data))
        return uid


class _IMAPHandler(socketserver.StreamRequestHandler):
    server: _IMAPServer

    def send(self, line: str | bytes) -> None:
        self.wfile.write((line.encode() if isinstance(line, str) else line) + b"\r\n")

    def handle(self) -> None:
        box = self.server.mailbox
        self.send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] OneVoice test IMAP ready")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            parts = line.decode().rstrip("\r\n").split(" ")
            tag, cmd, args = parts[0], parts[1].upper(), parts[2:]
            if cmd == "CAPABILITY":
                self.send("* CAPABILITY IMAP4rev1 AUTH=PLAIN")
                self.send(f"{tag} OK CAPABILITY completed")
            elif cmd == "LOGIN":
                user, password = (a.strip('"') for a in args[:2])
                if (user, password) == (box.user, box.password):
                    self.send(f"{tag} OK LOGIN completed")
                else:
                    self.send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)")
            elif cmd in ("SELECT", "EXAMINE"):
                nxt = (box.messages[-1][0] if box.messages else 0) + 1
                self.send(f"* {len(box.messages)} EXISTS")
                self.send("* 0 RECENT")
                self.send(f"* OK [UIDVALIDITY {box.uidvalidity}] UIDs valid")
                self.send(f"* OK [UIDNEXT {nxt}] Predicted next UID")
                self.send(r"* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)")
                self.send(f"{tag} OK [READ-ONLY] {cmd} completed")
            elif cmd == "UID" and args and args[0].upper() == "SEARCH":
                self.send("* SEARCH " + " ".join(str(u) for u in self._search(" ".join(args[1:]))))
                self.send(f"{tag} OK SEARCH completed")
            elif cmd == "UID" and args and args[0].upper() == "FETCH":
                wanted = {int(u) for u in args[1].split(",")}
                for seq, (uid, data) in enumerate(box.messages, start=1):
                    if uid in wanted:
                        self.wfile.write(
                            f"* {seq} FETCH (UID {uid} BODY[] {{{len(data)}}}\r\n".encode() + data + b")\r\n"
                        )
                self.send(f"{tag} OK FETCH completed")
            elif cmd == "NOOP":
                self.send(f"{tag} OK NOOP completed")
            elif cmd == "LOGOUT":
                self.send("* BYE logging out")
                self.send(f"{tag} OK LOGOUT completed")
                return
            else:
                self.send(f"{tag} BAD unsupported command {cmd}")

    def _search(self, criteria: str) -> list[int]:
        uids = [u for u, _ in self.server.mailbox.messages]
        m = re.fullmatch(r"UID (\d+):\*", criteria.strip())
        if not m:
            return uids
        found = [u for u in uids if u >= int(m.group(1))]
        # RFC 3501: "n:*" includes the highest UID even when it is below n.
        return found or uids[-1:]


class _IMAPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mailbox: Mailbox):
        super().__init__(("127.0.0.1", 0), _IMAPHandler)
        self.mailbox = mailbox


class IMAPServer:
    def __init__(self, mailbox: Mailbox):
        self.server = _IMAPServer(mailbox)
        self.port = self.server.server_address[1]
        # A short poll interval keeps shutdown (and so each test) fast.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> IMAPServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Sink:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.reject_with: str | None = None  # e.g. "451 4.7.1 Greylisted, try again later"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.reject_with:
            return self.reject_with
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK queued"


class SMTPServer:
    """aiosmtpd on a free localhost port; AUTH PLAIN/LOGIN allowed without TLS (loopback only)."""

    def __init__(self, user: str, password: str):
        self.sink = _Sink()

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
                user.encode(),
                password.encode(),
            )
            return AuthResult(success=ok)

        # aiosmtpd cannot report an OS-chosen port, so take a free one first (loopback only).
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(
            self.sink,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=authenticate,
            auth_required=True,
            auth_require_tls=False,
        )

    def __enter__(self) -> SMTPServer:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # AUTH without TLS is deliberate here: loopback only
            self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
