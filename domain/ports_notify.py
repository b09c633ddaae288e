"""The notifier port: how the domain's shell tells a customer something by e-mail.

Adapters: `adapters.notifier.SmtpNotifier` (a real SMTP server) and
`adapters.notifier.RecordingNotifier` (in memory: the embedded default and tests).
"""

from __future__ import annotations

from typing import Protocol


class NotificationError(RuntimeError):
    """The message could not be handed over; the caller may retry with the same key."""


class Notifier(Protocol):
    def send(self, *, to: str, subject: str, text: str, html: str | None = None,
             idempotency_key: str) -> None:
        """Send one message to `to`.

        `idempotency_key` is the same on every retry of the same notice (e.g.
        "wire_instructions:<invoice id>"), so a resent message is recognisable downstream.

        Raises:
            NotificationError: the message was not confirmed as accepted; retry with the
                same key.
        """
        ...
