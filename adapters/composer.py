"""Customer messages for the outbox, from the notice templates in the account's language."""

from __future__ import annotations

from typing import Any

from adapters.notices import NoticeKind, render_notice
from domain.accounts import Account
from domain.invoices import Invoice
from domain.payments import PaymentAttempt


class NoticeComposer:
    """Implements the handlers' MessageComposer port with adapters/notices.py."""

    def compose(self, *, kind: str, account: Account, invoice: Invoice | None,
                attempt: PaymentAttempt | None, **extra: Any) -> tuple[str, str, str | None]:
        amount = attempt.amount if attempt is not None else (
            invoice.amount_due if invoice is not None else None)
        context: dict[str, Any] = {
            "account_name": account.name,
            "invoice_number": invoice.number if invoice is not None else "",
            "amount": amount,
            "due_on": invoice.due_on if invoice is not None else None,
            **extra,
        }
        notice = render_notice(kind=NoticeKind(kind), language=account.language, context=context)
        return notice.subject, notice.text, None
