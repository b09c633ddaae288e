"""What a payment provider said about one attempt, in the domain's words.

Gateways (adapters/stripe_gateway.py, adapters/gocardless_gateway.py, adapters/wire_publisher.py)
return exactly these types and never provider SDK objects. The single transition function in
domain/payments.py turns an outcome into state changes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from domain.money import Money


class DeclineKind(enum.StrEnum):
    #: Retry on the schedule (insufficient funds, processing error, try again later…).
    SOFT = "soft"
    #: Never retry; the account needs a new payment method (lost/stolen card, account closed…).
    HARD = "hard"
    #: The customer must act (authenticate, update an expired card); no blind retry.
    CUSTOMER_ACTION = "customer_action"


@dataclass(frozen=True, slots=True)
class Charged:
    """The money is collected (card captured, direct debit confirmed, wire received)."""

    provider_ref: str
    amount: Money


@dataclass(frozen=True, slots=True)
class Pending:
    """Accepted by the provider; the outcome comes later (direct debit, card processing)."""

    provider_ref: str
    amount: Money
    #: When the provider expects to collect (direct debit charge date), if known.
    expected_on: date | None = None


@dataclass(frozen=True, slots=True)
class AwaitingTransfer:
    """Wire instructions were published; the customer's finance team must initiate payment."""

    reference: str
    amount: Money
    due_on: date


@dataclass(frozen=True, slots=True)
class Declined:
    """The provider refused the payment; `kind` decides what happens next."""

    kind: DeclineKind
    code: str
    message: str = ""
    provider_ref: str | None = None
    #: GoCardless `will_attempt_retry`: the provider retries itself, so we must not.
    provider_will_retry: bool = False


@dataclass(frozen=True, slots=True)
class TransientFailure:
    """Timeout, connection error, 5xx or 429: retry inside the attempt with the same key."""

    reason: str
    retry_after_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Unknown:
    """We cannot tell whether money moved (retries exhausted, connection dropped after commit).

    Never re-charge after this: reconcile with the provider first.
    """

    reason: str


@dataclass(frozen=True, slots=True)
class NotFound:
    """Reconciliation asked the provider and it has no payment for this attempt."""


Outcome = Charged | Pending | AwaitingTransfer | Declined | TransientFailure | Unknown | NotFound
