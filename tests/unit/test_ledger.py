"""The ledger: signed append-only entries whose sum is what the open invoices still ask for."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from domain.balance_forward import OpenBalance, apply_carry, bring_forward
from domain.invoices import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, Period, Section
from domain.ledger import EntryKind, LedgerEntry, balance, entry, issued_entry, owed_by_invoices
from domain.money import Money

DAY = date(2026, 2, 15)


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def invoice(invoice_id: str, charges: int, previous: int = 0) -> Invoice:
    line = InvoiceLine(Section.RECURRING, "Users", 1, eur(charges), eur(charges), item="users")
    return Invoice(id=invoice_id, number=invoice_id, account_id="acme", subscription_id="s",
                   kind=InvoiceKind.MONTHLY, period=Period(DAY, date(2026, 3, 15)),
                   issued_on=DAY, due_on=DAY, currency="EUR", payment_method="card",
                   lines=(line,), previous_amount_due=eur(previous))


def test_the_kind_signs_the_entry_debits_positive_credits_negative() -> None:
    debit = entry(EntryKind.CHARGEBACK, account_id="acme", amount=eur(500), on=DAY)
    credit = entry(EntryKind.PAYMENT_SETTLED, account_id="acme", amount=eur(500), on=DAY)
    assert (debit.amount, credit.amount) == (eur(500), eur(-500))


def test_a_negative_amount_or_a_wrongly_signed_entry_is_refused() -> None:
    with pytest.raises(ValueError, match="positive amount"):
        entry(EntryKind.CREDIT_NOTE, account_id="acme", amount=eur(-1), on=DAY)
    with pytest.raises(ValueError, match="debit"):
        LedgerEntry("acme", EntryKind.INVOICE_ISSUED, eur(-1), DAY)


def test_an_issued_invoice_debits_its_charges_not_the_amount_brought_forward() -> None:
    # Given an invoice of 9600 charges with 5000 brought forward
    new = invoice("B", 9600, previous=5000)
    # When / Then: the 5000 is already in the ledger from the earlier invoice
    assert issued_entry(new).amount == eur(9600)
    assert new.total == eur(14600)


def test_the_ledger_sums_to_what_open_invoices_still_owe_after_a_balance_forward() -> None:
    # Given A issued (9600), 1000 settled on it
    a = replace(invoice("A", 9600), amount_paid=eur(1000))
    ledger = [issued_entry(a),
              entry(EntryKind.PAYMENT_SETTLED, account_id="acme", amount=eur(1000), on=DAY,
                    invoice_id="A")]
    # When B is issued with A's 8600 brought forward
    forward = bring_forward([OpenBalance("A", a.amount_due, eur(0))], "EUR")
    b = invoice("B", 9600, previous=forward.previous_amount_due.minor)
    a = apply_carry(a, forward.carries[0], new_invoice_id="B")
    ledger.append(issued_entry(b))
    # Then 9600 - 1000 + 9600 = 18200 = B's amount due; A is closed with nothing due
    assert balance(ledger, "EUR") == owed_by_invoices([a, b], "EUR") == eur(18200)


def test_only_open_invoices_count_as_owed() -> None:
    paid = replace(invoice("A", 100), status=InvoiceStatus.PAID, amount_paid=eur(100))
    open_ = invoice("B", 250)
    written_off = replace(invoice("C", 70), status=InvoiceStatus.UNCOLLECTIBLE)
    assert owed_by_invoices([paid, open_, written_off], "EUR") == eur(250)
