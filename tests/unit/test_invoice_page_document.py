"""The hosted invoice page's HTML: the invoice document plus status, amount due and action."""

from __future__ import annotations

import html
import re
from dataclasses import replace

import pytest

from adapters.documents import PaymentDetails, render_html
from adapters.documents.page import PageFacts, PayAction, render_invoice_page, render_not_found
from adapters.documents.page_labels import PAGE_LABELS
from domain.accounts import MethodType
from domain.invoices import InvoiceStatus
from tests.builders import an_invoice, eur

CARD = PaymentDetails(method=MethodType.CARD)


def page(*, status: InvoiceStatus = InvoiceStatus.OPEN, language: str = "en",
         action: PayAction = PayAction.SETUP, **facts: object) -> str:
    invoice = an_invoice(status=status)
    if status is InvoiceStatus.PAID:
        invoice = replace(invoice, amount_paid=invoice.total)
    if status is InvoiceStatus.CARRIED_FORWARD:
        invoice = replace(invoice, amount_carried=invoice.total, carried_to="inv_2")
    return render_invoice_page(invoice, account_name="Acme", language=language,
                               payment_details=CARD, facts=PageFacts(
                                   action=action, method=MethodType.CARD, pay_path="T/pay",
                                   **facts))  # type: ignore[arg-type]


def headings(document: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r"<h2>(.*?)</h2>", document)]


def test_english_and_french_page_words_cover_the_same_keys() -> None:
    assert PAGE_LABELS["en"].keys() == PAGE_LABELS["fr"].keys()
    assert {f"status.{s.value}" for s in InvoiceStatus} <= PAGE_LABELS["en"].keys()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_page_has_the_invoice_documents_sections_in_the_same_order(language: str) -> None:
    document = render_html(an_invoice(), account_name="Acme", language=language,
                           payment_details=CARD)
    assert headings(page(language=language)) == headings(document)


@pytest.mark.parametrize(("status", "en", "fr"), [
    (InvoiceStatus.OPEN, "Awaiting payment", "En attente de paiement"),
    (InvoiceStatus.PAID, "Paid", "Payée"),
    (InvoiceStatus.CARRIED_FORWARD, "Carried forward", "Reportée"),
    (InvoiceStatus.VOID, "Cancelled", "Annulée"),
])
def test_the_status_is_written_in_the_account_language(status: InvoiceStatus, en: str,
                                                        fr: str) -> None:
    for language, word in (("en", en), ("fr", fr)):
        shown = re.search(r'data-testid="status"[^>]*>([^<]+)<', page(status=status,
                                                                       language=language))
        assert shown is not None
        assert html.unescape(shown.group(1)) == word


def test_the_button_is_shown_only_with_the_setup_action() -> None:
    assert 'data-testid="pay"' in page(action=PayAction.SETUP)
    for other in (PayAction.NONE, PayAction.WIRE, PayAction.UNAVAILABLE):
        assert 'data-testid="pay"' not in page(action=other)


def test_a_carried_forward_invoice_links_to_the_invoice_that_now_holds_its_balance() -> None:
    document = page(status=InvoiceStatus.CARRIED_FORWARD, action=PayAction.NONE,
                    carried_to=("PC-2026-000009", "https://pay.example/i/TOKEN2"))
    assert "The amount due was carried forward to invoice PC-2026-000009." in document
    assert '<a href="https://pay.example/i/TOKEN2" data-testid="carried-to">' in document
    assert re.search(r'data-testid="amount-due">€0\.00<', document)


def test_the_amount_due_is_what_is_still_owed_not_the_total() -> None:
    invoice = replace(an_invoice(), amount_paid=eur(1179))
    document = render_invoice_page(invoice, account_name="Acme", language="en",
                                   payment_details=CARD,
                                   facts=PageFacts(action=PayAction.SETUP,
                                                   method=MethodType.CARD))
    assert re.search(r'data-testid="amount-due">€100\.00<', document)


def test_the_not_found_page_names_no_invoice_and_no_account() -> None:
    body = render_not_found()
    assert body == render_not_found()
    assert "Page not found" in body
    assert "Page introuvable" in body
    assert "PC-" not in body
    assert "inv_" not in body
