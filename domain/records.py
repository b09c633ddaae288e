"""Records the system keeps beside the billing entities: outbox, audit, wires, webhooks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from domain.money import Money


@dataclass(frozen=True, slots=True)
class Notification:
    """A customer e-mail in the outbox: written in the business transaction, sent after it.

    `dedupe_key` (e.g. "payment_failed:<attempt id>") makes queueing the same notice twice a
    no-op; it is also the notifier's idempotency key.
    """

    id: str
    account_id: str
    kind: str
    dedupe_key: str
    to_address: str
    subject: str
    body_text: str
    created_at: datetime
    body_html: str | None = None
    sent_at: datetime | None = None
    #: Delivery attempts so far (failed ones included).
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what to which entity, and why (operator actions, system decisions)."""

    at: datetime
    actor: str
    action: str
    target: str
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UnmatchedTransfer:
    """A received wire whose reference matches no invoice, kept for an operator to review."""

    id: str
    reference: str
    amount: Money
    received_on: date
    note: str = ""
    resolved: bool = False


@dataclass(frozen=True, slots=True)
class BankTransaction:
    """A transfer as the bank's statement names it, recorded once: a second `wires receive`
    with the same `bank_ref` finds it and changes nothing. `invoice_id` is None when it
    matched no invoice (it was kept as an unmatched transfer)."""

    bank_ref: str
    reference: str
    amount: Money
    received_on: date
    invoice_id: str | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A provider event, stored once by (provider, event id) before it is processed."""

    provider: str
    event_id: str
    type: str
    payload: dict[str, Any]
    received_at: datetime
    processed_at: datetime | None = None
    #: The provider object the event is about (PaymentIntent, charge, dispute, payment or
    #: mandate id): events of one object are looked at together to tell their order.
    resource_id: str | None = None
    #: When the provider says it happened (Stripe `created`, GoCardless `created_at`).
    occurred_at: datetime | None = None
    #: Processing tries that did not finish it (parked or failed); the sweeper re-drives it
    #: at `next_attempt_at`. `note` says why it waits, or what processing it did.
    attempts: int = 0
    next_attempt_at: datetime | None = None
    note: str = ""

    @property
    def status(self) -> str:
        """processed, pending (never tried) or parked (tried, waiting for a retry)."""
        if self.processed_at is not None:
            return "processed"
        return "parked" if self.attempts else "pending"
