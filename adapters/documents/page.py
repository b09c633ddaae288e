"""The customer's hosted invoice page: the invoice document (the same view as the HTML
invoice) with its status, what is still due, and how to pay it. Autoescaped throughout:
account names and invoice data are customer input."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from adapters.documents.labels import LABELS
from adapters.documents.page_labels import PAGE_LABELS
from adapters.documents.payment_details import PaymentDetails
from adapters.documents.view import build_view
from adapters.localize import format_money, language_of
from domain.accounts import MethodType
from domain.invoices import Invoice

_ENV = Environment(loader=PackageLoader("adapters.documents", "templates"),
                   autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                   lstrip_blocks=True, auto_reload=False)  # templates ship with the package


class PayAction(enum.StrEnum):
    """What the page offers to settle what is due."""

    NONE = "none"  # nothing owed
    SETUP = "setup"  # a button: set up a card or a mandate, then every open balance is retried
    WIRE = "wire"  # the bank-transfer instructions
    UNAVAILABLE = "unavailable"  # the setup could not be started; try later


@dataclass(frozen=True, slots=True)
class PageFacts:
    action: PayAction
    #: The method the button sets up (the account's), for its explanation.
    method: MethodType
    #: The form's target, relative to the page (the token authorises the POST).
    pay_path: str = ""
    #: (number, page URL) of the invoice this one's balance was carried onto.
    carried_to: tuple[str, str] | None = None


def render_invoice_page(invoice: Invoice, *, account_name: str, language: str,
                        payment_details: PaymentDetails, facts: PageFacts) -> str:
    lang = language_of(language)
    view = build_view(invoice, account_name=account_name, language=lang,
                      payment_details=payment_details)
    page = {"status": invoice.status.value, "action": facts.action.value,
            "method": facts.method.value, "pay_path": facts.pay_path,
            "carried_to": facts.carried_to,
            "amount_due": format_money(invoice.amount_due, language=lang)}
    return _ENV.get_template("invoice_page.html.j2").render(
        view=view, page=page, words={**LABELS[lang], **PAGE_LABELS[lang]})


@cache
def render_not_found() -> str:
    """One page for every link that does not lead to an invoice, whatever the reason."""
    return _ENV.get_template("not_found.html.j2").render()


__all__ = ["PageFacts", "PayAction", "render_invoice_page", "render_not_found"]
