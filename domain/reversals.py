"""After the money moved: reversals (chargeback, late failure, refund) and their cancellations.

Not ranked like the attempt lifecycle: each reversal applies once per provider ref, whatever the
order. A cancellation seen before its reversal is remembered so the reversal then debits nothing;
a reversal (or cancellation) seen before the charge itself implies the charge. Either way the
ledger ends with the same sum as if everything had arrived in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from domain.events import (
    AdjustInvoicePaid,
    CreditLedger,
    CustomerMessage,
    DebitLedger,
    Effect,
    NotifyCustomer,
)
from domain.ledger import EntryKind
from domain.money import Money
from domain.outcomes import Reversal, ReversalCancelled, ReversalKind

if TYPE_CHECKING:  # payments imports this module; the type is only for annotations
    from domain.payments import PaymentAttempt

_ENTRY = {ReversalKind.LATE_FAILURE: EntryKind.PAYMENT_REVERSED,
          ReversalKind.CHARGEBACK: EntryKind.CHARGEBACK,
          ReversalKind.REFUND: EntryKind.REFUND}


@dataclass(frozen=True, slots=True)
class ReversalStep:
    """The effects of one reversal event and the attempt's new reversal bookkeeping."""

    effects: tuple[Effect, ...]
    amount_reversed: Money
    reversal_refs: tuple[str, ...]
    cancelled_reversal_refs: tuple[str, ...]
    note: str


def apply_reversal(*, attempt: PaymentAttempt, event: Reversal | ReversalCancelled,
                   settled: bool) -> ReversalStep | str:
    """The step for `event`, or a note saying why it changes nothing (duplicate).

    `settled`: the attempt is already SUCCEEDED/REVERSED (else the charge is implied).
    """
    if isinstance(event, Reversal):
        return _reversal(attempt, event, settled)
    return _cancelled(attempt, event, settled)


def _implied_charge(attempt: PaymentAttempt, settled: bool) -> list[Effect]:
    if settled:
        return []
    return [CreditLedger(attempt.amount, memo=f"payment {attempt.id} (implied by a reversal)")]


def _reversal(attempt: PaymentAttempt, event: Reversal, settled: bool) -> ReversalStep | str:
    if event.provider_ref in attempt.reversal_refs:
        return f"duplicate reversal {event.provider_ref}"
    if event.provider_ref in attempt.cancelled_reversal_refs:
        return f"reversal {event.provider_ref} was already cancelled"
    effects = _implied_charge(attempt, settled)
    paid_delta = -event.amount + (Money.zero(event.amount.currency) if settled else attempt.amount)
    effects.append(DebitLedger(_ENTRY[event.kind], event.amount,
                               memo=f"{event.kind} {event.provider_ref}"))
    if not paid_delta.is_zero():
        effects.append(AdjustInvoicePaid(paid_delta))
    effects.append(NotifyCustomer(CustomerMessage.REFUND_ISSUED if event.kind is ReversalKind.REFUND
                                  else CustomerMessage.PAYMENT_REVERSED))
    return ReversalStep(effects=tuple(effects), amount_reversed=attempt.reversed + event.amount,
                        reversal_refs=(*attempt.reversal_refs, event.provider_ref),
                        cancelled_reversal_refs=attempt.cancelled_reversal_refs,
                        note=f"{event.kind} of {event.amount} ({event.code or 'no code'}): "
                             "owed again")


def _cancelled(attempt: PaymentAttempt, event: ReversalCancelled,
               settled: bool) -> ReversalStep | str:
    if event.provider_ref in attempt.cancelled_reversal_refs:
        return f"duplicate reversal cancellation {event.provider_ref}"
    effects = _implied_charge(attempt, settled)
    paid_delta = Money.zero(event.amount.currency) if settled else attempt.amount
    reversed_amount = attempt.reversed
    if event.provider_ref in attempt.reversal_refs:
        effects.append(CreditLedger(event.amount, kind=EntryKind.CHARGEBACK_REVERSED,
                                    memo=f"reversal {event.provider_ref} cancelled"))
        paid_delta = paid_delta + event.amount
        reversed_amount = reversed_amount - event.amount
        note = f"reversal {event.provider_ref} cancelled: {event.amount} credited back"
    else:
        # Arrived before the reversal itself: remembered, so that reversal will debit nothing.
        note = f"reversal {event.provider_ref} cancelled before it was seen"
    if not paid_delta.is_zero():
        effects.append(AdjustInvoicePaid(paid_delta))
    return ReversalStep(effects=tuple(effects), amount_reversed=reversed_amount,
                        reversal_refs=attempt.reversal_refs,
                        cancelled_reversal_refs=(*attempt.cancelled_reversal_refs,
                                                 event.provider_ref),
                        note=note)
