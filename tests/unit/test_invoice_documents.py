"""Invoice documents follow the customer article: its sections, in its order, in two languages.

Babel writes French amounts with a narrow no-break space (U+202F) between thousands and a
no-break space (U+00A0) before the sign; the assertions spell those out.
"""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import replace
from datetime import date

import pytest

from adapters.bank_details import DEMO_BANK_DETAILS
from adapters.documents import PaymentDetails, render_html, render_text
from adapters.documents.labels import LABELS
from domain.accounts import MethodType
from domain.invoices import Invoice, InvoiceKind, InvoiceLine, Period, Section
from domain.money import Money

CARD = PaymentDetails(MethodType.CARD, card_brand="Visa", card_last4="4242")
WIRE = PaymentDetails(MethodType.WIRE, bank_details=DEMO_BANK_DETAILS["EUR"],
                      wire_reference="RF18539007547034", wire_due_on=date(2025, 3, 31))


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def monthly_invoice() -> Invoice:
    """Every section: 3 users + 2 numbers for March, a user added on 15 Feb, minutes, and
    €10.50 brought forward. Total: 75 + 12 + 13.71 + 24 + 1,000 + 10.50 = €1,135.21."""
    return Invoice(
        id="inv_42", number="INV-2025-0042", account_id="acc_1", subscription_id="sub_1",
        kind=InvoiceKind.MONTHLY, period=Period(date(2025, 3, 1), date(2025, 4, 1)),
        issued_on=date(2025, 3, 1), due_on=date(2025, 3, 1), currency="EUR",
        payment_method="card", previous_amount_due=eur(1050),
        lines=(
            # Lines deliberately out of order: the document, not the caller, orders sections.
            InvoiceLine(Section.MINUTES, "Outbound", 1200, eur(2), eur(2400),
                        item="outbound_minutes"),
            InvoiceLine(Section.RECURRING, "Users", 3, eur(2500), eur(7500), item="users"),
            InvoiceLine(Section.RECURRING, "Numbers", 2, eur(600), eur(1200), item="numbers"),
            InvoiceLine(Section.PRORATA, "Users added", 1, eur(2500), eur(1371),
                        from_on=date(2025, 2, 15), to_on=date(2025, 3, 1), item="users"),
            InvoiceLine(Section.MINUTES, "Toll-free", 50000, eur(2), eur(100000),
                        item="toll_free_minutes"),
        ))


def annual_invoice() -> Invoice:
    return Invoice(
        id="inv_7", number="INV-2025-0007", account_id="acc_1", subscription_id="sub_1",
        kind=InvoiceKind.ANNUAL, period=Period(date(2025, 3, 1), date(2026, 3, 1)),
        issued_on=date(2025, 3, 1), due_on=date(2025, 3, 1), currency="EUR",
        payment_method="card",
        lines=(InvoiceLine(Section.RECURRING, "Users", 10, eur(24000), eur(240000),
                           item="users"),))


def text_headings(text: str) -> list[str]:
    # A heading is a line underlined by dashes of its own length.
    lines = text.splitlines()
    return [line for line, under in itertools.pairwise(lines)
            if under and set(under) == {"-"} and len(under) == len(line)]


def html_headings(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r"<h2>(.*?)</h2>", page)]


def section_text(text: str, heading: str) -> str:
    return text.split(heading + "\n", 1)[1].split("\n\n", 1)[0]


EN_HEADINGS = ["Recurring — upcoming month", "Prorata — past month", "Minutes — past month",
               "Account information — previous amount due", "Total", "Payment details"]
FR_HEADINGS = ["Éléments récurrents - Mois à venir", "Prorata - Le mois écoulé",
               "Minutes - Mois écoulé", "Informations sur le compte : montant précédent dû",
               "Total", "Détails du paiement"]


def test_an_english_monthly_invoice_shows_the_articles_sections_in_order() -> None:
    # Given a monthly invoice with every kind of line and a previous amount due
    # When it is rendered for the terminal in English
    text = render_text(monthly_invoice(), account_name="Acme Inc.", language="en",
                       payment_details=CARD)
    # Then the sections come in the article's order and the total is formatted by Babel
    assert text_headings(text) == EN_HEADINGS
    assert "€1,135.21" in section_text(text, "Total")
    assert "€10.50" in section_text(text, "Account information — previous amount due")


def test_a_french_monthly_invoice_uses_the_articles_french_section_names() -> None:
    text = render_text(monthly_invoice(), account_name="Acme SAS", language="fr",
                       payment_details=CARD)
    assert text_headings(text) == FR_HEADINGS
    assert "1\u202f135,21\u00a0€" in section_text(text, "Total")
    assert "Facture INV-2025-0042" in text


@pytest.mark.parametrize(("language", "headings", "total"), [
    ("en", EN_HEADINGS, "€1,135.21"),
    ("fr", FR_HEADINGS, "1\u202f135,21\u00a0€"),
])
def test_the_html_invoice_has_the_same_sections_in_the_same_order(
        language: str, headings: list[str], total: str) -> None:
    page = render_html(monthly_invoice(), account_name="Acme", language=language,
                       payment_details=CARD)
    assert html_headings(page) == headings
    total_section = page.split('data-section="total"', 1)[1].split("</section>", 1)[0]
    assert total in total_section
    assert f'<html lang="{language}">' in page


@pytest.mark.parametrize(("language", "expected"), [
    ("en", ["Users, Mar 1\u2009–\u200931, 2025", "Users, Feb 15\u2009–\u200928, 2025",
            "Outbound call minutes", "1,200"]),
    ("fr", ["Utilisateurs, 1–31 mars 2025", "Utilisateurs, 15–28 févr. 2025",
            "Minutes d'appels sortants", "1\u202f200"]),
])
def test_lines_are_described_by_item_with_prorata_dates_ending_on_the_last_day_billed(
        language: str, expected: list[str]) -> None:
    # Given a prorata line for [15 Feb, 1 Mar): the end is exclusive
    # When rendered / Then it reads "Feb 15 - 28", and quantities are grouped by the language
    text = render_text(monthly_invoice(), account_name="Acme", language=language,
                       payment_details=CARD)
    for fragment in expected:
        assert fragment in text


@pytest.mark.parametrize(("language", "heading", "absent"), [
    ("en", "Annual subscription", "Recurring — upcoming month"),
    ("fr", "Abonnement annuel", "Éléments récurrents - Mois à venir"),
])
def test_an_annual_invoice_shows_the_annual_subscription(language: str, heading: str,
                                                         absent: str) -> None:
    # Given an annual invoice with nothing brought forward
    text = render_text(annual_invoice(), account_name="Acme", language=language,
                       payment_details=CARD)
    # Then its first section is the annual subscription, and no account section is printed
    headings = text_headings(text)
    assert headings[0] == heading
    assert absent not in headings
    expected_rest = (EN_HEADINGS if language == "en" else FR_HEADINGS)[-2:]
    assert headings[1:] == expected_rest
    assert ("€2,400.00" if language == "en" else "2\u202f400,00\u00a0€") in text


@pytest.mark.parametrize("render", [render_text, render_html])
def test_a_wire_invoice_shows_where_to_pay_the_reference_and_the_due_date(render: object) -> None:
    # Given a wire invoice
    invoice = replace(monthly_invoice(), payment_method="wire")
    # When rendered in English, as text and as HTML
    assert callable(render)
    document = html.unescape(render(invoice, account_name="Acme", language="en",
                                    payment_details=WIRE))
    # Then the finance team has everything needed to initiate the transfer
    for expected in ("Beneficiary", "Paycollect Demo SAS", "IBAN", "DE89 3704 0044 0532 0130 00",
                     "COBADEFFXXX", "RF18 5390 0754 7034", "March 31, 2025", "finance team"):
        assert expected in document


def test_a_usd_wire_invoice_shows_routing_and_account_numbers_in_french() -> None:
    details = replace(WIRE, bank_details=DEMO_BANK_DETAILS["USD"])
    invoice = replace(annual_invoice(), currency="USD", lines=(
        InvoiceLine(Section.RECURRING, "Users", 2, Money(10000, "USD"), Money(20000, "USD"),
                    item="users"),))
    text = render_text(invoice, account_name="Acme", language="fr", payment_details=details)
    assert "Numéro de routage ABA\u00a0: 011000015" in text
    assert "Date d'échéance\u00a0:       31 mars 2025" in text
    assert "IBAN" not in text


def test_an_account_name_is_escaped_in_html() -> None:
    page = render_html(monthly_invoice(), account_name="<script>alert(1)</script>",
                       language="en", payment_details=CARD)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_yen_invoice_has_no_decimals() -> None:
    yen = Money(1234, "JPY")
    invoice = replace(annual_invoice(), currency="JPY", lines=(
        InvoiceLine(Section.RECURRING, "Users", 1, yen, yen, item="users"),))
    text = render_text(invoice, account_name="Acme", language="en", payment_details=CARD)
    assert "¥1,234" in section_text(text, "Total")
    assert "¥1,234." not in text


@pytest.mark.parametrize(("details", "language", "expected"), [
    (CARD, "en", "Your card Visa ending in 4242 is charged automatically on March 1, 2025."),
    (CARD, "fr", "Votre carte Visa se terminant par 4242 sera débitée automatiquement le "
                 "1 mars 2025."),
    (PaymentDetails(MethodType.CARD), "en",
     "Your card is charged automatically on March 1, 2025."),
    (PaymentDetails(MethodType.DIRECT_DEBIT, mandate_scheme="sepa_core",
                    mandate_reference="MD0001"), "en",
     "Paid by SEPA direct debit (mandate MD0001): the mandate's account is debited."),
    (PaymentDetails(MethodType.DIRECT_DEBIT, mandate_scheme="ach"), "fr",
     "Prélèvement ACH : le compte correspondant sera débité."),
    (PaymentDetails(MethodType.DIRECT_DEBIT, mandate_scheme="bacs"), "en",
     "Paid by Bacs direct debit: the mandate's account is debited."),
])
def test_payment_details_say_how_the_money_is_collected(details: PaymentDetails,
                                                        language: str, expected: str) -> None:
    text = render_text(monthly_invoice(), account_name="Acme", language=language,
                       payment_details=details)
    heading = "Payment details" if language == "en" else "Détails du paiement"
    assert expected in section_text(text, heading).replace("\u00a0", " ")


def test_wire_payment_details_without_bank_details_are_refused() -> None:
    with pytest.raises(ValueError, match="bank_details"):
        PaymentDetails(MethodType.WIRE, wire_reference="RF18539007547034")


def test_english_and_french_labels_cover_the_same_words() -> None:
    assert LABELS["en"].keys() == LABELS["fr"].keys()


def test_an_invoice_read_without_its_lines_cannot_be_printed_as_an_empty_one() -> None:
    # Given an invoice as collection reads it: no lines, the stored charges
    full = monthly_invoice()
    summary = replace(full, lines=(), stored_charges=full.charges)
    # Then it owes the same, but rendering it fails loudly instead of printing no lines
    assert summary.amount_due == full.amount_due
    with pytest.raises(ValueError, match="without its lines"):
        render_text(summary, account_name="Acme Inc.", language="en", payment_details=CARD)
