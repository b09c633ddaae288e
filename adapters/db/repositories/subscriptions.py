"""Subscriptions and the scheduler's due query (reads the `next_renewal_on` index)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from adapters.db import mappers
from adapters.db.repositories._sql import fresh, insert, table_of, unique_or
from adapters.db.tables import SUBSCRIPTION_EXTERNAL_ID, SubscriptionRow
from domain.errors import DuplicateExternalId, UnknownSubscription
from domain.subscriptions import Subscription, SubscriptionStatus

_TABLE = table_of(SubscriptionRow)


class SqlSubscriptionRepository:
    def __init__(self, session: Session, clock: Callable[[], datetime]) -> None:
        self._session = session
        self._now = clock

    def add(self, *, subscription: Subscription) -> None:
        values = mappers.subscription_values(subscription, now=self._now())
        duplicate = (None if subscription.external_id is None else DuplicateExternalId(
            what="subscription", external_id=subscription.external_id))
        with unique_or(duplicate, table=_TABLE, index=SUBSCRIPTION_EXTERNAL_ID):
            insert(self._session, _TABLE, values)

    def by_external_id(self, *, external_id: str) -> Subscription | None:
        row = self._session.exec(fresh(select(SubscriptionRow).where(
            SubscriptionRow.external_id == external_id))).first()
        return None if row is None else mappers.subscription_from_row(row)

    def get(self, *, subscription_id: str) -> Subscription | None:
        row = self._session.exec(fresh(select(SubscriptionRow).where(
            SubscriptionRow.id == subscription_id))).first()
        return None if row is None else mappers.subscription_from_row(row)

    def list_for_account(self, *, account_id: str) -> list[Subscription]:
        rows = self._session.exec(fresh(select(SubscriptionRow)
                                        .where(SubscriptionRow.account_id == account_id)
                                        .order_by(col(SubscriptionRow.started_on),
                                                  col(SubscriptionRow.id))))
        return [mappers.subscription_from_row(row) for row in rows]

    def due(self, *, as_of: date, limit: int) -> list[Subscription]:
        rows = self._session.exec(fresh(
            select(SubscriptionRow)
            .where(col(SubscriptionRow.next_renewal_on) <= as_of,
                   SubscriptionRow.status == SubscriptionStatus.ACTIVE.value,
                   # Ending: no renewal on or after its end day (the final invoice instead).
                   or_(col(SubscriptionRow.ends_on).is_(None),
                       col(SubscriptionRow.next_renewal_on) < col(SubscriptionRow.ends_on)))
            .order_by(col(SubscriptionRow.next_renewal_on), col(SubscriptionRow.id))
            .limit(limit)))
        return [mappers.subscription_from_row(row) for row in rows]

    def set_next_renewal(self, *, subscription_id: str, billed_through: date,
                         next_renewal_on: date, expected_next: date | None = None) -> bool:
        where = [_TABLE.c.id == subscription_id]
        if expected_next is not None:
            where.append(_TABLE.c.next_renewal_on == expected_next)
        updated = self._update(where, {"billed_through": billed_through,
                                       "next_renewal_on": next_renewal_on})
        if not updated and expected_next is None:
            raise UnknownSubscription(subscription_id)
        return updated

    def set_status(self, *, subscription_id: str, status: SubscriptionStatus) -> None:
        if not self._update([_TABLE.c.id == subscription_id], {"status": status.value}):
            raise UnknownSubscription(subscription_id)

    def claim_renewal(self, *, subscription_id: str, now: datetime, until: datetime) -> bool:
        claimable = or_(_TABLE.c.renewal_claimed_until.is_(None),
                        _TABLE.c.renewal_claimed_until <= now)
        # An ended subscription is never renewed, even by a renewal that read it before.
        live = _TABLE.c.status == SubscriptionStatus.ACTIVE.value
        return self._update([_TABLE.c.id == subscription_id, claimable, live],
                            {"renewal_claimed_until": until})

    def ending_due(self, *, as_of: date, limit: int) -> list[Subscription]:
        rows = self._session.exec(fresh(
            select(SubscriptionRow)
            .where(col(SubscriptionRow.ends_on) <= as_of,
                   SubscriptionRow.status == SubscriptionStatus.ACTIVE.value)
            .order_by(col(SubscriptionRow.ends_on), col(SubscriptionRow.id))
            .limit(limit)))
        return [mappers.subscription_from_row(row) for row in rows]

    def schedule_end(self, *, subscription_id: str, ends_on: date, reason: str) -> bool:
        live = _TABLE.c.status == SubscriptionStatus.ACTIVE.value
        return self._update([_TABLE.c.id == subscription_id, live],
                            {"ends_on": ends_on, "end_reason": reason})

    def end(self, *, subscription_id: str, ends_on: date, reason: str) -> bool:
        live = _TABLE.c.status == SubscriptionStatus.ACTIVE.value
        return self._update([_TABLE.c.id == subscription_id, live],
                            {"status": SubscriptionStatus.CANCELED.value, "ends_on": ends_on,
                             "end_reason": reason})

    def _update(self, where: list[Any], values: dict[str, Any]) -> bool:
        result = self._session.exec(_TABLE.update().where(*where)
                                    .values(**values, updated_at=self._now()))
        return result.rowcount == 1
