"""What an invoice document shows, already translated and formatted: one model, two renderers.

Sections come in the article's order: recurring (monthly) or annual subscription, prorata,
minutes, account information (only when a previous amount is due or credited, as the article
says), total, payment details. A line section with no lines is left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from babel.numbers import format_decimal

from adapters.documents.labels import LABELS
from adapters.documents.payment_details import PaymentDetails
from adapters.localize import Language, format_day, format_days, format_money, language_of
from domain.accounts import MethodType
from domain.invoices import SECTION_ORDER, Invoice, InvoiceKind, InvoiceLine, Section
from domain.wire_reference import format_rf_reference


@dataclass(frozen=True, slots=True)
class Row:
    description: str
    quantity: str = ""
    unit_price: str = ""
    amount: str = ""


@dataclass(frozen=True, slots=True)
class SectionView:
    #: Stable identifier (recurring, annual, prorata, minutes, account, total, payment).
    key: str
    heading: str
    rows: tuple[Row, ...] = ()
    #: Sentences printed before the rows (payment details).
    notes: tuple[str, ...] = ()
    #: Label/value pairs (payment details: bank account, reference, due date), labels with
    #: their colon.
    facts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class InvoiceView:
    language: Language
    title: str
    account_name: str
    #: Label/value pairs under the title, labels already followed by the language's colon.
    header: tuple[tuple[str, str], ...]
    columns: tuple[str, str, str, str]
    sections: tuple[SectionView, ...]
    total: str


def build_view(invoice: Invoice, *, account_name: str, language: str,
               payment_details: PaymentDetails) -> InvoiceView:
    lang = language_of(language)
    words = LABELS[lang]
    sections = [_line_section(invoice, section, lang) for section in SECTION_ORDER]
    view_sections = [s for s in sections if s.rows]
    if not invoice.previous.is_zero():
        view_sections.append(SectionView("account", words["section.account"], rows=(
            Row(words["previous_amount_due"], amount=format_money(invoice.previous,
                                                                  language=lang)),)))
    total = format_money(invoice.total, language=lang)
    view_sections.append(SectionView("total", words["section.total"],
                                     rows=(Row(words["total_due"], amount=total),)))
    view_sections.append(_payment_section(invoice, payment_details, lang))
    final = invoice.kind is InvoiceKind.FINAL
    header = [(words["billed_to"], account_name),
              (words["issued_on"], format_day(invoice.issued_on, language=lang)),
              (words["period"], format_days(invoice.period.start, invoice.period.end,
                                            language=lang))]
    if final:  # the subscription ended: its last day of service ends the (half-open) period
        last_day = invoice.period.end - timedelta(days=1)
        header.append((words["service_ended"], format_day(last_day, language=lang)))
    return InvoiceView(
        language=lang,
        title=words["invoice.final" if final else "invoice"].format(number=invoice.number),
        account_name=account_name,
        header=_labelled(lang, tuple(header)),
        columns=(words["col.description"], words["col.quantity"], words["col.unit_price"],
                 words["col.amount"]),
        sections=tuple(view_sections), total=total)


def _line_section(invoice: Invoice, section: Section, lang: Language) -> SectionView:
    key = section.value
    if section is Section.RECURRING and invoice.kind is InvoiceKind.ANNUAL:
        key = "annual"
    rows = tuple(_row(invoice, line, lang) for line in invoice.lines_in(section))
    return SectionView(key, LABELS[lang][f"section.{key}"], rows=rows)


def _row(invoice: Invoice, line: InvoiceLine, lang: Language) -> Row:
    label = LABELS[lang].get(f"item.{line.item}", line.description)
    if line.section is Section.RECURRING:
        label = f"{label}, {format_days(invoice.period.start, invoice.period.end, language=lang)}"
    elif line.from_on is not None and line.to_on is not None:
        label = f"{label}, {format_days(line.from_on, line.to_on, language=lang)}"
    return Row(label, quantity=str(format_decimal(line.quantity, locale=lang)),
               unit_price=format_money(line.unit_amount, language=lang),
               amount=format_money(line.amount, language=lang))


def _payment_section(invoice: Invoice, details: PaymentDetails, lang: Language) -> SectionView:
    words = LABELS[lang]
    heading = words["section.payment"]
    if details.method is MethodType.CARD:
        card = (words["pay.card_brand"].format(brand=details.card_brand)
                if details.card_brand else "")
        if details.card_last4:
            card += words["pay.card_last4"].format(last4=details.card_last4)
        note = words["pay.card"].format(card=card,
                                        day=format_day(invoice.issued_on, language=lang))
        return SectionView("payment", heading, notes=(note,))
    if details.method is MethodType.DIRECT_DEBIT:
        scheme = details.scheme_name
        note = words["pay.direct_debit"].format(
            scheme=words["pay.scheme"].format(scheme=scheme) if scheme else "",
            mandate=(words["pay.mandate"].format(reference=details.mandate_reference)
                     if details.mandate_reference else ""))
        return SectionView("payment", heading, notes=(note,))
    return SectionView("payment", heading, notes=(words["pay.wire"],),
                       facts=_wire_facts(details, lang))


def _wire_facts(details: PaymentDetails, lang: Language) -> tuple[tuple[str, str], ...]:
    words = LABELS[lang]
    bank, reference, due_on = details.bank_details, details.wire_reference, details.wire_due_on
    if bank is None or reference is None or due_on is None:  # PaymentDetails forbids it
        raise ValueError("wire payment details are incomplete")
    facts = [(words["pay.beneficiary"], bank.beneficiary), (words["pay.bank"], bank.bank_name)]
    if bank.uses_ach:
        facts += [(words["pay.routing_number"], bank.routing_number or ""),
                  (words["pay.account_number"], bank.account_number or "")]
    else:
        facts += [(words["pay.iban"], bank.iban_printed or ""), (words["pay.bic"], bank.bic or "")]
    facts += [(words["pay.reference"], format_rf_reference(reference)),
              (words["pay.due_on"], format_day(due_on, language=lang))]
    return _labelled(lang, facts)


def _labelled(lang: Language,
              pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((LABELS[lang]["label"].format(label=label), value) for label, value in pairs)
