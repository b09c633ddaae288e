"""Seat changes: the subscription's history the invoice builder reads."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from adapters.db.repositories._sql import insert, table_of
from adapters.db.tables import SeatChangeRow
from domain.plans import UnitKind
from domain.seats import SeatChange

_SEATS = table_of(SeatChangeRow)


def _between(column: Any, start: date | None, end: date | None) -> list[Any]:
    bounds = []
    if start is not None:
        bounds.append(column >= start)
    if end is not None:
        bounds.append(column < end)
    return bounds


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
