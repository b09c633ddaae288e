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


# --- After the money moved: provider events that take it back, or give it back -----------------


class ReversalKind(enum.StrEnum):
    #: The bank failed a direct debit after it was confirmed (GoCardless `late_failure`, or a
    #: `failed` payment that had been `confirmed`: the gateway maps it to a Reversal).
    LATE_FAILURE = "late_failure"
    #: The payer disputed the payment and the funds were withdrawn (Stripe dispute, GoCardless
    #: `charged_back`).
    CHARGEBACK = "chargeback"
    #: We handed money back (Stripe refund, GoCardless refund).
    REFUND = "refund"


@dataclass(frozen=True, slots=True)
class Reversal:
    """Money collected by the attempt was taken back; `amount` is owed again.

    `provider_ref` names the reversal itself (dispute id, refund id, GoCardless event id for a
    late failure): applying the same reversal twice must not debit twice.
    """

    kind: ReversalKind
    amount: Money
    provider_ref: str
    code: str = ""


@dataclass(frozen=True, slots=True)
class ReversalCancelled:
    """A reversal was undone (dispute won, chargeback cancelled, refund failed): `amount` back.

    `provider_ref` is the *reversal's* ref (the dispute / refund id), not a new one.
    """

    amount: Money
    provider_ref: str
    code: str = ""


ProviderEvent = Reversal | ReversalCancelled


# --- What we decide ourselves ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CancelRequested:
    """Stop an attempt that is not in flight: invoice carried forward or paid otherwise, operator.

    Goes through the same transition function so a cancel can never race a provider outcome.
    """

    reason: str
