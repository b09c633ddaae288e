"""The scenario report: the `--json` document of shared/scenario.md, and its readable form."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from adapters.bank_details import BankDetails
from adapters.documents import PaymentDetails, render_text
from domain.accounts import Account, MethodType
from domain.dunning import NoticeKind
from domain.invoices import Invoice, InvoiceLine, Section
from domain.payments import PaymentAttempt
from domain.ports import UnitOfWork
from workers.simulate.report_setups import render_setups, setups_doc

#: Outbox kinds that are dunning notices (the report's `notices`).
DUNNING_NOTICE_KINDS = frozenset(kind.value for kind in NoticeKind)


def _line(line: InvoiceLine) -> dict[str, Any]:
    doc: dict[str, Any] = {"description": line.description, "item": line.item,
                           "quantity": line.quantity, "unit_amount": line.unit_amount.minor,
                           "amount": line.amount.minor}
    if line.from_on is not None and line.to_on is not None:
        doc["from"] = line.from_on.isoformat()
        doc["to"] = line.to_on.isoformat()
    return doc


def invoice_doc(invoice: Invoice) -> dict[str, Any]:
    return {
        "account": invoice.account_id,
        "id": invoice.id,
        "number": invoice.number,
        "issued_on": invoice.issued_on.isoformat(),
        "due_on": invoice.due_on.isoformat(),
        "kind": invoice.kind.value,
        "period": {"start": invoice.period.start.isoformat(),
                   "end": invoice.period.end.isoformat()},
        "currency": invoice.currency,
        "sections": {section.value: [_line(line) for line in invoice.lines_in(section)]
                     for section in Section},
        "charges": invoice.charges.minor,
        "previous_amount_due": invoice.previous.minor,
        "total": invoice.total.minor,
        "payment_method": invoice.payment_method,
        "payment_reference": invoice.payment_reference,
        "status": invoice.status.value,
        "amount_paid": invoice.paid.minor,
        "amount_carried": invoice.carried.minor,
        "amount_due": invoice.amount_due.minor,
        "carried_to": invoice.carried_to,
    }


def payment_doc(attempt: PaymentAttempt, invoice_number: str) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "account": attempt.account_id, "invoice": invoice_number, "attempt_id": attempt.id,
        "method": attempt.method.value, "attempt": attempt.number,
        "created_on": attempt.created_at.date().isoformat(),
        "scheduled_for": attempt.scheduled_for.date().isoformat()
        if attempt.scheduled_for else None,
        "status": attempt.status.value, "amount": attempt.amount.minor,
        "reason": attempt.reason,
    }
    if attempt.failure_code:
        doc["failure"] = {"code": attempt.failure_code,
                          "class": attempt.failure_class.value if attempt.failure_class else None}
    if attempt.amount_reversed is not None and attempt.amount_reversed.minor:
        doc["amount_reversed"] = attempt.amount_reversed.minor
    return doc


def build_document(uow: UnitOfWork, *, account_ids: Sequence[str]) -> dict[str, Any]:
    """Everything the scenario produced, oldest first, from the database (the source of truth)."""
    invoices: list[Invoice] = []
    payments: list[dict[str, Any]] = []
    balances: dict[str, int] = {}
    messages: list[dict[str, Any]] = []
    for account_id in account_ids:
        account = uow.accounts.get(account_id=account_id)
        assert account is not None
        account_invoices = sorted(uow.invoices.list(account_id=account_id),
                                  key=lambda inv: (inv.issued_on, inv.number))
        invoices.extend(account_invoices)
        for invoice in account_invoices:
            for attempt in uow.attempts.list_for_invoice(invoice_id=invoice.id):
                payments.append(payment_doc(attempt, invoice.number))
        balances[account_id] = uow.ledger.balance(account_id=account_id,
                                                  currency=account.currency).minor
    for notification in uow.outbox.list_all() if hasattr(uow.outbox, "list_all") else []:
        messages.append({"account": notification.account_id, "kind": notification.kind,
                         "on": notification.created_at.date().isoformat(),
                         "subject": notification.subject})
    payments.sort(key=lambda p: (p["created_on"], p["account"], p["invoice"], p["attempt"]))
    return {"invoices": [invoice_doc(inv) for inv in invoices], "payments": payments,
            "balances": balances, "notices": _notices(uow, account_ids=account_ids),
            "standings": {account_id: _standing(uow, account_id) for account_id in account_ids},
            "refused": _refused(uow, account_ids=account_ids), "messages": messages,
            "subscriptions": _subscriptions(uow, account_ids=account_ids),
            "setups": setups_doc(uow, account_ids=account_ids)}


def _subscriptions(uow: UnitOfWork, *, account_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Each subscription: active, canceling or ended (with its end day and why)."""
    return [{"account": account_id, "id": s.id, "started_on": s.started_on.isoformat(),
             "status": s.state.value, "ends_on": s.ends_on.isoformat() if s.ends_on else None,
             "end_reason": s.end_reason}
            for account_id in account_ids
            for s in uow.subscriptions.list_for_account(account_id=account_id)]


def _notices(uow: UnitOfWork, *, account_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The dunning notices queued in the outbox, in the order they went out."""
    numbers = {inv.id: inv.number for account_id in account_ids
               for inv in uow.invoices.list(account_id=account_id)}
    wanted = set(account_ids)
    return [{"account": n.account_id, "on": n.created_at.date().isoformat(), "kind": n.kind,
             "invoice": numbers.get(n.dedupe_key.partition(":")[2])}
            for n in uow.outbox.list_all()
            if n.kind in DUNNING_NOTICE_KINDS and n.account_id in wanted]


def _standing(uow: UnitOfWork, account_id: str) -> str:
    account = uow.accounts.get(account_id=account_id)
    assert account is not None
    return account.standing.value


def _refused(uow: UnitOfWork, *, account_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Customer actions the system refused (a restricted account adding units)."""
    refused: list[dict[str, Any]] = []
    for account_id in account_ids:
        for subscription in uow.subscriptions.list_for_account(account_id=account_id):
            refused.extend({"account": account_id, "on": entry.details.get("on"),
                            "action": entry.action, "reason": entry.reason}
                           for entry in uow.audit.list(target=subscription.id, limit=1000)
                           if entry.action == "units.refused")
    return sorted(refused, key=lambda r: (r["on"] or "", r["account"]))


def payment_details(invoice: Invoice, account: Account,
                    bank: dict[str, BankDetails]) -> PaymentDetails:
    method = MethodType(invoice.payment_method)
    if method is MethodType.WIRE:
        return PaymentDetails(method=method, bank_details=bank.get(invoice.currency),
                              wire_reference=invoice.payment_reference,
                              wire_due_on=invoice.due_on)
    if method is MethodType.DIRECT_DEBIT:
        return PaymentDetails(method=method, mandate_scheme=account.payment_method.scheme,
                              mandate_reference=account.payment_method.provider_method)
    shown = account.payment_method.display
    if shown is not None and shown.last4:
        return PaymentDetails(method=method, card_brand=(shown.brand or "card").title(),
                              card_last4=shown.last4)
    return PaymentDetails(method=method, card_brand="Visa", card_last4="4242")


def render_report(uow: UnitOfWork, document: dict[str, Any], *,
                  bank: dict[str, BankDetails], period: tuple[date, date]) -> str:
    """The readable report: every invoice as the customer sees it, then payments and balances."""
    out: list[str] = [f"Paycollect simulation {period[0]} → {period[1]}", ""]
    for doc in document["invoices"]:
        invoice = uow.invoices.get(invoice_id=doc["id"])
        account = uow.accounts.get(account_id=doc["account"])
        assert invoice is not None and account is not None
        out.append(render_text(invoice, account_name=account.name, language=account.language,
                               payment_details=payment_details(invoice, account, bank)))
        out.append(f"  status: {doc['status']}  paid: {doc['amount_paid']}  "
                   f"due: {doc['amount_due']}"
                   + (f"  carried forward to {doc['carried_to']}" if doc["carried_to"] else ""))
        out.append("")
    out.append("Payments")
    for p in document["payments"]:
        failure = p.get("failure")
        why = f"  {failure['class']}: {failure['code']}" if failure else ""
        out.append(f"  {p['created_on']}  {p['account']:<12} {p['invoice']:<16} "
                   f"{p['method']:<13} #{p['attempt']:<2} {p['status']:<18} "
                   f"{p['amount']:>10}{why}")
    out.extend(render_setups(document["setups"]))
    out.append("")
    out.append("Balances (minor units; positive: owed by the customer)")
    for account_id, minor in document["balances"].items():
        out.append(f"  {account_id:<12} {minor:>10}")
    return "\n".join(out) + "\n"
