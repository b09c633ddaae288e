"""WirePublisher without Redis (the embedded mode): instructions built and e-mailed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from adapters.bank_details import DEMO_BANK_DETAILS
from adapters.notifier import RecordingNotifier
from adapters.wire_publisher import NoBankDetails, NothingDue, WirePublisher, payment_reference
from domain.accounts import Account, MethodType, PaymentMethod
from domain.invoices import Invoice, InvoiceKind, InvoiceLine, Period, Section
from domain.money import Money
from domain.outcomes import AwaitingTransfer
from domain.wire_reference import is_valid_rf_reference

ACCOUNT = Account(id="acc_1", name="Acme SAS", currency="EUR", language="fr",
                  email="compta@acme.test", payment_method=PaymentMethod(MethodType.WIRE))


def wire_invoice(*, currency: str = "EUR", minor: int = 123456,
                 reference: str | None = None) -> Invoice:
    price = Money(minor, currency)
    return Invoice(id="inv_42", number="INV-2025-0042", account_id="acc_1",
                   subscription_id="sub_1", kind=InvoiceKind.MONTHLY,
                   period=Period(date(2025, 3, 1), date(2025, 4, 1)),
                   issued_on=date(2025, 3, 1), due_on=date(2025, 3, 31), currency=currency,
                   payment_method="wire", payment_reference=reference,
                   lines=(InvoiceLine(section=Section.RECURRING, description="Users",
                                      quantity=1, unit_amount=price, amount=price,
                                      item="users"),))


def publisher(notifier: RecordingNotifier) -> WirePublisher:
    return WirePublisher(notifier=notifier, stream=None,
                         bank_details_by_currency=DEMO_BANK_DETAILS)


def test_publishing_emails_the_instructions_and_awaits_the_transfer() -> None:
    # Given a French wire account and its new invoice
    notifier = RecordingNotifier()
    # When the instructions are published with 30 days to pay
    outcome = publisher(notifier).publish(invoice=wire_invoice(), account=ACCOUNT, due_days=30)
    # Then the outcome awaits the transfer under an RF reference, due 30 days after issue
    assert outcome == AwaitingTransfer(reference=payment_reference(wire_invoice()),
                                       amount=Money(123456, "EUR"), due_on=date(2025, 3, 31))
    assert is_valid_rf_reference(outcome.reference)
    # And the customer got them in French, under a key that makes a resend recognisable
    [message] = notifier.messages
    assert message.to == "compta@acme.test"
    assert message.subject == "Instructions de virement pour la facture INV-2025-0042"
    assert message.idempotency_key == "wire_instructions:inv_42"
    for expected in ("DE89 3704 0044 0532 0130 00", "COBADEFFXXX", "31 mars 2025",
                     "1\u202f234,56\u00a0€"):
        assert expected in message.text


def test_the_invoice_reference_is_used_when_it_has_one() -> None:
    invoice = wire_invoice(reference="RF18 5390 0754 7034")
    outcome = publisher(RecordingNotifier()).publish(invoice=invoice, account=ACCOUNT,
                                                     due_days=30)
    assert outcome.reference == "RF18539007547034"


def test_an_account_without_email_still_gets_its_outcome() -> None:
    notifier = RecordingNotifier()
    account = replace(ACCOUNT, email=None)
    outcome = publisher(notifier).publish(invoice=wire_invoice(), account=account, due_days=30)
    assert outcome.amount == Money(123456, "EUR")
    assert notifier.messages == ()


def test_a_currency_without_bank_details_is_refused_before_anything_is_sent() -> None:
    notifier = RecordingNotifier()
    with pytest.raises(NoBankDetails, match="CHF"):
        publisher(notifier).publish(invoice=wire_invoice(currency="CHF"), account=ACCOUNT,
                                    due_days=30)
    assert notifier.messages == ()


def test_an_invoice_that_owes_nothing_asks_for_no_transfer() -> None:
    # Given an invoice whose previous credit covers its charges
    invoice = replace(wire_invoice(), previous_amount_due=Money(-123456, "EUR"))
    with pytest.raises(NothingDue):
        publisher(RecordingNotifier()).publish(invoice=invoice, account=ACCOUNT, due_days=30)
