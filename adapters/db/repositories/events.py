"""The events outbox: events, their per-account numbers and their deliveries to endpoints."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import BigInteger, Row, Text, bindparam, case, exists, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from adapters.db.repositories._sql import dialect_of, run, table_of
from adapters.db.tables import (
    EventDeliveryRow,
    EventSequenceRow,
    OutgoingEventRow,
    WebhookEndpointRow,
)
from domain.outgoing_events import (
    DeliveryStatus,
    EndpointStatus,
    EventDelivery,
    NewEvent,
    OutgoingEvent,
    WebhookEndpoint,
    fan_out,
)

_EVENTS = table_of(OutgoingEventRow)
_SEQUENCES = table_of(EventSequenceRow)
_DELIVERIES = table_of(EventDeliveryRow)
_ENDPOINTS = table_of(WebhookEndpointRow)
_PENDING = DeliveryStatus.PENDING.value
_GIVEN_UP = "given up: its retry window ended while the endpoint was failing"

_d = _DELIVERIES.c


def _heads() -> Any:
    # Each (endpoint, account)'s earliest pending delivery, for the endpoints awake (read
    # first: see `_AWAKE`): an endpoint receives an account's events in sequence. A window
    # over their pending rows is one scan and a sort whatever the planner believes; the
    # NOT EXISTS it replaces was planned, on a table analysed while empty, as a nested loop
    # over the same rows for each row (O(n²): 85 s for a dead endpoint's 6,000).
    rank = func.row_number().over(partition_by=(_d.endpoint_id, _d.account_id),
                                  order_by=_d.sequence)
    pending = (select(_d.id, _d.next_attempt_at, _d.sequence, _d.claimed_until,
                      rank.label("rank"))
               .where(_d.endpoint_id.in_(bindparam("endpoints", expanding=True)),
                      _d.status == _PENDING)
               .subquery("pending"))
    return (select(pending.c.id)
            .where(pending.c.rank == 1, pending.c.next_attempt_at <= bindparam("now"),
                   or_(pending.c.claimed_until.is_(None),
                       pending.c.claimed_until <= bindparam("now")))
            .order_by(pending.c.next_attempt_at, pending.c.sequence))


#: The enabled endpoints not paused: the claim reads only their deliveries, so a dead
#: endpoint's backlog (every event since it died, due but waiting) is not scanned by every
#: drain, and with every endpoint paused a drain costs this one small read.
_AWAKE = (select(_ENDPOINTS.c.id)
          .where(_ENDPOINTS.c.status == EndpointStatus.ENABLED.value,
                 or_(_ENDPOINTS.c.paused_until.is_(None),
                     _ENDPOINTS.c.paused_until <= bindparam("now")))
          .order_by(_ENDPOINTS.c.id))

#: The claim re-tests the conditions on the rows it updates (a concurrent claim on PostgreSQL
#: re-reads rows it waited for and skips what the other one took).
_CLAIM = (_DELIVERIES.update()
          .where(_d.id.in_(_heads().limit(bindparam("limit"))), _d.status == _PENDING,
                 or_(_d.claimed_until.is_(None), _d.claimed_until <= bindparam("now")))
          .values(claimed_until=bindparam("until"))
          .returning(_d.id))

_FOR_SENDING = (select(_DELIVERIES, _ENDPOINTS.c.url, _ENDPOINTS.c.secret,
                       _ENDPOINTS.c.failures.label("endpoint_failures"),
                       _EVENTS.c.type, _EVENTS.c.data, _EVENTS.c.created_at.label("written_at"))
                .join(_ENDPOINTS, _ENDPOINTS.c.id == _d.endpoint_id)
                .join(_EVENTS, _EVENTS.c.id == _d.event_id))


def _take_sequences_pg() -> Any:
    # The accounts and their counts as two arrays: one statement text whatever their number
    # (a VALUES list per batch was compiled and parsed anew each time). Rows are inserted,
    # and so locked, in the arrays' order.
    taken = (select(func.unnest(bindparam("accounts", type_=ARRAY(Text))).label("account_id"),
                    func.unnest(bindparam("counts", type_=ARRAY(BigInteger))).label("last_value")))
    statement = pg_insert(_SEQUENCES).from_select(["account_id", "last_value"], taken)
    return (statement.on_conflict_do_update(
        index_elements=["account_id"],
        set_={"last_value": _SEQUENCES.c.last_value + statement.excluded.last_value})
        .returning(_SEQUENCES.c.account_id, _SEQUENCES.c.last_value))


_TAKE_SEQUENCES_PG = _take_sequences_pg()


def _event(row: Row[Any]) -> OutgoingEvent:
    return OutgoingEvent(id=row.id, account_id=row.account_id, sequence=row.sequence,
                         type=row.type, created_at=row.created_at, data=dict(row.data or {}))


def _delivery(row: Row[Any], *, with_body: bool = False) -> EventDelivery:
    body: dict[str, Any] = {}
    if with_body:
        body = OutgoingEvent(id=row.event_id, account_id=row.account_id, sequence=row.sequence,
                             type=row.type, created_at=row.written_at,
                             data=dict(row.data or {})).envelope()
    return EventDelivery(
        id=row.id, event_id=row.event_id, endpoint_id=row.endpoint_id,
        account_id=row.account_id, sequence=row.sequence, status=DeliveryStatus(row.status),
        created_at=row.created_at, next_attempt_at=row.next_attempt_at, attempts=row.attempts,
        last_error=row.last_error, delivered_at=row.delivered_at,
        url=getattr(row, "url", "") if with_body else "",
        secret=getattr(row, "secret", "") if with_body else "", body=body,
        endpoint_failures=getattr(row, "endpoint_failures", 0) if with_body else 0)


class _Endpoints(Protocol):  # the unit of work's endpoint repository (it caches enabled())
    def enabled(self) -> list[WebhookEndpoint]: ...


class SqlEventRepository:
    def __init__(self, session: Session, endpoints: _Endpoints) -> None:
        self._session = session
        self._endpoints = endpoints
        #: Written but not yet stored (see `write`): a batch of outcomes stores its events in
        #: three statements instead of two per event.
        self._pending: list[NewEvent] = []
        #: Whether this transaction queued a delivery (the unit of work rings after commit).
        self.queued = False

    def write(self, *, event: NewEvent) -> None:
        self._pending.append(event)

    def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        counts = Counter(event.account_id for event in pending)
        written = fan_out(pending, first=self._take_sequences(counts),
                          endpoints=self._endpoints.enabled())
        self._add_many(written.events, ring=written.ring)

    def discard(self) -> None:
        """Forget what was written and not flushed (the transaction rolled back)."""
        self._pending = []
        self.queued = False

    def _take_sequences(self, counts: Mapping[str, int]) -> dict[str, int]:
        if not counts:
            return {}
        accounts = sorted(counts)  # one lock order for every emitter
        if dialect_of(self._session) == "postgresql":
            taken = run(self._session, _TAKE_SEQUENCES_PG, {
                "accounts": accounts, "counts": [counts[a] for a in accounts]})
            return {account_id: int(last) - counts[account_id] + 1 for account_id, last in taken}
        statement = sqlite_insert(_SEQUENCES).values(
            [{"account_id": account_id, "last_value": counts[account_id]}
             for account_id in accounts])
        upsert = (statement.on_conflict_do_update(
            index_elements=["account_id"],
            set_={"last_value": _SEQUENCES.c.last_value + statement.excluded.last_value})
            .returning(_SEQUENCES.c.account_id, _SEQUENCES.c.last_value))
        return {account_id: int(last) - counts[account_id] + 1
                for account_id, last in run(self._session, upsert)}

    def _add_many(self, events: Sequence[tuple[OutgoingEvent, Collection[str]]], *,
                  ring: bool) -> None:
        if not events:
            return
        run(self._session, _EVENTS.insert(), [
            {"id": event.id, "account_id": event.account_id, "sequence": event.sequence,
             "type": event.type, "data": event.data, "created_at": event.created_at}
            for event, _ in events])
        deliveries = [
            {"id": f"dlv_{uuid.uuid4().hex}", "event_id": event.id,
             "endpoint_id": endpoint_id, "account_id": event.account_id,
             "sequence": event.sequence, "status": _PENDING, "attempts": 0,
             "next_attempt_at": event.created_at, "claimed_until": None,
             "last_error": "", "delivered_at": None, "created_at": event.created_at}
            for event, endpoint_ids in events for endpoint_id in endpoint_ids]
        if deliveries:
            run(self._session, _DELIVERIES.insert(), deliveries)
            self.queued = self.queued or ring

    def get(self, *, event_id: str) -> OutgoingEvent | None:
        self.flush()
        row = run(self._session, _EVENTS.select().where(_EVENTS.c.id == event_id)).first()
        return None if row is None else _event(row)

    def listed(self, *, account_id: str | None = None, failed_only: bool = False,
               limit: int = 100) -> list[OutgoingEvent]:
        self.flush()
        statement = _EVENTS.select()
        if account_id is not None:
            statement = statement.where(_EVENTS.c.account_id == account_id)
        if failed_only:
            statement = statement.where(exists().where(
                _d.event_id == _EVENTS.c.id, _d.status == DeliveryStatus.FAILED.value))
        rows = run(self._session, statement.order_by(_EVENTS.c.created_at.desc(),
                                                     _EVENTS.c.id.desc()).limit(limit)).all()
        return [_event(row) for row in rows]

    def deliveries(self, *, event_id: str) -> list[EventDelivery]:
        self.flush()
        rows = run(self._session, _FOR_SENDING.where(_d.event_id == event_id)
                   .order_by(_d.created_at, _d.endpoint_id)).all()
        return [_delivery(row, with_body=True) for row in rows]

    def _awake(self, now: datetime) -> list[str]:
        return [row.id for row in run(self._session, _AWAKE, {"now": now})]

    def claim_due(self, *, now: datetime, until: datetime, limit: int) -> list[EventDelivery]:
        self.flush()
        endpoints = self._awake(now)
        if not endpoints:
            return []
        ids = [row.id for row in run(self._session, _CLAIM,
                                     {"now": now, "until": until, "limit": limit,
                                      "endpoints": endpoints}).all()]
        if not ids:
            return []
        rows = run(self._session, _FOR_SENDING.where(_d.id.in_(ids))).all()
        return sorted((_delivery(row, with_body=True) for row in rows),
                      key=lambda d: (d.endpoint_id, d.account_id, d.sequence))

    def has_due(self, *, now: datetime) -> bool:
        self.flush()
        # The claim's own conditions: a delivery waiting behind its account's earlier one
        # is not due yet (else a drain would be asked for, again and again, to claim nothing).
        endpoints = self._awake(now)
        if not endpoints:
            return False
        found = run(self._session, _heads().limit(1),
                    {"now": now, "endpoints": endpoints}).first()
        return found is not None

    def mark_delivered(self, *, delivery_ids: Collection[str], at: datetime) -> None:
        self.flush()
        if delivery_ids:
            run(self._session, _DELIVERIES.update().where(_d.id.in_(list(delivery_ids)))
                .values(status=DeliveryStatus.DELIVERED.value, delivered_at=at,
                        attempts=_d.attempts + 1, claimed_until=None, next_attempt_at=None,
                        last_error=""))

    def record_failure(self, *, delivery_id: str, error: str,
                       next_attempt_at: datetime | None) -> None:
        self.flush()
        status = _PENDING if next_attempt_at is not None else DeliveryStatus.FAILED.value
        run(self._session, _DELIVERIES.update().where(_d.id == delivery_id)
            .values(status=status, attempts=_d.attempts + 1, next_attempt_at=next_attempt_at,
                    claimed_until=None, last_error=error[:500]))

    def postpone(self, *, delivery_ids: Collection[str], until: datetime, error: str) -> None:
        self.flush()
        if delivery_ids:
            run(self._session, _DELIVERIES.update().where(_d.id.in_(list(delivery_ids)))
                .values(claimed_until=None, next_attempt_at=until, last_error=error[:500]))

    def give_up(self, *, endpoint_id: str, written_before: datetime) -> int:
        self.flush()
        result = run(self._session, _DELIVERIES.update()
                     .where(_d.endpoint_id == endpoint_id, _d.status == _PENDING,
                            _d.created_at < written_before)
                     .values(status=DeliveryStatus.FAILED.value, claimed_until=None,
                             next_attempt_at=None,
                             last_error=case((_d.last_error == "", _GIVEN_UP),
                                             else_=_d.last_error)))
        return int(result.rowcount)

    def release(self, *, delivery_ids: Collection[str]) -> None:
        self.flush()
        if delivery_ids:
            run(self._session, _DELIVERIES.update().where(_d.id.in_(list(delivery_ids)))
                .values(claimed_until=None))

    def resend(self, *, event_id: str, now: datetime) -> int:
        self.flush()
        enabled = select(_ENDPOINTS.c.id).where(
            _ENDPOINTS.c.status == EndpointStatus.ENABLED.value)
        result = run(self._session, _DELIVERIES.update()
                     .where(_d.event_id == event_id, _d.endpoint_id.in_(enabled))
                     .values(status=_PENDING, attempts=0, next_attempt_at=now,
                             claimed_until=None, delivered_at=None, last_error=""))
        if result.rowcount:
            self.queued = True
        return int(result.rowcount)
