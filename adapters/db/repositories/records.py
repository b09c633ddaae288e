"""The outbox, the audit log, unmatched wires and stored webhook events."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, or_
from sqlmodel import Session, col, select

from adapters.db import mappers
from adapters.db.repositories._sql import (
    fresh,
    insert,
    insert_later_unless_exists,
    insert_unless_exists,
    run,
    table_of,
)
from adapters.db.tables import (
    AuditRow,
    BankTransactionRow,
    NotificationRow,
    UnmatchedTransferRow,
    WebhookEventRow,
)
from domain.errors import NotFound
from domain.records import (
    AuditEntry,
    BankTransaction,
    Notification,
    UnmatchedTransfer,
    WebhookEvent,
)

_NOTIFICATIONS = table_of(NotificationRow)
_TRANSFERS = table_of(UnmatchedTransferRow)
_WEBHOOKS = table_of(WebhookEventRow)
_BANK_TRANSACTIONS = table_of(BankTransactionRow)
_NOTIFICATION_BY_ID = _NOTIFICATIONS.select().where(
    _NOTIFICATIONS.c.id == bindparam("notification_id"))


def _claimable() -> ColumnElement[bool]:
    n = _NOTIFICATIONS.c
    return and_(n.sent_at.is_(None), n.attempts < bindparam("max_attempts"),
                or_(n.claimed_until.is_(None), n.claimed_until <= bindparam("now")))


#: The claim re-tests the conditions on the rows it updates. Its choice skips rows another
#: drain has locked: without SKIP LOCKED, concurrent drains picked overlapping rows and
#: locked them in different orders, and PostgreSQL aborted one of them as a deadlock (the
#: pipeline bench saw a dozen per run, each drain then retried after a backoff). The choice
#: is made once, as a materialized CTE: as a subquery of the UPDATE, PostgreSQL may scan it
#: again per row, and a rescan skips the rows the UPDATE has just changed and takes more.
_CHOSEN = (select(_NOTIFICATIONS.c.id).where(_claimable())
           .order_by(_NOTIFICATIONS.c.created_at, _NOTIFICATIONS.c.id)
           .limit(bindparam("limit")).with_for_update(skip_locked=True)
           .cte("chosen").prefix_with("MATERIALIZED"))
_CLAIM_UNSENT = (
    _NOTIFICATIONS.update()
    .where(_NOTIFICATIONS.c.id.in_(select(_CHOSEN.c.id)), _claimable())
    .values(claimed_until=bindparam("until"))
    .returning(*_NOTIFICATIONS.c))


class SqlOutboxRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, *, notification: Notification) -> bool:
        return insert_unless_exists(self._session, _NOTIFICATIONS,
                                    mappers.notification_values(notification),
                                    conflict_on=["dedupe_key"])

    def add_later(self, *, notification: Notification,
                  inserted: Callable[[bool], None]) -> None:
        insert_later_unless_exists(self._session, _NOTIFICATIONS,
                                   mappers.notification_values(notification),
                                   conflict_on=["dedupe_key"], inserted=inserted)

    def get(self, *, notification_id: str) -> Notification | None:
        row = run(self._session, _NOTIFICATION_BY_ID, {"notification_id": notification_id}).first()
        return None if row is None else mappers.notification_from_row(row)

    def unsent(self, *, limit: int, max_attempts: int | None = None,
               min_attempts: int | None = None) -> list[Notification]:
        statement = select(NotificationRow).where(col(NotificationRow.sent_at).is_(None))
        if max_attempts is not None:
            statement = statement.where(col(NotificationRow.attempts) < max_attempts)
        if min_attempts is not None:
            statement = statement.where(col(NotificationRow.attempts) >= min_attempts)
        rows = self._session.exec(fresh(statement.order_by(col(NotificationRow.created_at),
                                                           col(NotificationRow.id))
                                        .limit(limit)))
        return [mappers.notification_from_row(row) for row in rows]

    def claim_unsent(self, *, now: datetime, until: datetime, limit: int,
                     max_attempts: int) -> list[Notification]:
        rows = run(self._session, _CLAIM_UNSENT, {"now": now, "until": until, "limit": limit,
                                                  "max_attempts": max_attempts}).all()
        return sorted((mappers.notification_from_row(row) for row in rows),
                      key=lambda n: (n.created_at, n.id))

    def list_all(self) -> list[Notification]:
        rows = self._session.exec(fresh(select(NotificationRow).order_by(
            col(NotificationRow.created_at), col(NotificationRow.id))))
        return [mappers.notification_from_row(row) for row in rows]

    def mark_sent(self, *, notification_id: str, at: datetime) -> None:
        self._update(notification_id, sent_at=at, attempts=_NOTIFICATIONS.c.attempts + 1)

    def mark_sent_many(self, *, notification_ids: Collection[str], at: datetime) -> None:
        if notification_ids:
            run(self._session, _NOTIFICATIONS.update()
                .where(_NOTIFICATIONS.c.id.in_(list(notification_ids)))
                .values(sent_at=at, attempts=_NOTIFICATIONS.c.attempts + 1))

    def release(self, *, notification_ids: Collection[str]) -> None:
        if notification_ids:
            run(self._session, _NOTIFICATIONS.update()
                .where(_NOTIFICATIONS.c.id.in_(list(notification_ids)),
                       _NOTIFICATIONS.c.sent_at.is_(None))
                .values(attempts=0, claimed_until=None))

    def record_failure(self, *, notification_id: str) -> None:
        self._update(notification_id, attempts=_NOTIFICATIONS.c.attempts + 1)

    def _update(self, notification_id: str, **values: object) -> None:
        result = run(self._session, _NOTIFICATIONS.update()
                     .where(_NOTIFICATIONS.c.id == notification_id).values(**values))
        if result.rowcount != 1:
            raise NotFound(f"notification {notification_id}")


class SqlAuditRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, *, entry: AuditEntry) -> None:
        insert(self._session, table_of(AuditRow), mappers.audit_values(entry))

    def list(self, *, target: str | None = None, limit: int = 100) -> list[AuditEntry]:
        statement = select(AuditRow)
        if target is not None:
            statement = statement.where(AuditRow.target == target)
        rows = self._session.exec(statement.order_by(col(AuditRow.id)).limit(limit))
        return [mappers.audit_from_row(row) for row in rows]


class SqlUnmatchedTransferRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, *, transfer: UnmatchedTransfer) -> None:
        insert(self._session, _TRANSFERS, mappers.transfer_values(transfer))

    def get(self, *, transfer_id: str) -> UnmatchedTransfer | None:
        row = self._session.exec(fresh(select(UnmatchedTransferRow).where(
            UnmatchedTransferRow.id == transfer_id))).first()
        return None if row is None else mappers.transfer_from_row(row)

    def list(self, *, resolved: bool | None = False) -> list[UnmatchedTransfer]:
        statement = select(UnmatchedTransferRow)
        if resolved is not None:
            statement = statement.where(UnmatchedTransferRow.resolved == resolved)
        rows = self._session.exec(fresh(statement.order_by(col(UnmatchedTransferRow.received_on),
                                                           col(UnmatchedTransferRow.id))))
        return [mappers.transfer_from_row(row) for row in rows]

    def resolve(self, *, transfer_id: str, note: str = "") -> None:
        result = self._session.exec(_TRANSFERS.update().where(_TRANSFERS.c.id == transfer_id)
                                    .values(resolved=True, note=note))
        if result.rowcount != 1:
            raise NotFound(f"unmatched transfer {transfer_id}")


class SqlBankTransactionRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, *, transaction: BankTransaction) -> bool:
        return insert_unless_exists(self._session, _BANK_TRANSACTIONS,
                                    mappers.bank_transaction_values(transaction),
                                    conflict_on=["bank_ref"])

    def get(self, *, bank_ref: str) -> BankTransaction | None:
        row = run(self._session, _BANK_TRANSACTIONS.select()
                  .where(_BANK_TRANSACTIONS.c.bank_ref == bank_ref)).first()
        return None if row is None else mappers.bank_transaction_from_row(row)


class SqlWebhookEventRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, *, event: WebhookEvent) -> bool:
        return insert_unless_exists(self._session, _WEBHOOKS, mappers.webhook_values(event),
                                    conflict_on=["provider", "event_id"])

    def get(self, *, provider: str, event_id: str) -> WebhookEvent | None:
        row = self._session.exec(fresh(select(WebhookEventRow).where(
            WebhookEventRow.provider == provider, WebhookEventRow.event_id == event_id))).first()
        return None if row is None else mappers.webhook_from_row(row)

    def mark_processed(self, *, provider: str, event_id: str, at: datetime,
                       note: str | None = None) -> None:
        values: dict[str, Any] = {"processed_at": at, "next_attempt_at": None}
        if note is not None:
            values["note"] = note
        self._update(provider, event_id, values)

    def unprocessed(self, *, received_before: datetime, limit: int) -> list[WebhookEvent]:
        rows = self._session.exec(fresh(
            select(WebhookEventRow)
            .where(col(WebhookEventRow.processed_at).is_(None),
                   col(WebhookEventRow.received_at) < received_before)
            .order_by(col(WebhookEventRow.received_at), col(WebhookEventRow.event_id))
            .limit(limit)))
        return [mappers.webhook_from_row(row) for row in rows]

    def record_attempt(self, *, provider: str, event_id: str, note: str,
                       next_attempt_at: datetime) -> None:
        self._update(provider, event_id, {"attempts": _WEBHOOKS.c.attempts + 1, "note": note,
                                          "next_attempt_at": next_attempt_at})

    def due(self, *, now: datetime, received_before: datetime,
            limit: int) -> list[WebhookEvent]:
        row = WebhookEventRow
        rows = self._session.exec(fresh(
            select(row)
            .where(col(row.processed_at).is_(None),
                   or_(col(row.next_attempt_at) <= now,
                       and_(col(row.next_attempt_at).is_(None),
                            col(row.received_at) < received_before)))
            .order_by(col(row.received_at), col(row.event_id))
            .limit(limit)))
        return [mappers.webhook_from_row(found) for found in rows]

    def for_resource(self, *, provider: str, resource_id: str) -> list[WebhookEvent]:
        row = WebhookEventRow
        rows = self._session.exec(fresh(
            select(row).where(row.provider == provider, row.resource_id == resource_id)
            .order_by(col(row.occurred_at), col(row.event_id))))
        return [mappers.webhook_from_row(found) for found in rows]

    def list(self, *, status: str | None = None, provider: str | None = None,
             limit: int = 100) -> list[WebhookEvent]:
        row = WebhookEventRow
        statement = select(row).order_by(col(row.received_at).desc(), col(row.event_id).desc())
        if provider is not None:
            statement = statement.where(row.provider == provider)
        if status == "processed":
            statement = statement.where(col(row.processed_at).is_not(None))
        elif status == "pending":
            statement = statement.where(col(row.processed_at).is_(None), row.attempts == 0)
        elif status == "parked":
            statement = statement.where(col(row.processed_at).is_(None), row.attempts > 0)
        elif status is not None:
            raise ValueError(f"unknown webhook status {status!r}")
        rows = self._session.exec(fresh(statement.limit(limit)))
        return [mappers.webhook_from_row(found) for found in rows]

    def _update(self, provider: str, event_id: str, values: dict[str, Any]) -> None:
        result = self._session.exec(_WEBHOOKS.update()
                                    .where(_WEBHOOKS.c.provider == provider,
                                           _WEBHOOKS.c.event_id == event_id)
                                    .values(**values))
        if result.rowcount != 1:
            raise NotFound(f"webhook event {provider}/{event_id}")
