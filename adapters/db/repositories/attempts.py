"""Payment attempts: one active per invoice (partial unique index), compare-and-set updates."""

from __future__ import annotations

import builtins
import functools
from collections.abc import Collection, Mapping, Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Text,
    bindparam,
    case,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from adapters.db import mappers
from adapters.db.repositories._sql import (
    among,
    among_param,
    dialect_of,
    insert_many_unless_exists,
    insert_unless_exists,
    run,
    run_later,
    savepoint,
    table_of,
    unique_index,
    violates,
)
from adapters.db.tables import ONE_ACTIVE_ATTEMPT, PaymentAttemptRow
from domain.accounts import MethodType
from domain.errors import AttemptAlreadyActive, DuplicateAttempt
from domain.money import Money
from domain.outcomes import DeclineKind
from domain.payments import ACTIVE_STATUSES, IN_FLIGHT_STATUSES, AttemptStatus, PaymentAttempt

_TABLE = table_of(PaymentAttemptRow)
_C = _TABLE.c
_ALL = select(_TABLE)
#: Hot-path reads, built once: the values come as parameters (building and hashing a
#: statement per call cost more Python than running it).
_BY_ID = _ALL.where(_C.id == bindparam("attempt_id"))
_BY_ID_LOCKED = _BY_ID.with_for_update()
_OF_INVOICE = (_ALL.where(_C.invoice_id == bindparam("invoice_id"))
               .order_by(_C.number, _C.created_at))
_ONE_ACTIVE = unique_index(_TABLE, ONE_ACTIVE_ATTEMPT)
#: Compare-and-set: the columns to write come as parameters, so this compiles once.
_UPDATE = (_TABLE.update()
           .where(_C.id == bindparam("where_id"), _C.status == bindparam("where_status"))
           # A change of any kind ends the sweeper's wait for an answer.
           .values(version=_C.version + 1, recheck_at=None))


@functools.cache
def _of_invoices(dialect: str) -> Select[Any]:
    return (_ALL.where(among_param(dialect, _C.invoice_id, "invoice_ids"))
            .order_by(_C.invoice_id, _C.number, _C.created_at))


def _claim_values() -> dict[str, Any]:
    return {"status": AttemptStatus.PROCESSING.value, "updated_at": bindparam("now"),
            "version": _C.version + 1, "recheck_at": None}


#: SCHEDULED → PROCESSING for a batch, each attempt at the amount its invoice owes now.
#: PostgreSQL: the ids and amounts as two arrays joined in one cached statement.
_NEW_AMOUNTS = func.unnest(bindparam("ids", type_=ARRAY(Text)),
                           bindparam("amounts", type_=ARRAY(BigInteger))
                           ).table_valued("id", "amount").render_derived(name="claimed")
_CLAIM_PG = (_TABLE.update()
             .where(_C.id == _NEW_AMOUNTS.c.id,
                    _C.status == AttemptStatus.SCHEDULED.value)
             .values(amount_minor=_NEW_AMOUNTS.c.amount, **_claim_values())
             .returning(_C.id))
#: Columns an update never changes.
_IMMUTABLE = frozenset({"id", "invoice_id", "account_id", "created_at"})


def _may_ask(now: datetime | None) -> ColumnElement[bool]:
    """Not waiting for the answer to an earlier request of the sweeper (`recheck_at`)."""
    if now is None:
        return true()
    return or_(_C.recheck_at.is_(None), _C.recheck_at <= now)


def _values(statuses: Collection[AttemptStatus]) -> builtins.list[str]:
    return [status.value for status in statuses]


class SqlAttemptRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, *, attempt: PaymentAttempt) -> None:
        # No savepoint: a clash on the id or on the one-active index inserts nothing, and
        # only then do we look at which one it was.
        if insert_unless_exists(self._session, _TABLE, mappers.attempt_values(attempt)):
            return
        if run(self._session, select(_C.id).where(_C.id == attempt.id)).first() is not None:
            raise DuplicateAttempt(attempt.id)
        raise AttemptAlreadyActive(f"invoice {attempt.invoice_id} already has an active attempt")

    def add_many(self, *, attempts: Sequence[PaymentAttempt]) -> set[str]:
        if not attempts:
            return set()
        # Multi-row INSERTs; a row clashing with the one-active index (a concurrent router
        # won) or an existing id is left out, and RETURNING says which went in.
        return {str(attempt_id) for attempt_id in insert_many_unless_exists(
            self._session, _TABLE, [mappers.attempt_values(a) for a in attempts])}

    def claim_many(self, *, amounts: Mapping[str, Money], now: datetime) -> set[str]:
        if not amounts:
            return set()
        if dialect_of(self._session) == "postgresql":
            rows = run(self._session, _CLAIM_PG, {
                "ids": builtins.list(amounts), "now": now,
                "amounts": [amount.minor for amount in amounts.values()]})
            return {str(attempt_id) for attempt_id in rows.scalars()}
        # Elsewhere (SQLite) one CASE over the ids, a statement built per batch.
        minor = case({attempt_id: amount.minor for attempt_id, amount in amounts.items()},
                     value=_C.id, else_=_C.amount_minor)
        statement = (_TABLE.update()
                     .where(_C.id.in_(builtins.list(amounts)),
                            _C.status == AttemptStatus.SCHEDULED.value)
                     .values(amount_minor=minor, **_claim_values())
                     .returning(_C.id))
        return {str(attempt_id) for attempt_id
                in run(self._session, statement, {"now": now}).scalars()}

    def get(self, *, attempt_id: str) -> PaymentAttempt | None:
        return self._first(_BY_ID, {"attempt_id": attempt_id})

    def get_many(self, *, attempt_ids: Collection[str]) -> dict[str, PaymentAttempt]:
        if not attempt_ids:
            return {}
        return {attempt.id: attempt for attempt in self._all(
            _ALL.where(among(self._session, _C.id, attempt_ids)))}

    def get_for_update(self, *, attempt_id: str) -> PaymentAttempt | None:
        return self._first(_BY_ID_LOCKED, {"attempt_id": attempt_id})

    def update(self, *, attempt: PaymentAttempt, expected_status: AttemptStatus,
               locked: bool = False) -> bool:
        values = {key: value for key, value in mappers.attempt_values(attempt).items()
                  if key not in _IMMUTABLE}
        values.update(where_id=attempt.id, where_status=expected_status.value)
        # Only a move into the active set can collide with another active attempt.
        may_collide = attempt.status in ACTIVE_STATUSES and expected_status not in ACTIVE_STATUSES
        if locked and not may_collide:
            run_later(self._session, _UPDATE, values, row=(_TABLE.name, attempt.id),
                      one_each=True)
            return True
        try:
            with savepoint(self._session) if may_collide else nullcontext():
                return run(self._session, _UPDATE, values).rowcount == 1
        except IntegrityError as error:
            if violates(error, _ONE_ACTIVE):
                raise AttemptAlreadyActive(
                    f"invoice {attempt.invoice_id} already has an active attempt") from error
            raise

    def active_for_invoice(self, *, invoice_id: str) -> PaymentAttempt | None:
        return self._first(_ALL.where(_C.invoice_id == invoice_id,
                                      _C.status.in_(_values(ACTIVE_STATUSES))))

    def active_for_invoices(self, *, invoice_ids: Collection[str]) -> dict[str, PaymentAttempt]:
        if not invoice_ids:
            return {}
        return {attempt.invoice_id: attempt for attempt in self._all(
            _ALL.where(among(self._session, _C.invoice_id, invoice_ids),
                       _C.status.in_(_values(ACTIVE_STATUSES))))}

    def list_for_invoice(self, *, invoice_id: str) -> builtins.list[PaymentAttempt]:
        return self._all(_OF_INVOICE, {"invoice_id": invoice_id})

    def list_for_invoices(self, *, invoice_ids: Collection[str],
                          ) -> dict[str, builtins.list[PaymentAttempt]]:
        found: dict[str, builtins.list[PaymentAttempt]] = {i: [] for i in invoice_ids}
        if found:
            for attempt in self._all(_of_invoices(dialect_of(self._session)),
                                     {"invoice_ids": builtins.list(found)}):
                found[attempt.invoice_id].append(attempt)
        return found

    def in_flight_amounts(self, *, invoice_ids: Collection[str]) -> dict[str, Money]:
        if not invoice_ids:
            return {}
        rows = run(self._session,
                   select(_C.invoice_id, _C.currency, func.sum(_C.amount_minor))
                   .where(among(self._session, _C.invoice_id, invoice_ids),
                          _C.status.in_(_values(IN_FLIGHT_STATUSES)))
                   .group_by(_C.invoice_id, _C.currency))
        amounts: dict[str, Money] = {}
        for invoice_id, currency, minor in rows:
            amount = Money(int(minor), currency)
            # Two currencies on one invoice raise CurrencyMismatch here: a bug to surface.
            amounts[invoice_id] = amounts[invoice_id] + amount if invoice_id in amounts else amount
        return amounts

    def cancel_scheduled(self, *, invoice_ids: Collection[str], now: datetime,
                         reason: str) -> builtins.list[str]:
        if not invoice_ids:
            return []
        statement = (_TABLE.update()
                     .where(_C.invoice_id.in_(list(invoice_ids)),
                            _C.status == AttemptStatus.SCHEDULED.value)
                     .values(status=AttemptStatus.CANCELED.value, reason=reason, updated_at=now,
                             version=_C.version + 1)
                     .returning(_C.id))
        return sorted(str(attempt_id) for attempt_id in run(self._session, statement).scalars())

    def due_scheduled(self, *, now: datetime, limit: int, since: datetime | None = None,
                      asked_by: datetime | None = None) -> builtins.list[PaymentAttempt]:
        newly = _C.scheduled_for > since if since is not None else true()
        return self._all(_ALL.where(_C.status == AttemptStatus.SCHEDULED.value,
                                    _C.scheduled_for <= now, newly, _may_ask(asked_by))
                         .order_by(_C.scheduled_for, _C.id).limit(limit))

    def stuck(self, *, statuses: Collection[AttemptStatus], older_than: datetime,
              limit: int, now: datetime | None = None) -> builtins.list[PaymentAttempt]:
        return self._all(_ALL.where(_C.status.in_(_values(statuses)), _C.updated_at < older_than,
                                    _may_ask(now))
                         .order_by(_C.updated_at, _C.id).limit(limit))

    def ask_again_at(self, *, attempt_ids: Collection[str], at: datetime) -> None:
        if attempt_ids:
            # Rows a worker has locked (a collect batch holds up to a batch of them) are
            # skipped, not waited for: the sweeper then never waits on a worker, so the two
            # cannot deadlock. The worker is changing them, which ends the wait anyway.
            free = (select(_C.id).where(_C.id.in_(list(attempt_ids))).order_by(_C.id)
                    .with_for_update(skip_locked=True))
            run(self._session, _TABLE.update().where(_C.id.in_(free.scalar_subquery()))
                .values(recheck_at=at))

    def answered(self, *, attempt_id: str, now: datetime) -> None:
        run(self._session, _TABLE.update().where(_C.id == attempt_id)
            .values(updated_at=now, recheck_at=None))

    def by_provider_ref(self, *, provider_ref: str) -> PaymentAttempt | None:
        return self._first(_ALL.where(_C.provider_ref == provider_ref).order_by(_C.created_at))

    def failed(self, *, account_id: str | None = None, since: datetime | None = None,
               failure_class: DeclineKind | None = None,
               limit: int = 100) -> builtins.list[PaymentAttempt]:
        statement = _ALL.where(_C.status.in_(
            _values({AttemptStatus.FAILED, AttemptStatus.REQUIRES_ACTION})))
        if account_id is not None:
            statement = statement.where(_C.account_id == account_id)
        if since is not None:
            statement = statement.where(_C.updated_at >= since)
        if failure_class is not None:
            statement = statement.where(_C.failure_class == failure_class.value)
        return self._all(statement.order_by(_C.updated_at.desc(), _C.id).limit(limit))

    def created_times(self, *, account_id: str, method: MethodType,
                      since: datetime) -> builtins.list[datetime]:
        rows = run(self._session, select(_C.created_at)
                   .where(_C.account_id == account_id, _C.method == method.value,
                          _C.created_at >= since)
                   .order_by(_C.created_at))
        return list(rows.scalars())

    def _first(self, statement: Select[Any],
               params: dict[str, Any] | None = None) -> PaymentAttempt | None:
        row = run(self._session, statement, params).first()
        return None if row is None else mappers.attempt_from_row(row)

    def _all(self, statement: Select[Any],
             params: dict[str, Any] | None = None) -> builtins.list[PaymentAttempt]:
        return [mappers.attempt_from_row(row) for row in run(self._session, statement, params)]
