"""A shared mailbox: IMAP polling (idempotent on Message-ID, threaded by In-Reply-To/References)
and SMTP replies that thread correctly in the customer's mail client."""

from __future__ import annotations

import contextlib
import hashlib
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses
from typing import Literal

from pydantic import BaseModel, Field, SecretStr

from onevoice.connectors.base import (
    BaseConnector,
    Capability,
    ConnectorError,
    InboundMessage,
    OutboundResult,
    PayloadError,
    health,
)
from onevoice.connectors.email import client, mapping

BATCH = 100  # per poll; the cursor continues from there


class EmailSettings(BaseModel):
    address: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", description="the shared mailbox's address")
    display_name: str | None = Field(None, description="name on outgoing mail, e.g. 'Acme Support'")
    username: str = Field(description="login for IMAP (and SMTP unless smtp_username is set)")
    password: SecretStr
    imap_host: str
    imap_port: int = 993
    imap_ssl: bool = True
    mailbox: str = "INBOX"
    smtp_host: str
    smtp_port: int = 465
    smtp_security: Literal["ssl", "starttls", "none"] = "ssl"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None


class EmailConnector(BaseConnector):
    kind = "email"
    settings_model = EmailSettings
    capabilities = frozenset({Capability.POLLING, Capability.REPLY, Capability.DIRECT_MESSAGE})
    settings: EmailSettings

    def _imap(self):
        s = self.settings
        return client.open_imap(s.imap_host, s.imap_port, s.imap_ssl, s.username, s.password.get_secret_value())

    def _smtp(self):
        s = self.settings
        user = s.smtp_username or s.username
        password = (s.smtp_password or s.password).get_secret_value()
        return client.open_smtp(s.smtp_host, s.smtp_port, s.smtp_security, user, password)

    def poll(self, cursor: str | None) -> tuple[list[InboundMessage], str | None]:
        """Mail that arrived after the cursor ("uidvalidity:uid"), oldest first.

        If the server renumbered the mailbox (UIDVALIDITY changed), everything is read again; the
        Message-ID based ids make intake drop what it already has.
        """
        validity, last = _parse_cursor(cursor)
        with client.imap_errors():
            conn = self._imap()
            try:
                current = client.select(conn, self.settings.mailbox)
                if current != validity:
                    last = 0
                batch = client.fetch_from(conn, last, BATCH)
            finally:
                # The mail is already read; a dirty logout is harmless.
                with contextlib.suppress(Exception):
                    conn.logout()
        now = self.now()
        own = self.settings.address.lower()
        messages: list[InboundMessage] = []
        for uid, data in batch:
            msg = mapping.parse_bytes(data)
            if mapping.is_automatic(msg) or _sender(msg) == own:
                continue
            messages.append(mapping.to_message(data, uid, current, self.settings.mailbox, now))
        new_last = batch[-1][0] if batch else last
        return messages, f"{current}:{new_last}"

    def reply(self, parent: dict, text: str, idempotency_key: str) -> OutboundResult:
        headers = (parent.get("raw") or {}).get("headers") or {}
        to = headers.get("Reply-To") or headers.get("From")
        if not to:
            raise ConnectorError("parent mail has no From or Reply-To to answer", permanent=True)
        parent_id = headers.get("Message-ID") or parent.get("external_id")
        subject = headers.get("Subject") or ""
        msg = EmailMessage()
        msg["From"] = formataddr((self.settings.display_name or "", self.settings.address))
        msg["To"] = to
        msg["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()
        msg["Date"] = format_datetime(self.now())
        # Derived from the idempotency key: a retried send carries the same Message-ID, so the
        # customer's server and client collapse a duplicate delivery.
        msg["Message-ID"] = self.outgoing_message_id(idempotency_key)
        if parent_id:
            msg["In-Reply-To"] = parent_id
            refs = str(headers.get("References") or "").split()
            msg["References"] = " ".join([*refs, parent_id])
        msg["Auto-Submitted"] = "no"
        msg.set_content(text)
        with client.smtp_errors():
            conn = self._smtp()
            try:
                conn.send_message(msg)
            finally:
                # The message was accepted; closing is best effort.
                with contextlib.suppress(Exception):
                    conn.quit()
        return OutboundResult(msg["Message-ID"], None)

    def outgoing_message_id(self, idempotency_key: str) -> str:
        domain = self.settings.address.rsplit("@", 1)[1]
        digest = hashlib.sha256(f"{self.settings.address}:{idempotency_key}".encode()).hexdigest()[:32]
        return f"<onevoice.{digest}@{domain}>"

    def check(self) -> dict:
        try:
            with client.imap_errors():
                conn = self._imap()
                conn.logout()
            with client.smtp_errors():
                self._smtp().quit()
        except ConnectorError as exc:
            return health("revoked" if exc.permanent else "failing", str(exc))
        return health("connected", f"IMAP and SMTP logins work for {self.settings.address}")


def _parse_cursor(cursor: str | None) -> tuple[int | None, int]:
    if not cursor:
        return None, 0
    try:
        validity, uid = cursor.split(":")
        return int(validity), int(uid)
    except ValueError as exc:
        raise PayloadError(f"email cursor must be 'uidvalidity:uid', got {cursor!r}") from exc


def _sender(msg) -> str:
    found = getaddresses([str(msg.get("From") or "")])
    return found[0][1].lower() if found else ""
