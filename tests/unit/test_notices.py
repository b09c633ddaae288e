"""Customer notices render in English and French with Babel-formatted amounts and dates."""

from __future__ import annotations

from datetime import date

import pytest
from jinja2 import UndefinedError

from adapters.bank_details import DEMO_BANK_DETAILS
from adapters.notices import NoticeKind, render_notice
from domain import dunning
from domain.events import CustomerMessage
from domain.money import Money

CONTEXT = {
    "account_name": "Acme & Co",
    "invoice_number": "INV-2025-0042",
    "amount": Money(123456, "EUR"),
    "due_on": date(2025, 4, 1),
    "termination_on": date(2025, 4, 11),
    "reference": "RF18 5390 0754 7034",
    "bank": DEMO_BANK_DETAILS["EUR"],
}


def test_every_message_the_domain_sends_has_a_template_and_no_other() -> None:
    # The templates' kinds repeat the domain's: they must not drift apart (a message kind
    # without a template would fail only when the first customer is due to receive it)
    domain_kinds = {*CustomerMessage, *dunning.NoticeKind}
    assert {str(kind) for kind in NoticeKind} == {str(kind) for kind in domain_kinds} | {
        NoticeKind.WIRE_INSTRUCTIONS.value}  # published by the wire gateway, not the domain


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_notice_renders_a_subject_and_a_body(kind: NoticeKind, language: str) -> None:
    # Given the context a notice may use
    # When it is rendered
    notice = render_notice(kind=kind, language=language, context=CONTEXT)
    # Then it has a one-line subject, the account's name, and no template syntax left
    assert notice.subject
    assert "\n" not in notice.subject
    assert "Acme & Co" in notice.text  # plain text: no HTML escaping
    assert "{" not in notice.text + notice.subject


def test_french_notices_format_amounts_and_dates_the_french_way() -> None:
    # When the first overdue notice is rendered in French
    notice = render_notice(kind=NoticeKind.FIRST_NOTICE, language="fr", context=CONTEXT)
    # Then the amount and the date are Babel's French (narrow no-break space for thousands)
    assert "1\u202f234,56\u00a0€" in notice.text
    assert "1 avril 2025" in notice.text
    assert notice.subject == "Rappel : la facture INV-2025-0042 est impayée"


def test_english_notices_format_amounts_and_dates_the_english_way() -> None:
    notice = render_notice(kind=NoticeKind.THIRD_NOTICE, language="en", context=CONTEXT)
    assert "€1,234.56" in notice.text
    assert notice.subject == "Third notice: your account will be terminated on April 11, 2025"


def test_wire_instructions_list_the_bank_account_reference_and_due_date() -> None:
    notice = render_notice(kind=NoticeKind.WIRE_INSTRUCTIONS, language="en", context=CONTEXT)
    for expected in ("DE89 3704 0044 0532 0130 00", "COBADEFFXXX", "RF18 5390 0754 7034",
                     "April 1, 2025", "€1,234.56", "finance team"):
        assert expected in notice.text


def test_usd_wire_instructions_give_routing_and_account_numbers() -> None:
    context = {**CONTEXT, "amount": Money(5000, "USD"), "bank": DEMO_BANK_DETAILS["USD"]}
    notice = render_notice(kind=NoticeKind.WIRE_INSTRUCTIONS, language="fr", context=context)
    assert "011000015" in notice.text
    assert "IBAN" not in notice.text


def test_a_payment_failure_with_a_retry_date_says_when() -> None:
    context = {**CONTEXT, "retry_on": date(2025, 3, 4)}
    notice = render_notice(kind=NoticeKind.PAYMENT_FAILED, language="en", context=context)
    assert "We will try again on March 4, 2025" in notice.text


def test_yen_amounts_have_no_decimals() -> None:
    context = {**CONTEXT, "amount": Money(1234, "JPY")}
    notice = render_notice(kind=NoticeKind.PAYMENT_RECEIVED, language="en", context=context)
    assert "¥1,234 " in notice.text


def test_a_language_we_do_not_write_reads_english() -> None:
    notice = render_notice(kind=NoticeKind.LEGAL_NOTICE, language="de", context=CONTEXT)
    assert notice.subject == "Your account has been terminated"


def test_a_regional_french_reads_french() -> None:
    notice = render_notice(kind=NoticeKind.LEGAL_NOTICE, language="fr_CA", context=CONTEXT)
    assert notice.subject == "Votre compte a été résilié"


def test_a_missing_variable_fails_loudly_instead_of_mailing_a_hole() -> None:
    # Given a context without the termination date the third notice states
    context = {k: v for k, v in CONTEXT.items() if k != "termination_on"}
    # When it is rendered / Then it fails
    with pytest.raises(UndefinedError):
        render_notice(kind=NoticeKind.THIRD_NOTICE, language="en", context=context)
