"""Sending one email: over SMTP (ONEVOICE_SMTP_*), or as a .eml file under data_dir/mail when no SMTP host is
set (the development and demo stand-in, like every external dependency of OneVoice)."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

from onevoice.settings import Settings


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


def build_message(*, key: str, from_addr: str, to_addr: str, subject: str, text: str, html: str) -> EmailMessage:
    """A multipart/alternative email (plain text first, then HTML). Its Message-ID derives from the idempotence
    key, so that a receiver sees a resend (after a crash mid-send) as the same message."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = from_addr, to_addr, subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = from_addr.rsplit("@", 1)[-1].strip("> ") or "onevoice.invalid"
    message["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class SmtpTransport:
    """One connection per batch would be cheaper; one per message keeps a failure to that message."""

    def __init__(self, settings: Settings) -> None:
        self.host, self.port = settings.smtp_host or "localhost", settings.smtp_port
        self.user = settings.smtp_user
        self.password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        self.tls, self.timeout = settings.smtp_tls, settings.smtp_timeout
        self.ca_file = settings.smtp_ca_file

    def send(self, message: EmailMessage) -> None:
        # The certificate and the host name are always checked; a private CA is trusted when configured.
        context = ssl.create_default_context()
        if self.ca_file:
            context.load_verify_locations(cafile=str(self.ca_file))
        if self.tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.tls == "starttls":
                client.starttls(context=context)
            if self.user:
                client.login(self.user, self.password or "")
            client.send_message(message)


class FileTransport:
    """Writes each message to <directory>/<Message-ID>.eml (read them with any mail program)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = str(message["Message-ID"] or make_msgid()).strip("<>").split("@")[0]
        (self.directory / f"{name}.eml").write_bytes(bytes(message))


def transport_from(settings: Settings) -> Transport:
    if settings.smtp_host:
        return SmtpTransport(settings)
    return FileTransport(settings.data_dir / "mail")
