"""Effects: what a payment Decision asks the handler layer to do, in one DB transaction.

Every effect is a small frozen dataclass holding only what the pure function knows; the handler
fills in the rest from the attempt it loaded (account, invoice, attempt ids, `now`). Amounts are
always positive; the effect type (and `EntryKind`) says which way the money goes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from domain.invoices import Invoice, InvoiceStatus
from domain.ledger import EntryKind
from domain.money import Money


class CustomerMessage(enum.StrEnum):
    """Payment notifications to the customer (dunning notices live in domain/dunning.py)."""

    PAYMENT_RECEIVED = "payment_received"
    PAYMENT_FAILED = "payment_failed"  # soft decline: we will retry (or retries are exhausted)
    NEW_METHOD_NEEDED = "new_method_needed"  # hard decline: this method can never work again
    ACTION_REQUIRED = "action_required"  # authenticate / update the card, then it is retried
    PAYMENT_REVERSED = "payment_reversed"  # late failure or chargeback: the amount is owed again
    REFUND_ISSUED = "refund_issued"
    # The bank ended the direct-debit mandate (cancelled, failed, expired): no payment failed,
    # but nothing more can be collected until the customer sets up a new method.
    MANDATE_ENDED = "mandate_ended"


@dataclass(frozen=True, slots=True)
class CreditLedger:
    """Append a credit entry (`ledger.entry(kind, amount=...)` signs it negative)."""

    amount: Money
    kind: EntryKind = EntryKind.PAYMENT_SETTLED
    memo: str = ""


@dataclass(frozen=True, slots=True)
class DebitLedger:
    """Append a debit entry: PAYMENT_REVERSED, CHARGEBACK or REFUND (owed again)."""

    kind: EntryKind
    amount: Money
    memo: str = ""


@dataclass(frozen=True, slots=True)
class AdjustInvoicePaid:
    """`invoice.amount_paid += delta` (negative on a reversal), then recompute its status
    with `invoice_status_after_payment` (paid when nothing is due; reopened when due again).
    """

    delta: Money


@dataclass(frozen=True, slots=True)
class ScheduleRetry:
    """Insert a new SCHEDULED attempt on the same invoice and payment method.

    The handler copies `schedule_days` and `first_failed_at` onto it (that is what keeps retries
    stable across configuration changes), sets `scheduled_for=at`, `number`, `reason="retry"`,
    and the amount still due on the invoice.
    """

    at: datetime
    schedule_days: tuple[int, ...]
    first_failed_at: datetime
    number: int


@dataclass(frozen=True, slots=True)
class CancelScheduledRetries:
    """Money arrived on an attempt that had already failed: CANCEL the invoice's SCHEDULED
    attempts (through `apply_outcome(CancelRequested(...))`, so each is itself a transition)."""

    reason: str


@dataclass(frozen=True, slots=True)
class FlagMethodUnusable:
    """Set the account's payment method `usable=False` (hard decline); new_method_needed follows."""

    reason: str


@dataclass(frozen=True, slots=True)
class NotifyCustomer:
    """Queue a customer message; the notifier dedups on (attempt id, kind)."""

    kind: CustomerMessage


@dataclass(frozen=True, slots=True)
class ReconcileWithProvider:
    """Enqueue a lookup at the provider by the attempt's idempotency key / provider_ref; its
    result (Charged, Pending, Declined, NotFound…) comes back through `apply_outcome`."""


@dataclass(frozen=True, slots=True)
class RetryInAttempt:
    """Transient fault: call the provider again *inside this attempt*, same idempotency key,
    after `after_seconds` (None: the caller's backoff). The attempt row is not changed. When the
    caller's transient retries are exhausted it must pass `Unknown`, never give up silently."""

    after_seconds: float | None


Effect = (CreditLedger | DebitLedger | AdjustInvoicePaid | ScheduleRetry | CancelScheduledRetries
          | FlagMethodUnusable | NotifyCustomer | ReconcileWithProvider | RetryInAttempt)


def ledger_delta(effects: tuple[Effect, ...], currency: str) -> Money:
    """The signed sum the effects add to the ledger (debit +, credit -): for tests and audits."""
    total = Money.zero(currency)
    for effect in effects:
        if isinstance(effect, CreditLedger):
            total = total - effect.amount
        elif isinstance(effect, DebitLedger):
            total = total + effect.amount
    return total


def invoice_status_after_payment(invoice: Invoice) -> InvoiceStatus:
    """An invoice's status once `AdjustInvoicePaid` has changed its `amount_paid`.

    Nothing due → PAID. Anything due, either way, → OPEN, so the next invoice's balance forward
    brings it over: a reversed amount (owed again) or an overpayment (a credit, carried
    negatively). That also reopens a CARRIED_FORWARD invoice that is paid or reversed late.
    VOID and UNCOLLECTIBLE are decisions of their own and stay.
    """
    if invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.PAID,
                              InvoiceStatus.CARRIED_FORWARD):
        return invoice.status
    if invoice.amount_due.is_zero():
        return InvoiceStatus.CARRIED_FORWARD if invoice.status is InvoiceStatus.CARRIED_FORWARD \
            else InvoiceStatus.PAID
    return InvoiceStatus.OPEN
