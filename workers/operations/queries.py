"""Read-only views for operators: failed payments, invoices, an account with its ledger."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from adapters.bank_details import DEMO_BANK_DETAILS, BankDetails, load_bank_details
from adapters.documents import render_html, render_text
from domain.accounts import Account, MethodType
from domain.invoices import Invoice, InvoiceStatus
from domain.outcomes import DeclineKind
from domain.payments import AttemptStatus, PaymentAttempt
from domain.ports import UnitOfWork
from workers.handlers.deps import Deps
from workers.operations.errors import NotFoundError
from workers.simulate.report import invoice_doc, payment_details


def failed_payments(deps: Deps, *, method: MethodType | None = None, reason: str | None = None,
                    since: datetime | None = None, account_id: str | None = None,
                    limit: int = 1000) -> list[dict[str, Any]]:
    """The latest failed attempt of every open invoice that still owes money, newest first.

    `reason` matches the failure class (soft, hard, customer_action) or the failure code.
    """
    failure_class = reason if reason in {k.value for k in DeclineKind} else None
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    with deps.uow_factory() as uow:
        for attempt in uow.attempts.failed(account_id=account_id, since=since, limit=limit,
                                           failure_class=DeclineKind(failure_class)
                                           if failure_class else None):
            if attempt.invoice_id in seen or (method is not None and attempt.method is not method):
                continue
            if reason is not None and failure_class is None and attempt.failure_code != reason:
                continue
            seen.add(attempt.invoice_id)
            invoice = uow.invoices.get(invoice_id=attempt.invoice_id)
            if invoice is None or invoice.status is not InvoiceStatus.OPEN \
                    or not invoice.amount_due.is_positive():
                continue
            rows.append(_failed_row(uow, attempt=attempt, invoice=invoice))
    return rows


def _failed_row(uow: UnitOfWork, *, attempt: PaymentAttempt, invoice: Invoice) -> dict[str, Any]:
    attempts = uow.attempts.list_for_invoice(invoice_id=invoice.id)
    retry = next((a for a in attempts if a.status is AttemptStatus.SCHEDULED), None)
    return {
        "attempt": attempt.id, "account": attempt.account_id, "invoice": invoice.number,
        "invoice_id": invoice.id, "method": attempt.method.value,
        "amount": str(invoice.amount_due), "amount_minor": invoice.amount_due.minor,
        "currency": invoice.currency, "status": attempt.status.value,
        "failure_class": attempt.failure_class.value if attempt.failure_class else None,
        "failure_code": attempt.failure_code, "attempts": len(attempts),
        "failed_at": attempt.updated_at.isoformat(),
        "next_retry": retry.scheduled_for.isoformat()
        if retry is not None and retry.scheduled_for else None,
    }


def list_invoices(deps: Deps, *, account_id: str | None = None,
                  status: InvoiceStatus | None = None,
                  limit: int | None = None) -> list[dict[str, Any]]:
    with deps.uow_factory() as uow:
        if account_id is not None and uow.accounts.get(account_id=account_id) is None:
            raise NotFoundError(f"no account {account_id!r}")
        return [invoice_doc(inv) for inv in uow.invoices.list(account_id=account_id,
                                                              status=status, limit=limit)]


def find_invoice(uow: UnitOfWork, ident: str) -> Invoice:
    """By id, or by number (PC-2026-000042)."""
    invoice = uow.invoices.get(invoice_id=ident)
    if invoice is None:
        invoice = next((inv for inv in uow.invoices.list() if inv.number == ident), None)
    if invoice is None:
        raise NotFoundError(f"no invoice with id or number {ident!r}")
    return invoice


def _bank_details() -> dict[str, BankDetails]:
    return load_bank_details(os.environ) or dict(DEMO_BANK_DETAILS)


def show_invoice(deps: Deps, *, ident: str, html: bool = False) -> dict[str, Any]:
    """The invoice document, its attempts, and the customer's rendering (text or HTML)."""
    with deps.uow_factory() as uow:
        invoice = find_invoice(uow, ident)
        account = uow.accounts.get(account_id=invoice.account_id)
        assert account is not None, "an invoice always has its account"
        attempts = uow.attempts.list_for_invoice(invoice_id=invoice.id)
    details = payment_details(invoice, account, _bank_details())
    render = render_html if html else render_text
    doc = invoice_doc(invoice)
    doc["attempts"] = [{"id": a.id, "number": a.number, "method": a.method.value,
                        "status": a.status.value, "amount_minor": a.amount.minor,
                        "failure_code": a.failure_code,
                        "failure_class": a.failure_class.value if a.failure_class else None}
                       for a in attempts]
    doc["rendered"] = render(invoice, account_name=account.name, language=account.language,
                             payment_details=details)
    return doc


def _method(account: Account) -> dict[str, Any]:
    method = account.payment_method
    return {"type": method.type.value, "scheme": method.scheme, "usable": method.usable,
            "provider_customer": method.provider_customer,
            "provider_method": method.provider_method}


def show_account(deps: Deps, *, account_id: str) -> dict[str, Any]:
    """The account, its standing and payment method, and its ledger with a running balance."""
    with deps.uow_factory() as uow:
        account = uow.accounts.get(account_id=account_id)
        if account is None:
            raise NotFoundError(f"no account {account_id!r}")
        entries = uow.ledger.list_for_account(account_id=account_id)
        numbers = {inv.id: inv.number for inv in uow.invoices.list(account_id=account_id)}
        open_invoices = [inv.number for inv in
                         uow.invoices.list_open_for_account(account_id=account_id)]
        subscriptions = [{"id": s.id, "started_on": s.started_on.isoformat(),
                          "status": s.state.value,
                          "ends_on": s.ends_on.isoformat() if s.ends_on else None,
                          "end_reason": s.end_reason}
                         for s in uow.subscriptions.list_for_account(account_id=account_id)]
    running = 0
    ledger = []
    for item in entries:
        running += item.amount.minor
        ledger.append({"on": item.on.isoformat(), "kind": item.kind.value,
                       "amount_minor": item.amount.minor, "balance_minor": running,
                       "invoice": numbers.get(item.invoice_id or "", item.invoice_id),
                       "memo": item.memo})
    return {"id": account.id, "name": account.name, "currency": account.currency,
            "language": account.language, "email": account.email,
            "standing": account.standing.value, "payment_method": _method(account),
            "balance_minor": running, "open_invoices": open_invoices, "ledger": ledger,
            "subscriptions": subscriptions}
