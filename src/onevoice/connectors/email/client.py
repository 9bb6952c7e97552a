"""IMAP and SMTP sessions with the mailbox's failures translated into connector errors."""

from __future__ import annotations

import imaplib
import re
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

from onevoice.connectors.base import AuthExpired, ConnectorError

TIMEOUT = 30


@contextmanager
def imap_errors() -> Iterator[None]:
    try:
        yield
    except imaplib.IMAP4.error as exc:
        text = str(exc)
        if "AUTHENTICATIONFAILED" in text.upper() or "LOGIN" in text.upper() or "AUTHENTICATE" in text.upper():
            raise AuthExpired(f"IMAP login refused: {text}", platform_code="AUTHENTICATIONFAILED") from exc
        raise ConnectorError(f"IMAP error: {text}", permanent=False) from exc
    except (OSError, imaplib.IMAP4.abort) as exc:
        raise ConnectorError(f"IMAP server unreachable: {exc}", permanent=False) from exc


@contextmanager
def smtp_errors() -> Iterator[None]:
    try:
        yield
    except smtplib.SMTPAuthenticationError as exc:
        raise AuthExpired(f"SMTP login refused: {exc.smtp_error!r}", platform_code=exc.smtp_code) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        codes = {code for code, _ in exc.recipients.values()}
        transient = all(400 <= c < 500 for c in codes)
        raise ConnectorError(
            f"SMTP refused the recipients: {exc.recipients}",
            permanent=not transient,
            platform_code=min(codes) if codes else None,
        ) from exc
    except smtplib.SMTPResponseException as exc:
        # 4xx is "try again later" (greylisting, full queue); 5xx is a final no.
        raise ConnectorError(
            f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=exc.smtp_code >= 500, platform_code=exc.smtp_code
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise ConnectorError(f"SMTP server unreachable: {exc}", permanent=False) from exc


def open_imap(host: str, port: int, use_ssl: bool, username: str, password: str) -> imaplib.IMAP4:
    conn = (
        imaplib.IMAP4_SSL(host, port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT)
        if use_ssl
        else imaplib.IMAP4(host, port, timeout=TIMEOUT)
    )
    conn.login(username, password)
    return conn


def open_smtp(host: str, port: int, security: str, username: str, password: str) -> smtplib.SMTP:
    if security == "ssl":
        conn: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=ssl.create_default_context())
    else:
        conn = smtplib.SMTP(host, port, timeout=TIMEOUT)
        if security == "starttls":
            conn.starttls(context=ssl.create_default_context())
    if username:
        conn.login(username, password)
    return conn


_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


def select(conn: imaplib.IMAP4, mailbox: str) -> int:
    """Open the mailbox read-only (we never change flags) and return its UIDVALIDITY."""
    typ, _ = conn.select(mailbox, readonly=True)
    if typ != "OK":
        raise ConnectorError(f"cannot open mailbox {mailbox!r}", permanent=True)
    typ, data = conn.response("UIDVALIDITY")
    if data and data[0]:
        return int(data[0])
    raise ConnectorError("IMAP server did not report UIDVALIDITY", permanent=False)


def fetch_from(conn: imaplib.IMAP4, after_uid: int, limit: int) -> list[tuple[int, bytes]]:
    """Messages with UID > after_uid, oldest first, at most `limit`."""
    typ, data = conn.uid("SEARCH", None, f"UID {after_uid + 1}:*")
    if typ != "OK":
        raise ConnectorError(f"IMAP search failed: {data!r}", permanent=False)
    # "n:*" always matches the newest message, even when its UID is below n; filter those out.
    uids = sorted(u for u in (int(x) for x in (data[0] or b"").split()) if u > after_uid)[:limit]
    out: list[tuple[int, bytes]] = []
    for uid in uids:
        typ, parts = conn.uid("FETCH", str(uid), "(UID BODY.PEEK[])")
        if typ != "OK":
            raise ConnectorError(f"IMAP fetch of UID {uid} failed", permanent=False)
        body = next((p[1] for p in parts if isinstance(p, tuple)), None)
        if body is not None:
            out.append((uid, body))
    return out
