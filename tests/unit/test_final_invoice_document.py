"""The final invoice's document says it is the last one and the last day of service."""

from __future__ import annotations

from datetime import date

from adapters.documents import PaymentDetails, render_text
from domain.accounts import MethodType
from domain.invoices import Invoice, InvoiceKind, InvoiceLine, Period, Section
from domain.money import Money

CARD = PaymentDetails(MethodType.CARD, card_brand="Visa", card_last4="4242")


def final_invoice() -> Invoice:
    # A user added on 01-16 billed to the end day 02-11 (1677), and 25.00 brought forward
    return Invoice(
        id="inv_9", number="PC-2026-000009", account_id="acc_1", subscription_id="sub_1",
        kind=InvoiceKind.FINAL, period=Period(date(2026, 1, 15), date(2026, 2, 11)),
        issued_on=date(2026, 2, 11), due_on=date(2026, 2, 11), currency="EUR",
        payment_method="card", previous_amount_due=Money(2500, "EUR"),
        lines=(InvoiceLine(section=Section.PRORATA, description="Users added on 2026-01-16",
                           quantity=1, unit_amount=Money(2000, "EUR"),
                           amount=Money(1677, "EUR"), from_on=date(2026, 1, 16),
                           to_on=date(2026, 2, 11), item="users"),))


def test_the_final_invoice_is_titled_as_such_and_names_the_last_day_of_service() -> None:
    english = render_text(final_invoice(), account_name="Acme", language="en",
                          payment_details=CARD)
    french = render_text(final_invoice(), account_name="Acme", language="fr",
                         payment_details=CARD)
    assert "Final invoice PC-2026-000009" in english
    assert "Last day of service: February 10, 2026" in english
    assert "Facture de clôture PC-2026-000009" in french
    assert "Dernier jour de service\u00a0:" in french
    # And no recurring section: nothing is billed in advance any more
    assert "upcoming month" not in english
    # And the total is the prorata and the balance brought forward: 16.77 + 25.00 = 41.77
    assert "€41.77" in english
