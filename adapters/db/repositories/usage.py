"""Seat changes: the subscription's history the invoice builder reads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from adapters.db.repositories._sql import among, insert, run, table_of
from adapters.db.tables import SeatChangeRow
from domain.plans import UnitKind
from domain.seats import SeatChange

_SEATS = table_of(SeatChangeRow)
_T = TypeVar("_T")


def _between(column: Any, start: date | None, end: date | None) -> list[Any]:
    bounds = []
    if start is not None:
        bounds.append(column >= start)
    if end is not None:
        bounds.append(column < end)
    return bounds


def _by_subscription(session: Session, subscription_ids: Collection[str], day: Any, end: date,
                     columns: tuple[Any, ...], make: Callable[..., _T]) -> dict[str, list[_T]]:
    """Rows of many subscriptions dated before `end`, in one query, grouped by subscription
    (by date, then as recorded)."""
    found: dict[str, list[_T]] = defaultdict(list)
    if subscription_ids:
        table = day.table
        for subscription_id, *values in run(session, core_select(
                table.c.subscription_id, *columns)
                .where(among(session, table.c.subscription_id, subscription_ids), day < end)
                .order_by(table.c.subscription_id, day, table.c.id)):
            found[subscription_id].append(make(*values))
    return dict(found)


class SqlSeatChangeRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, *, subscription_id: str, change: SeatChange) -> None:
        insert(self._session, _SEATS, {"subscription_id": subscription_id,
                                       "kind": change.kind.value, "delta": change.delta,
                                       "effective_on": change.on})

    def list_for(self, *, subscription_id: str, start: date | None = None,
                 end: date | None = None) -> list[SeatChange]:
        # Changes are immutable rows: plain column tuples, no identity map needed.
        rows = self._session.exec(
            select(col(SeatChangeRow.kind), col(SeatChangeRow.delta),
                   col(SeatChangeRow.effective_on))
            .where(SeatChangeRow.subscription_id == subscription_id,
                   *_between(col(SeatChangeRow.effective_on), start, end))
            .order_by(col(SeatChangeRow.effective_on), col(SeatChangeRow.id)))
        return [SeatChange(UnitKind(kind), delta, on) for kind, delta, on in rows]

    def list_for_many(self, *, subscription_ids: Collection[str],
                      end: date) -> dict[str, list[SeatChange]]:
        c = _SEATS.c
        return _by_subscription(self._session, subscription_ids, c.effective_on, end,
                                (c.kind, c.delta, c.effective_on),
                                lambda kind, delta, on: SeatChange(UnitKind(kind), delta, on))

