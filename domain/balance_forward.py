"""Balance forward: what earlier open invoices bring onto a new invoice.

The rule (docs/architecture.md): for each earlier invoice still open, the *uncovered*
amount is ``amount_due - in_flight`` (the sum of its IN_FLIGHT attempts), floored at 0 when
positive money is in flight. The uncovered amounts add up to the new invoice's
`previous_amount_due` (negative for a credit). Each earlier invoice gets
``amount_carried += uncovered``; if nothing is in flight on it, it closes as
`carried_forward` onto the new invoice (and its scheduled retries are cancelled).

Worked examples (EUR cents):
- invoice A due 5000, nothing in flight → carries 5000, closes; previous amount due 5000.
- invoice B due 5000, a 5000 direct debit pending → carries 0, stays open: if the debit
  fails, B still shows 5000 due and the next invoice brings it forward.
- invoice C due 5000, 2000 in flight → carries 3000, stays open with 2000 due.
- invoice D due -1000 (overpaid), nothing in flight → carries -1000, closes; the new
  invoice's previous amount due is reduced by 10.00.

Conservation: the new invoice's amount due rises by exactly what the earlier ones lose, so
the sum of the open invoices' amounts due moves only by the new invoice's charges.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from domain.invoices import Invoice, InvoiceStatus
from domain.money import Money, sum_money


@dataclass(frozen=True, slots=True)
class OpenBalance:
    """An earlier open invoice: what it still asks for and what is being collected for it."""

    invoice_id: str
    amount_due: Money
    #: The sum of its attempts in IN_FLIGHT_STATUSES (zero if none).
    in_flight: Money


@dataclass(frozen=True, slots=True)
class Carry:
    """What one earlier invoice hands over to the new invoice."""

    invoice_id: str
    amount: Money
    #: True when nothing is in flight on it: close it as carried_forward.
    closes: bool


@dataclass(frozen=True, slots=True)
class BalanceForward:
    previous_amount_due: Money
    carries: tuple[Carry, ...]


def uncovered(balance: OpenBalance) -> Money:
    """The part of `balance.amount_due` no in-flight payment is collecting."""
    left = balance.amount_due - balance.in_flight
    if balance.in_flight.is_positive() and left.is_negative():
        return Money.zero(left.currency)
    return left


def bring_forward(earlier: Iterable[OpenBalance], currency: str) -> BalanceForward:
    """A new invoice's previous amount due in `currency`, and what each earlier one carries.

    Parameters: `earlier` is every earlier invoice of the account still `open`, in any order.
    Returns: the carries in the given order, one per earlier invoice (zero carries included,
        so the caller can close a fully-settled-but-open invoice too).
    Raises: CurrencyMismatch if an earlier invoice is in another currency.
    """
    carries = tuple(
        Carry(balance.invoice_id, uncovered(balance), closes=balance.in_flight.is_zero())
        for balance in earlier
    )
    return BalanceForward(sum_money([carry.amount for carry in carries], currency), carries)


def apply_carry(invoice: Invoice, carry: Carry, *, new_invoice_id: str) -> Invoice:
    """The earlier `invoice` after handing `carry` over to the invoice `new_invoice_id`."""
    if carry.invoice_id != invoice.id:
        raise ValueError(f"carry for {carry.invoice_id} applied to {invoice.id}")
    carried = replace(invoice, amount_carried=invoice.carried + carry.amount)
    if not carry.closes:
        return carried
    return replace(carried, status=InvoiceStatus.CARRIED_FORWARD, carried_to=new_invoice_id)
