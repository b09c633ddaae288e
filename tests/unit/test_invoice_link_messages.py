"""Every customer message about an invoice links to its page, in the account's language."""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.bank_details import DEMO_BANK_DETAILS
from adapters.composer import NoticeComposer
from adapters.invoice_links import InvoiceLinks
from adapters.notices import NoticeKind
from adapters.notifier import RecordingNotifier
from adapters.wire_publisher import WirePublisher
from domain.accounts import MethodType, PaymentMethod
from domain.invoices import InvoiceStatus
from tests.builders import an_account, an_attempt, an_invoice, eur

LINKS = InvoiceLinks(secrets=("s3cret",), base_url="https://pay.example")
INVOICE = an_invoice(id="inv_42")
URL = LINKS.url_for("inv_42")
#: Extra variables some notices need (dunning: the termination day; the wire e-mail: bank).
EXTRA = {"termination_on": INVOICE.due_on, "reference": "RF18 5390 0754 7034",
         "bank": DEMO_BANK_DETAILS["EUR"]}


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_notice_about_an_invoice_carries_the_link_to_its_page(
        kind: NoticeKind, language: str) -> None:
    # Given a composer that knows the links, and an account writing in `language`
    composer = NoticeComposer(links=LINKS)
    # When any notice about the invoice is composed (receipts, declines, dunning, wire...)
    _, text, _ = composer.compose(kind=kind.value, account=an_account(language=language),
                                  invoice=INVOICE, attempt=an_attempt(), **EXTRA)
    # Then its body holds the invoice page's URL, once, on a line of its own
    assert text.count(URL) == 1
    [line] = [line for line in text.splitlines() if URL in line]
    assert line.endswith(URL)
    # And the signature still closes the message
    assert text.rstrip().endswith(("The Billing team", "L'Équipe Facturation"))


def test_an_unpaid_invoice_link_says_it_is_where_to_pay_in_english_and_french() -> None:
    composer = NoticeComposer(links=LINKS)
    _, english, _ = composer.compose(kind="first_notice", account=an_account(language="en"),
                                     invoice=INVOICE, attempt=None, **EXTRA)
    _, french, _ = composer.compose(kind="first_notice", account=an_account(language="fr"),
                                    invoice=INVOICE, attempt=None, **EXTRA)
    assert f"To pay it or update your payment method, open your invoice: {URL}" in english
    assert ("Pour la régler ou mettre à jour votre moyen de paiement, ouvrez votre facture : "
            f"{URL}") in french


def test_a_receipt_links_to_the_invoice_without_asking_to_pay() -> None:
    paid = replace(INVOICE, status=InvoiceStatus.PAID, amount_paid=INVOICE.total)
    _, text, _ = NoticeComposer(links=LINKS).compose(
        kind="payment_received", account=an_account(language="en"), invoice=paid,
        attempt=an_attempt())
    assert f"Your invoice online: {URL}" in text
    assert "pay it" not in text


def test_without_links_configured_notices_are_unchanged() -> None:
    plain = NoticeComposer().compose(kind="payment_failed", account=an_account(),
                                     invoice=INVOICE, attempt=an_attempt())
    assert "http" not in plain[1]
    assert "\n\n\n" not in plain[1]


def test_a_message_about_no_invoice_has_no_link() -> None:
    _, text, _ = NoticeComposer(links=LINKS).compose(
        kind="mandate_ended", account=an_account(), invoice=None, attempt=None)
    assert "https://pay.example" not in text


def test_the_wire_instructions_email_links_to_the_invoice_page() -> None:
    # Given a wire account and the publisher that knows the links
    notifier = RecordingNotifier()
    account = an_account(payment_method=PaymentMethod(MethodType.WIRE), language="en")
    invoice = replace(INVOICE, payment_method="wire", lines=(
        replace(INVOICE.lines[0], amount=eur(9000)),))
    publisher = WirePublisher(notifier=notifier, stream=None,
                              bank_details_by_currency=DEMO_BANK_DETAILS, links=LINKS)
    # When its instructions are published
    publisher.publish(invoice=invoice, account=account, due_days=30)
    # Then the e-mail carries the bank details and the link to the invoice page
    [message] = notifier.messages
    assert "DE89 3704 0044 0532 0130 00" in message.text
    assert f"To pay it or update your payment method, open your invoice: {URL}" in message.text
