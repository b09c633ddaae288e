"""Notifiers: SMTP for real mail, an in-memory recorder for the embedded mode and tests.

Both satisfy `domain.ports_notify.Notifier`.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
import threading
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

from domain.ports_notify import NotificationError

#: URL scheme → (default port, how the connection is secured).
SCHEMES: dict[str, tuple[int, str]] = {
    "smtp": (25, "plain"),
    "smtp+starttls": (587, "starttls"),
    "smtps": (465, "tls"),
}

#: Characters allowed on the left of a Message-ID's "@" (RFC 5322 dot-atom-text).
_ID_LEFT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")


class InvalidSmtpUrl(ValueError):
    """SMTP_URL is malformed; the message says how."""


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    host: str
    port: int
    security: str
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpTarget:
    """`smtp://user:pass@host:port`, `smtp+starttls://…` or `smtps://…` → SmtpTarget."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise InvalidSmtpUrl(
            f"SMTP_URL must look like smtp[+starttls]://user:pass@host:port, got scheme "
            f"{parts.scheme!r} and host {parts.hostname!r}")
    default_port, security = SCHEMES[parts.scheme]
    try:
        port = parts.port or default_port
    except ValueError:
        raise InvalidSmtpUrl("SMTP_URL has an invalid port") from None
    # Credentials may hold reserved characters, which the URL carries percent-encoded.
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return SmtpTarget(parts.hostname, port, security, username, password)


def message_id(*, idempotency_key: str, domain: str) -> str:
    """A Message-ID derived from the key only, so every retry of a notice carries the same one.

    A key with characters a Message-ID cannot hold is cleaned and suffixed by a hash of the
    original, so two different keys never share an id.
    """
    if _ID_LEFT.fullmatch(idempotency_key):
        left = idempotency_key
    else:
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]
        left = f"{re.sub(r'[^A-Za-z0-9._-]', '.', idempotency_key)}.{digest}"
    return f"<{left}@{domain}>"


def build_message(*, sender: str, to: str, subject: str, text: str, html: str | None,
                  idempotency_key: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = sender.rpartition("@")[2].rstrip(">") or "paycollect.invalid"
    message["Message-ID"] = message_id(idempotency_key=idempotency_key, domain=domain)
    message["X-Paycollect-Idempotency-Key"] = idempotency_key
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


class SmtpNotifier:
    """Sends each message over a fresh SMTP connection (notices are rare; no pool to go stale)."""

    def __init__(self, *, smtp_url: str, sender: str, timeout_seconds: float = 30.0) -> None:
        self._target = parse_smtp_url(smtp_url)
        self._sender = sender
        self._timeout = timeout_seconds

    def send(self, *, to: str, subject: str, text: str, html: str | None = None,
             idempotency_key: str) -> None:
        message = build_message(sender=self._sender, to=to, subject=subject, text=text,
                                html=html, idempotency_key=idempotency_key)
        try:
            with self._connect() as smtp:
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            raise NotificationError(f"SMTP delivery to {to} failed: {error}") from error

    def _connect(self) -> smtplib.SMTP:
        target = self._target
        smtp: smtplib.SMTP
        if target.security == "tls":
            smtp = smtplib.SMTP_SSL(target.host, target.port, timeout=self._timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(target.host, target.port, timeout=self._timeout)
        try:
            if target.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if target.username is not None:
                smtp.login(target.username, target.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


@dataclass(frozen=True, slots=True)
class SentMessage:
    to: str
    subject: str
    text: str
    html: str | None
    idempotency_key: str


class RecordingNotifier:
    """Keeps the messages in memory, retries included, in the order they were sent: the
    embedded default and the tests. Only the last `keep` are kept, so a worker left without
    SMTP does not grow without bound (the outbox table keeps every message either way)."""

    def __init__(self, keep: int = 10_000) -> None:
        # Embedded workers run on threads and may notify concurrently.
        self._lock = threading.Lock()
        self._messages: deque[SentMessage] = deque(maxlen=keep)

    def send(self, *, to: str, subject: str, text: str, html: str | None = None,
             idempotency_key: str) -> None:
        with self._lock:
            self._messages.append(SentMessage(to, subject, text, html, idempotency_key))

    @property
    def messages(self) -> tuple[SentMessage, ...]:
        with self._lock:
            return tuple(self._messages)

    def sent_to(self, address: str) -> tuple[SentMessage, ...]:
        return tuple(m for m in self.messages if m.to == address)
