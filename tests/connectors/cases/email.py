from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..mailserver import IMAPServer, Mailbox, SMTPServer
from .base import FIXTURES, Case, Expect

USER, PASSWORD = "support@acme.example", "imap-app-password-8812"
CONFIG = {
    "address": "support@acme.example",
    "display_name": "Acme Support",
    "username": USER,
    "password": PASSWORD,
    "imap_host": "127.0.0.1",
    "imap_port": 1,
    "imap_ssl": False,
    "smtp_host": "127.0.0.1",
    "smtp_port": 1,
    "smtp_security": "none",
}
INBOX = ["complaint.eml", "autoreply.eml", "reply_in_thread.eml", "no_message_id.eml"]


def eml(name: str) -> bytes:
    return (FIXTURES / "email" / name).read_bytes()


@contextmanager
def servers(mailbox: Mailbox | None = None) -> Iterator[dict]:
    box = mailbox or Mailbox(USER, PASSWORD)
    if mailbox is None:
        for name in INBOX:
            box.append(eml(name))
    with IMAPServer(box) as imap, SMTPServer(USER, PASSWORD) as smtp:
        yield {"imap_port": imap.port, "smtp_port": smtp.port, "_smtp": smtp, "_mailbox": box}


@contextmanager
def config_servers() -> Iterator[dict]:
    with servers() as s:
        yield {"imap_port": s["imap_port"], "smtp_port": s["smtp_port"]}


def is_source(raw: dict) -> bool:
    return raw.get("rfc822", "").encode() in {eml(n) for n in INBOX} and set(raw) >= {"uid", "uidvalidity", "headers"}


CASE = Case(
    kind="email",
    platform="email",
    config=CONFIG,
    bad_config={**CONFIG, "address": "support", "smtp_security": "tls1.0"},
    setup_poll=lambda t: None,
    servers=config_servers,
    raw_matches=is_source,
    poll_expect=[
        Expect("<CAF=k2Zp3Tq8w@mail.example.net>", "direct"),
        Expect(
            "<CAF=k2Zp9Vb1r@mail.example.net>",
            "direct",
            in_reply_to="<onevoice.5d41402abc4b2a76b9719d911017c592@acme.example>",
        ),
        Expect("<sha256.c3efb35c09bbdda87b4ad03e907942eb2248810c@onevoice.invalid>", "direct"),
    ],
)
