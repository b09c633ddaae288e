"""Customer messages for the outbox, from the notice templates in the account's language."""

from __future__ import annotations

from typing import Any

from adapters.invoice_links import InvoiceLinks
from adapters.notices import NoticeKind, render_notice
from domain.accounts import Account
from domain.invoices import Invoice, InvoiceStatus
from domain.payments import PaymentAttempt


def invoice_link_context(links: InvoiceLinks | None, invoice: Invoice | None) -> dict[str, Any]:
    """The template variables of the invoice page's link: its URL, and whether the invoice
    still asks for money (the link then says it is where to pay). Empty without links."""
    if links is None or invoice is None:
        return {}
    return {"invoice_url": links.url_for(invoice.id),
            "invoice_owed": invoice.status is InvoiceStatus.OPEN
            and invoice.amount_due.is_positive()}


class NoticeComposer:
    """Implements the handlers' MessageComposer port with adapters/notices.py.

    With `links`, every message about an invoice carries the link to its page.
    """

    def __init__(self, *, links: InvoiceLinks | None = None) -> None:
        self._links = links

    def compose(self, *, kind: str, account: Account, invoice: Invoice | None,
                attempt: PaymentAttempt | None, **extra: Any) -> tuple[str, str, str | None]:
        amount = attempt.amount if attempt is not None else (
            invoice.amount_due if invoice is not None else None)
        context: dict[str, Any] = {
            "account_name": account.name,
            "invoice_number": invoice.number if invoice is not None else "",
            "amount": amount,
            "due_on": invoice.due_on if invoice is not None else None,
            **invoice_link_context(self._links, invoice),
            **extra,
        }
        notice = render_notice(kind=NoticeKind(kind), language=account.language, context=context)
        return notice.subject, notice.text, None
