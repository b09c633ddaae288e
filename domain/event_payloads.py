"""The `data.object` of each outgoing event: plain JSON, amounts in minor units + currency.

Pure builders (state in, dict out), so every emitter describes an invoice or a payment the
same way and tests can pin the shapes without a database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.accounts import PaymentMethod, Standing
from domain.invoices import Invoice
from domain.money import Money
from domain.payments import PaymentAttempt


def money(amount: Money) -> dict[str, Any]:
    return {"amount": amount.minor, "currency": amount.currency}


def invoice_object(invoice: Invoice) -> dict[str, Any]:
    return {"object": "invoice", "id": invoice.id, "number": invoice.number,
            "account": invoice.account_id, "subscription": invoice.subscription_id,
            "kind": invoice.kind.value, "status": invoice.status.value,
            "issued_on": invoice.issued_on.isoformat(), "due_on": invoice.due_on.isoformat(),
            "period": {"start": invoice.period.start.isoformat(),
                       "end": invoice.period.end.isoformat()},
            "currency": invoice.currency, "total": invoice.total.minor,
            "previous_amount_due": invoice.previous.minor, "amount_paid": invoice.paid.minor,
            "amount_carried": invoice.carried.minor, "amount_due": invoice.amount_due.minor,
            "payment_method": invoice.payment_method, "carried_to": invoice.carried_to}


def payment_object(attempt: PaymentAttempt, *, invoice: Invoice,
                   next_retry_at: datetime | None = None) -> dict[str, Any]:
    """A payment attempt; failures carry the decline class and code and the next retry."""
    body: dict[str, Any] = {
        "object": "payment", "id": attempt.id, "invoice": invoice.id,
        "invoice_number": invoice.number, "account": attempt.account_id,
        "method": attempt.method.value, "attempt": attempt.number,
        "status": attempt.status.value, **money(attempt.amount)}
    if attempt.failure_class is not None or attempt.failure_code is not None:
        body["failure"] = {
            "class": attempt.failure_class.value if attempt.failure_class else None,
            "code": attempt.failure_code, "message": attempt.failure_message}
    body["next_retry_at"] = next_retry_at.isoformat() if next_retry_at else None
    return body


def payment_method_required(*, account_id: str, method: PaymentMethod,
                            reason: str) -> dict[str, Any]:
    return {"object": "payment_method_requirement", "account": account_id,
            "method": method.type.value, "reason": reason}


def standing_change(*, account_id: str, before: Standing, after: Standing,
                    reason: str) -> dict[str, Any]:
    """`to` is the new standing, or "reinstated" when an account comes back to active."""
    to = ("reinstated" if after is Standing.ACTIVE and before is not Standing.ACTIVE
          else after.value)
    return {"object": "account_standing", "account": account_id, "from": before.value,
            "to": to, "standing": after.value, "reason": reason}


def subscription_canceled(*, subscription_id: str, account_id: str, ends_on: str,
                          reason: str) -> dict[str, Any]:
    return {"object": "subscription", "id": subscription_id, "account": account_id,
            "status": "canceled", "ends_on": ends_on, "reason": reason}
