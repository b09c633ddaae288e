"""SmtpNotifier against a real SMTP server (aiosmtpd) listening on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from adapters.notifier import InvalidSmtpUrl, SmtpNotifier, parse_smtp_url
from domain.ports_notify import NotificationError

SENDER = "billing@paycollect.test"


class Inbox:
    """An aiosmtpd handler keeping every delivered message."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def free_port() -> int:
    # aiosmtpd's Controller must know its port up front (it connects to it to start).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def check_login(server: Any, session: Any, envelope: Any, mechanism: str,
                auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"mailer", b"s3cr:t")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port,
                            authenticator=check_login, auth_require_tls=False)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert isinstance(part, EmailMessage)
    # SMTP carries CRLF line ends; compare with what was sent.
    return str(part.get_content()).replace("\r\n", "\n")


def test_a_message_arrives_with_its_subject_body_and_a_message_id_from_its_key(
        smtp_server: tuple[Inbox, int]) -> None:
    # Given a notifier pointed at the local server, with credentials (colon percent-encoded)
    inbox, port = smtp_server
    notifier = SmtpNotifier(smtp_url=f"smtp://mailer:s3cr%3At@127.0.0.1:{port}", sender=SENDER)
    # When a French notice is sent
    notifier.send(to="compta@acme.test", subject="Rappel : la facture INV-1 est impayée",
                  text="Bonjour,\nLa facture de 1\u202f234,56\u00a0€ est impayée.\n",
                  idempotency_key="first_notice.inv_1")
    # Then it arrives intact, its Message-ID derived from the idempotency key
    [message] = inbox.messages
    assert inbox.recipients == [["compta@acme.test"]]
    assert message["Subject"] == "Rappel : la facture INV-1 est impayée"
    assert message["From"] == SENDER
    assert message["Message-ID"] == "<first_notice.inv_1@paycollect.test>"
    assert body(message, "plain") == "Bonjour,\nLa facture de 1\u202f234,56\u00a0€ est impayée.\n"


def test_a_retried_message_carries_the_same_message_id(smtp_server: tuple[Inbox, int]) -> None:
    # Given a notice sent twice under one key (a retry after a lost acknowledgement)
    inbox, port = smtp_server
    notifier = SmtpNotifier(smtp_url=f"smtp://127.0.0.1:{port}", sender=SENDER)
    for _ in range(2):
        notifier.send(to="ap@acme.test", subject="Bank transfer instructions", text="Pay us.",
                      idempotency_key="wire_instructions:inv_42")
    # Then both copies are recognisably the same message
    ids = {message["Message-ID"] for message in inbox.messages}
    assert len(inbox.messages) == 2
    assert len(ids) == 1
    [message_id] = ids
    assert message_id.startswith("<wire_instructions.inv_42.")
    assert message_id.endswith(
        "@paycollect.test>")
    assert inbox.messages[0]["X-Paycollect-Idempotency-Key"] == "wire_instructions:inv_42"


def test_an_html_alternative_travels_with_the_text(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    notifier = SmtpNotifier(smtp_url=f"smtp://127.0.0.1:{port}", sender=SENDER)
    notifier.send(to="ap@acme.test", subject="Invoice", text="See attached.",
                  html="<p>See <b>below</b>.</p>", idempotency_key="invoice.inv_7")
    [message] = inbox.messages
    assert body(message, "plain").strip() == "See attached."
    assert body(message, "html").strip() == "<p>See <b>below</b>.</p>"


def test_wrong_credentials_are_a_notification_error(smtp_server: tuple[Inbox, int]) -> None:
    # Given a server that refuses the login
    inbox, port = smtp_server
    notifier = SmtpNotifier(smtp_url=f"smtp://mailer:wrong@127.0.0.1:{port}", sender=SENDER)
    # When sending / Then the caller gets the port's error and nothing was delivered
    with pytest.raises(NotificationError):
        notifier.send(to="ap@acme.test", subject="s", text="t", idempotency_key="k1")
    assert inbox.messages == []


def test_an_unreachable_server_is_a_notification_error() -> None:
    notifier = SmtpNotifier(smtp_url=f"smtp://127.0.0.1:{free_port()}", sender=SENDER,
                            timeout_seconds=2)
    with pytest.raises(NotificationError):
        notifier.send(to="ap@acme.test", subject="s", text="t", idempotency_key="k2")


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://mail.example.test", ("mail.example.test", 25, "plain", None, None)),
    ("smtp+starttls://u%40x:p%2Fw@mail.example.test",
     ("mail.example.test", 587, "starttls", "u@x", "p/w")),
    ("smtps://mail.example.test:2465", ("mail.example.test", 2465, "tls", None, None)),
])
def test_smtp_urls_name_the_host_port_security_and_credentials(
        url: str, expected: tuple[object, ...]) -> None:
    target = parse_smtp_url(url)
    assert (target.host, target.port, target.security, target.username,
            target.password) == expected


@pytest.mark.parametrize("url", ["http://mail.example.test", "smtp://", "smtp://h:port"])
def test_a_malformed_smtp_url_is_refused(url: str) -> None:
    with pytest.raises(InvalidSmtpUrl):
        parse_smtp_url(url)
