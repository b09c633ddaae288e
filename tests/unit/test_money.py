"""Money: integer minor units, one currency, no floats, no bools."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.money import CurrencyMismatch, Money, UnknownCurrency, sum_money
from tests.builders import an_invoice, eur


def test_amounts_in_the_same_currency_add_and_subtract_in_minor_units() -> None:
    # Given
    price, discount = Money(1050, "EUR"), Money(50, "EUR")
    # When / Then: 10.50 + 0.50 = 11.00 and 10.50 - 0.50 = 10.00
    assert price + discount == Money(1100, "EUR")
    assert price - discount == Money(1000, "EUR")
    assert -price == Money(-1050, "EUR")


def test_amounts_in_different_currencies_never_mix() -> None:
    with pytest.raises(CurrencyMismatch):
        _ = Money(100, "EUR") + Money(100, "USD")
    with pytest.raises(CurrencyMismatch):
        _ = Money(100, "EUR") < Money(100, "GBP")


def test_a_float_or_a_bool_is_never_an_amount() -> None:
    with pytest.raises(TypeError):
        Money(10.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True, "EUR")
    with pytest.raises(TypeError):
        _ = Money(100, "EUR") * 1.5  # type: ignore[operator]


def test_an_unknown_currency_is_refused() -> None:
    for code in ("XXX", "eur", "", None, 978):
        with pytest.raises(UnknownCurrency):
            Money(100, code)  # type: ignore[arg-type]


@pytest.mark.parametrize("part", ["previous_amount_due", "amount_paid", "amount_carried",
                                  "stored_charges"])
def test_what_an_invoice_still_owes_never_mixes_currencies(part: str) -> None:
    # Given a EUR invoice owing 50.00 - 10.00 paid - 5.00 carried + 20.00 from before
    invoice = replace(an_invoice(), lines=(), stored_charges=eur(5000),
                      previous_amount_due=eur(2000), amount_paid=eur(1000),
                      amount_carried=eur(500))
    assert invoice.amount_due == eur(5500)
    assert invoice.amount_due == invoice.total - invoice.paid - invoice.carried
    # When one of its amounts is in another currency, Then asking what it owes fails
    with pytest.raises(CurrencyMismatch):
        _ = replace(invoice, **{part: Money(100, "USD")}).amount_due


def test_multiplying_by_a_quantity_keeps_the_currency() -> None:
    assert Money(3000, "EUR") * 4 == Money(12000, "EUR")
    assert 4 * Money(3000, "EUR") == Money(12000, "EUR")


@pytest.mark.parametrize(
    ("amount", "printed"),
    [
        (Money(14962, "EUR"), "149.62 EUR"),
        (Money(-5, "EUR"), "-0.05 EUR"),
        (Money(1000, "JPY"), "1000 JPY"),  # exponent 0: the minor unit is the yen
        (Money(1234, "KWD"), "1.234 KWD"),  # exponent 3
    ],
)
def test_an_amount_prints_with_its_currency_exponent(amount: Money, printed: str) -> None:
    assert str(amount) == printed


def test_the_empty_sum_is_zero_in_the_asked_currency() -> None:
    assert sum_money([], "JPY") == Money(0, "JPY")
    assert sum_money([Money(1, "JPY"), Money(2, "JPY")], "JPY") == Money(3, "JPY")
