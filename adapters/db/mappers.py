"""Rows ↔ domain entities. `*_values` give the column values to insert; `*_from_row` rebuild
the frozen entity. Money becomes `<name>_minor` + the row's `currency` and back."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Label, Row, Table

from adapters.db.tables import (
    AuditRow,
    InvoiceLineRow,
    LedgerEntryRow,
    NotificationRow,
    SubscriptionRow,
    UnmatchedTransferRow,
    WebhookEventRow,
)
from domain.accounts import (
    Account,
    BillingAddress,
    MethodDisplay,
    MethodType,
    PaymentMethod,
    Standing,
)
from domain.billing import SubscriptionTerms
from domain.invoices import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, Period, Section
from domain.ledger import EntryKind, LedgerEntry
from domain.money import CurrencyMismatch, Money
from domain.outcomes import DeclineKind
from domain.payments import AttemptStatus, PaymentAttempt
from domain.plans import Interval, Plan
from domain.records import (
    AuditEntry,
    BankTransaction,
    Notification,
    UnmatchedTransfer,
    WebhookEvent,
)
from domain.subscriptions import Subscription, SubscriptionStatus


class Joined:
    """Several tables' columns selected in one row (a join), and each table's part of such a
    row cut back out as a row of that table alone, which the `*_from_row` mappers read.

    The parts are named tuples made by position: reading a column of one is a C-level
    index, where looking each one up by its prefixed name cost more than building the
    entities (55 lookups for an invoice, its attempt and its account)."""

    def __init__(self, *tables: tuple[Table, str]) -> None:
        #: Each table's columns, labelled with its prefix, in the order `split` expects.
        self.columns: list[Label[Any]] = [column.label(prefix + column.name)
                                          for table, prefix in tables for column in table.columns]
        self._parts: list[tuple[Any, int, int]] = []
        start = 0
        for table, _ in tables:
            names = [column.name for column in table.columns]
            self._parts.append((namedtuple(f"{table.name}_part", names),
                                start, start + len(names)))
            start += len(names)

    def split(self, row: Sequence[Any]) -> list[Any]:
        values = tuple(row)
        return [part._make(values[start:end]) for part, start, end in self._parts]


def _minor(amount: Money | None, currency: str) -> int | None:
    if amount is None:
        return None
    if amount.currency != currency:
        raise CurrencyMismatch(f"{amount} stored in a {currency} row")
    return amount.minor


def _money(minor: int | None, currency: str) -> Money | None:
    return None if minor is None else Money(minor, currency)


def method_values(method: PaymentMethod) -> dict[str, Any]:
    return {"method_type": method.type.value, "method_customer": method.provider_customer,
            "method_ref": method.provider_method, "method_scheme": method.scheme,
            "method_usable": method.usable, "method_details": dict(method.details),
            "method_display": method.display.as_dict() if method.display else None}


def account_values(account: Account, *, now: datetime) -> dict[str, Any]:
    return {"id": account.id, "name": account.name, "language": account.language,
            "currency": account.currency, "email": account.email,
            "standing": account.standing.value, **method_values(account.payment_method),
            **profile_values(account), "created_at": now, "updated_at": now}


def profile_values(account: Account) -> dict[str, Any]:
    """The columns a customer may change (PATCH /v1/accounts), besides its payment method."""
    address = account.billing_address
    return {"name": account.name, "language": account.language, "currency": account.currency,
            "email": account.email, "external_id": account.external_id,
            "billing_address": None if address is None else {
                key: value for key, value in asdict(address).items() if value is not None}}


def account_from_row(row: Any) -> Account:  # a row of its table, alone or a Joined part
    method = PaymentMethod(type=MethodType(row.method_type), provider_customer=row.method_customer,
                           provider_method=row.method_ref, scheme=row.method_scheme,
                           usable=row.method_usable, details=dict(row.method_details),
                           display=MethodDisplay.from_dict(row.method_display)
                           if row.method_display else None)
    address = row.billing_address
    return Account(id=row.id, name=row.name, currency=row.currency, language=row.language,
                   email=row.email, standing=Standing(row.standing), payment_method=method,
                   external_id=row.external_id,
                   billing_address=None if address is None else BillingAddress(**address))


def subscription_values(subscription: Subscription, *, now: datetime) -> dict[str, Any]:
    terms, plan = subscription.terms, subscription.plan
    currency = plan.currency
    return {
        "id": subscription.id, "account_id": subscription.account_id,
        "interval": plan.interval.value, "currency": currency,
        "user_price_minor": _minor(plan.user_price, currency),
        "number_price_minor": _minor(plan.number_price, currency),
        "minimum_users": plan.minimum_users, "minimum_numbers": plan.minimum_numbers,
        "outbound_per_minute_minor": _minor(plan.outbound_per_minute, currency),
        "toll_free_per_minute_minor": _minor(plan.toll_free_per_minute, currency),
        "started_on": terms.started_on, "initial_users": terms.users,
        "initial_numbers": terms.numbers, "status": subscription.status.value,
        "next_renewal_on": subscription.next_renewal_on,
        "billed_through": subscription.billed_through, "created_at": now, "updated_at": now,
        "external_id": subscription.external_id,
        "ends_on": subscription.ends_on, "end_reason": subscription.end_reason,
    }


def subscription_from_row(row: SubscriptionRow | Row[Any]) -> Subscription:
    currency = row.currency
    plan = Plan(interval=Interval(row.interval), currency=currency,
                user_price=Money(row.user_price_minor, currency),
                number_price=Money(row.number_price_minor, currency),
                minimum_users=row.minimum_users, minimum_numbers=row.minimum_numbers,
                outbound_per_minute=_money(row.outbound_per_minute_minor, currency),
                toll_free_per_minute=_money(row.toll_free_per_minute_minor, currency))
    terms = SubscriptionTerms(plan=plan, started_on=row.started_on, users=row.initial_users,
                              numbers=row.initial_numbers)
    return Subscription(id=row.id, account_id=row.account_id, terms=terms,
                        next_renewal_on=row.next_renewal_on,
                        status=SubscriptionStatus(row.status), billed_through=row.billed_through,
                        external_id=row.external_id, ends_on=row.ends_on,
                        end_reason=row.end_reason)


def invoice_values(invoice: Invoice, *, now: datetime) -> dict[str, Any]:
    currency = invoice.currency
    return {
        "id": invoice.id, "number": invoice.number, "account_id": invoice.account_id,
        "subscription_id": invoice.subscription_id, "kind": invoice.kind.value,
        "period_start": invoice.period.start, "period_end": invoice.period.end,
        "issued_on": invoice.issued_on, "due_on": invoice.due_on, "currency": currency,
        "payment_method": invoice.payment_method,
        "previous_amount_due_minor": _minor(invoice.previous_amount_due, currency),
        "charges_minor": invoice.charges.minor, "total_minor": invoice.total.minor,
        "amount_paid_minor": _minor(invoice.amount_paid, currency),
        "amount_carried_minor": _minor(invoice.amount_carried, currency),
        "status": invoice.status.value, "payment_reference": invoice.payment_reference,
        "carried_to": invoice.carried_to, "meta": dict(invoice.metadata),
        "created_at": now, "updated_at": now,
    }


def line_values(invoice: Invoice) -> list[dict[str, Any]]:
    currency = invoice.currency
    return [
        {"invoice_id": invoice.id, "position": position, "section": line.section.value,
         "item": line.item, "description": line.description, "quantity": line.quantity,
         "unit_amount_minor": _minor(line.unit_amount, currency),
         "amount_minor": _minor(line.amount, currency), "from_on": line.from_on,
         "to_on": line.to_on}
        for position, line in enumerate(invoice.lines)
    ]


def invoice_from_rows(row: Any,
                      lines: list[InvoiceLineRow] | list[Row[Any]] | None) -> Invoice:
    """`lines` must be this invoice's lines in `position` order; None reads the invoice
    without them (its charges come from the stored `charges_minor`)."""
    currency = row.currency
    return Invoice(
        id=row.id, number=row.number, account_id=row.account_id,
        subscription_id=row.subscription_id, kind=InvoiceKind(row.kind),
        period=Period(row.period_start, row.period_end), issued_on=row.issued_on,
        due_on=row.due_on, currency=currency, payment_method=row.payment_method,
        lines=tuple(InvoiceLine(section=Section(line.section), description=line.description,
                                quantity=line.quantity,
                                unit_amount=Money(line.unit_amount_minor, currency),
                                amount=Money(line.amount_minor, currency), from_on=line.from_on,
                                to_on=line.to_on, item=line.item) for line in lines or ()),
        previous_amount_due=_money(row.previous_amount_due_minor, currency),
        status=InvoiceStatus(row.status), amount_paid=_money(row.amount_paid_minor, currency),
        amount_carried=_money(row.amount_carried_minor, currency),
        payment_reference=row.payment_reference, carried_to=row.carried_to,
        metadata={str(key): str(value) for key, value in row.meta.items()},
        stored_charges=None if lines is not None else Money(row.charges_minor, currency),
    )


def ledger_values(entry: LedgerEntry, *, dedupe_key: str | None,
                  now: datetime) -> dict[str, Any]:
    return {"account_id": entry.account_id, "kind": entry.kind.value,
            "amount_minor": entry.amount.minor, "currency": entry.amount.currency,
            "booked_on": entry.on, "invoice_id": entry.invoice_id,
            "attempt_id": entry.attempt_id, "memo": entry.memo, "dedupe_key": dedupe_key,
            "created_at": now}


def ledger_from_row(row: LedgerEntryRow) -> LedgerEntry:
    return LedgerEntry(account_id=row.account_id, kind=EntryKind(row.kind),
                       amount=Money(row.amount_minor, row.currency), on=row.booked_on,
                       invoice_id=row.invoice_id, attempt_id=row.attempt_id, memo=row.memo)


def attempt_values(attempt: PaymentAttempt) -> dict[str, Any]:
    """Every column but `version`, which the repository manages."""
    currency = attempt.amount.currency
    return {
        "id": attempt.id, "invoice_id": attempt.invoice_id, "account_id": attempt.account_id,
        "method": attempt.method.value, "number": attempt.number,
        "amount_minor": attempt.amount.minor, "currency": currency,
        "status": attempt.status.value, "scheduled_for": attempt.scheduled_for,
        "provider_ref": attempt.provider_ref, "failure_code": attempt.failure_code,
        "failure_class": None if attempt.failure_class is None else attempt.failure_class.value,
        "failure_message": attempt.failure_message,
        "retry_schedule_days": ",".join(str(day) for day in attempt.retry_schedule_days),
        "reason": attempt.reason, "first_failed_at": attempt.first_failed_at,
        "amount_reversed_minor": _minor(attempt.amount_reversed, currency),
        "reversal_refs": list(attempt.reversal_refs),
        "cancelled_reversal_refs": list(attempt.cancelled_reversal_refs),
        "created_at": attempt.created_at, "updated_at": attempt.updated_at,
    }


def attempt_from_row(row: Any) -> PaymentAttempt:
    currency = row.currency
    return PaymentAttempt(
        id=row.id, invoice_id=row.invoice_id, account_id=row.account_id,
        method=MethodType(row.method), number=row.number,
        amount=Money(row.amount_minor, currency), status=AttemptStatus(row.status),
        created_at=row.created_at, updated_at=row.updated_at, scheduled_for=row.scheduled_for,
        provider_ref=row.provider_ref, failure_code=row.failure_code,
        failure_class=None if row.failure_class is None else DeclineKind(row.failure_class),
        failure_message=row.failure_message,
        retry_schedule_days=tuple(int(day) for day in row.retry_schedule_days.split(",") if day),
        reason=row.reason, first_failed_at=row.first_failed_at,
        amount_reversed=_money(row.amount_reversed_minor, currency),
        reversal_refs=tuple(row.reversal_refs),
        cancelled_reversal_refs=tuple(row.cancelled_reversal_refs),
    )


def notification_values(notification: Notification) -> dict[str, Any]:
    return {"id": notification.id, "account_id": notification.account_id,
            "kind": notification.kind, "dedupe_key": notification.dedupe_key,
            "to_address": notification.to_address, "subject": notification.subject,
            "body_text": notification.body_text, "body_html": notification.body_html,
            "created_at": notification.created_at, "sent_at": notification.sent_at,
            "attempts": notification.attempts}


def notification_from_row(row: NotificationRow | Row[Any]) -> Notification:
    return Notification(id=row.id, account_id=row.account_id, kind=row.kind,
                        dedupe_key=row.dedupe_key, to_address=row.to_address,
                        subject=row.subject, body_text=row.body_text,
                        created_at=row.created_at, body_html=row.body_html,
                        sent_at=row.sent_at, attempts=row.attempts)


def audit_values(entry: AuditEntry) -> dict[str, Any]:
    return {"at": entry.at, "actor": entry.actor, "action": entry.action,
            "target": entry.target, "reason": entry.reason, "details": dict(entry.details)}


def audit_from_row(row: AuditRow) -> AuditEntry:
    return AuditEntry(at=row.at, actor=row.actor, action=row.action, target=row.target,
                      reason=row.reason, details=dict(row.details))


def transfer_values(transfer: UnmatchedTransfer) -> dict[str, Any]:
    return {"id": transfer.id, "reference": transfer.reference,
            "amount_minor": transfer.amount.minor, "currency": transfer.amount.currency,
            "received_on": transfer.received_on, "note": transfer.note,
            "resolved": transfer.resolved}


def transfer_from_row(row: UnmatchedTransferRow) -> UnmatchedTransfer:
    return UnmatchedTransfer(id=row.id, reference=row.reference,
                             amount=Money(row.amount_minor, row.currency),
                             received_on=row.received_on, note=row.note, resolved=row.resolved)


def bank_transaction_values(transaction: BankTransaction) -> dict[str, Any]:
    return {"bank_ref": transaction.bank_ref, "reference": transaction.reference,
            "amount_minor": transaction.amount.minor, "currency": transaction.amount.currency,
            "received_on": transaction.received_on, "invoice_id": transaction.invoice_id,
            "recorded_at": transaction.recorded_at}


def bank_transaction_from_row(row: Row[Any]) -> BankTransaction:
    return BankTransaction(bank_ref=row.bank_ref, reference=row.reference,
                           amount=Money(row.amount_minor, row.currency),
                           received_on=row.received_on, invoice_id=row.invoice_id,
                           recorded_at=row.recorded_at)


def webhook_values(event: WebhookEvent) -> dict[str, Any]:
    return {"provider": event.provider, "event_id": event.event_id, "type": event.type,
            "payload": event.payload, "received_at": event.received_at,
            "processed_at": event.processed_at, "resource_id": event.resource_id,
            "occurred_at": event.occurred_at, "attempts": event.attempts,
            "next_attempt_at": event.next_attempt_at, "note": event.note}


def webhook_from_row(row: WebhookEventRow) -> WebhookEvent:
    return WebhookEvent(provider=row.provider, event_id=row.event_id, type=row.type,
                        payload=dict(row.payload), received_at=row.received_at,
                        processed_at=row.processed_at, resource_id=row.resource_id,
                        occurred_at=row.occurred_at, attempts=row.attempts,
                        next_attempt_at=row.next_attempt_at, note=row.note)
