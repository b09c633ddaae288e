"""Balance forward: unpaid, uncovered balances move onto the new invoice; in-flight money stays."""

from __future__ import annotations

from datetime import date

import pytest

from domain.balance_forward import Carry, OpenBalance, apply_carry, bring_forward, uncovered
from domain.invoices import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, Period, Section
from domain.money import CurrencyMismatch, Money


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def open_balance(invoice_id: str, due: int, in_flight: int = 0) -> OpenBalance:
    return OpenBalance(invoice_id, eur(due), eur(in_flight))


def test_an_unpaid_invoice_with_nothing_in_flight_is_carried_in_full_and_closes() -> None:
    # When
    result = bring_forward([open_balance("A", 5000)], "EUR")
    # Then
    assert result.previous_amount_due == eur(5000)
    assert result.carries == (Carry("A", eur(5000), closes=True),)


def test_a_debit_in_flight_for_the_whole_amount_carries_nothing_and_keeps_the_invoice_open(
        ) -> None:
    # Given a 5000 direct debit still pending on B
    result = bring_forward([open_balance("B", 5000, in_flight=5000)], "EUR")
    # Then B stays open: if the debit fails, the next invoice brings 5000 forward
    assert result.previous_amount_due == eur(0)
    assert result.carries == (Carry("B", eur(0), closes=False),)


def test_a_partial_payment_in_flight_carries_only_the_uncovered_rest() -> None:
    # 5000 due, 2000 in flight: 3000 carried, 2000 left due on C
    result = bring_forward([open_balance("C", 5000, in_flight=2000)], "EUR")
    assert result.carries == (Carry("C", eur(3000), closes=False),)


def test_more_in_flight_than_due_is_floored_at_zero() -> None:
    assert uncovered(open_balance("X", 1000, in_flight=1500)) == eur(0)


def test_a_credit_carries_forward_negatively() -> None:
    # Given D overpaid by 1000 and A unpaid 5000
    result = bring_forward([open_balance("D", -1000), open_balance("A", 5000)], "EUR")
    # Then 5000 - 1000 = 4000 is brought forward and both close
    assert result.previous_amount_due == eur(4000)
    assert result.carries == (Carry("D", eur(-1000), closes=True),
                              Carry("A", eur(5000), closes=True))


def test_no_earlier_invoice_brings_nothing_forward() -> None:
    assert bring_forward([], "JPY").previous_amount_due == Money(0, "JPY")


def test_an_earlier_invoice_in_another_currency_is_refused() -> None:
    with pytest.raises(CurrencyMismatch):
        bring_forward([OpenBalance("A", Money(100, "USD"), Money(0, "USD"))], "EUR")


def invoice(invoice_id: str, charges: int, paid: int = 0) -> Invoice:
    line = InvoiceLine(Section.RECURRING, "Users", 1, eur(charges), eur(charges), item="users")
    return Invoice(id=invoice_id, number=invoice_id, account_id="acme", subscription_id="s",
                   kind=InvoiceKind.MONTHLY, period=Period(date(2026, 1, 15), date(2026, 2, 15)),
                   issued_on=date(2026, 1, 15), due_on=date(2026, 1, 15), currency="EUR",
                   payment_method="card", lines=(line,), amount_paid=eur(paid))


def test_applying_a_closing_carry_zeroes_the_amount_due_and_points_to_the_new_invoice() -> None:
    # Given A: 9600 charged, 1000 paid -> 8600 due
    earlier = invoice("A", 9600, paid=1000)
    (carry,) = bring_forward([OpenBalance("A", earlier.amount_due, eur(0))], "EUR").carries
    # When
    closed = apply_carry(earlier, carry, new_invoice_id="B")
    # Then
    assert closed.amount_due == eur(0)
    assert closed.carried == eur(8600)
    assert (closed.status, closed.carried_to) == (InvoiceStatus.CARRIED_FORWARD, "B")


def test_applying_a_carry_with_money_in_flight_leaves_the_in_flight_amount_due() -> None:
    earlier = invoice("A", 9600)
    (carry,) = bring_forward([OpenBalance("A", earlier.amount_due, eur(2000))], "EUR").carries
    kept = apply_carry(earlier, carry, new_invoice_id="B")
    assert (kept.status, kept.amount_due, kept.carried_to) == (InvoiceStatus.OPEN, eur(2000), None)


def test_a_carry_is_applied_only_to_its_own_invoice() -> None:
    with pytest.raises(ValueError, match="applied to"):
        apply_carry(invoice("A", 100), Carry("Z", eur(100), closes=True), new_invoice_id="B")
