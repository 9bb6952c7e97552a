from __future__ import annotations

import socket
from email import policy
from email.parser import BytesParser

import pytest

from onevoice.connectors import registry
from onevoice.connectors.base import AuthExpired, ConnectorError

from .cases.base import NOW
from .cases.email import CONFIG, PASSWORD, USER, eml, servers
from .mailserver import Mailbox

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")


def build(s: dict, **extra):
    cfg = {**CONFIG, "imap_port": s["imap_port"], "smtp_port": s["smtp_port"], **extra}
    return registry.build("email", cfg, now=lambda: NOW)


def test_poll_maps_mail_and_resumes_from_the_cursor() -> None:
    with servers() as s:
        c = build(s)
        msgs, cursor = c.poll(None)
        assert cursor == "1741900000:4"
        first = msgs[0]
        assert first["author"] == {
            "external_id": "maria.keller@example.net",
            "handle": "maria.keller@example.net",
            "name": "Maria Keller",
            "followers": None,
        }
        assert first["text"].startswith("Refund for order 55120 - kettle stopped heating\n\nHello,")
        assert "refund or a replacement" in first["text"] and "—" in first["text"]
        assert first["created_at"] == "2025-03-14T15:41:02+01:00"
        assert first["raw"]["headers"]["Message-ID"] == "<CAF=k2Zp3Tq8w@mail.example.net>"
        german = msgs[2]
        assert german["author"]["name"] == "Jürgen Müller"
        assert german["text"] == "Anfrage Händler\n\nGuten Tag,\n\nwir möchten Händler werden."

        assert c.poll(cursor) == ([], cursor)
        s["_mailbox"].append(eml("complaint.eml").replace(b"CAF=k2Zp3Tq8w", b"CAF=k2Zp4new"))
        newer, cursor2 = c.poll(cursor)
        assert [m["external_id"] for m in newer] == ["<CAF=k2Zp4new@mail.example.net>"]
        assert cursor2 == "1741900000:5"


def test_renumbered_mailbox_is_read_again_with_the_same_ids() -> None:
    with servers() as s:
        c = build(s)
        before, cursor = c.poll(None)
        s["_mailbox"].uidvalidity += 1
        after, cursor2 = c.poll(cursor)
    assert [m["external_id"] for m in after] == [m["external_id"] for m in before]
    assert cursor2 == "1741900001:4"


def test_reply_threads_and_reuses_the_message_id_on_retry() -> None:
    with servers() as s:
        c = build(s)
        msgs, _ = c.poll(None)
        parent = msgs[1]  # Maria's answer inside the thread
        first = c.reply(parent, "Great, the replacement ships today.", "outbox-77")
        again = c.reply(parent, "Great, the replacement ships today.", "outbox-77")
        received = s["_smtp"].sink.received
    assert first == again and first.external_id.endswith("@acme.example>")
    mail_from, rcpt, data = received[0]
    assert (mail_from, rcpt) == ("support@acme.example", ["maria.keller@example.net"])
    sent = BytesParser(policy=policy.default).parsebytes(data)
    assert sent["Subject"] == "Re: Refund for order 55120 - kettle stopped heating"
    assert sent["In-Reply-To"] == "<CAF=k2Zp9Vb1r@mail.example.net>"
    assert sent["References"].split() == [
        "<CAF=k2Zp3Tq8w@mail.example.net>",
        "<onevoice.5d41402abc4b2a76b9719d911017c592@acme.example>",
        "<CAF=k2Zp9Vb1r@mail.example.net>",
    ]
    assert sent["From"] == "Acme Support <support@acme.example>"
    assert sent["Message-ID"] == first.external_id
    assert sent.get_content().strip() == "Great, the replacement ships today."


def test_wrong_password_is_auth_expired_and_shown_as_revoked() -> None:
    with servers() as s:
        c = build(s, password="old-password")
        with pytest.raises(AuthExpired):
            c.poll(None)
        h = c.check()
        assert h["status"] == "revoked" and "AUTHENTICATIONFAILED" in h["detail"]
        assert build(s).check()["status"] == "connected"


@pytest.mark.parametrize(
    ("answer", "permanent"), [("451 4.7.1 Greylisted, retry later", False), ("550 5.1.1 Mailbox unavailable", True)]
)
def test_smtp_refusals_are_transient_or_permanent_by_code(answer: str, permanent: bool) -> None:
    with servers() as s:
        s["_smtp"].sink.reject_with = answer
        c = build(s)
        msgs, _ = c.poll(None)
        with pytest.raises(ConnectorError) as err:
            c.reply(msgs[0], "hello", "k")
    assert err.value.permanent is permanent
    assert err.value.platform_code == int(answer[:3])


def test_unreachable_server_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    c = build({"imap_port": closed, "smtp_port": closed})
    with pytest.raises(ConnectorError) as err:
        c.poll(None)
    assert not err.value.permanent and not isinstance(err.value, AuthExpired)


def test_own_and_automatic_mail_is_not_ingested() -> None:
    box = Mailbox(USER, PASSWORD)
    box.append(eml("autoreply.eml"))
    box.append(
        eml("complaint.eml").replace(
            b"From: Maria Keller <maria.keller@example.net>", b"From: Acme Support <support@acme.example>"
        )
    )
    with servers(box) as s:
        msgs, cursor = build(s).poll(None)
    assert msgs == [] and cursor == "1741900000:2"
