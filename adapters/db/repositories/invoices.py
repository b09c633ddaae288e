"""Invoices and their lines; the (subscription, kind, period start) uniqueness; numbering."""

from __future__ import annotations

import builtins
import functools
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, Select, bindparam, exists, func, literal_column, or_, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import Label
from sqlmodel import Session

from adapters.db import mappers
from adapters.db.repositories._sql import (
    among,
    among_param,
    dialect_of,
    insert_unless_exists,
    run,
    run_later,
    table_of,
)
from adapters.db.tables import (
    AccountRow,
    InvoiceLineRow,
    InvoiceRow,
    InvoiceSequenceRow,
    PaymentAttemptRow,
)
from domain.accounts import Account
from domain.errors import DuplicateInvoice, UnknownInvoice
from domain.invoices import Invoice, InvoiceKind, InvoiceStatus
from domain.money import Money
from domain.ports import LockedAttempt
from domain.renewal_batch import PeriodKey

_INVOICES = table_of(InvoiceRow)
_C = _INVOICES.c
_ALL = select(_INVOICES)
#: The columns to write come as parameters, so each set of columns compiles once.
_UPDATE = _INVOICES.update().where(_C.id == bindparam("where_id"))
#: Its own statement object: held settlements are sent as one executemany (run_later).
_SETTLE = _INVOICES.update().where(_C.id == bindparam("where_id"))
_LINES = table_of(InvoiceLineRow)
_ATTEMPTS = table_of(PaymentAttemptRow)
#: Hot-path reads, built once; values come as parameters.
_BY_ID = _ALL.where(_C.id == bindparam("invoice_id"))
_BY_ID_LOCKED = _BY_ID.with_for_update()
_ACCOUNTS = table_of(AccountRow)
_INVOICE_ACCOUNT = mappers.Joined((_INVOICES, "i_"), (_ACCOUNTS, "c_"))
_INVOICE_ATTEMPT_ACCOUNT = mappers.Joined((_INVOICES, "i_"), (_ATTEMPTS, "a_"), (_ACCOUNTS, "c_"))
_INVOICE_AND_ACCOUNT = (
    select(*_INVOICE_ACCOUNT.columns)
    .select_from(_INVOICES.join(_ACCOUNTS, _ACCOUNTS.c.id == _C.account_id)))
_WITH_ACCOUNT = _INVOICE_AND_ACCOUNT.where(_C.id == bindparam("invoice_id"))


@functools.cache
def _many_with_account(dialect: str) -> Select[Any]:
    return _INVOICE_AND_ACCOUNT.where(among_param(dialect, _C.id, "invoice_ids"))


#: Invoice, attempt and account in one row, the invoice's and attempt's columns locked. The
#: order of `of` is the order PostgreSQL locks them in: invoice, then attempt (see
#: LockedAttempt). SQLite has no row locks; its writers are serialised by BEGIN IMMEDIATE.
_WITH_ATTEMPT = (
    select(*_INVOICE_ATTEMPT_ACCOUNT.columns)
    .select_from(_INVOICES.join(_ATTEMPTS, _ATTEMPTS.c.invoice_id == _C.id)
                 .join(_ACCOUNTS, _ACCOUNTS.c.id == _ATTEMPTS.c.account_id)))
_WITH_ATTEMPT_LOCKED = (_WITH_ATTEMPT.where(_ATTEMPTS.c.id == bindparam("attempt_id"))
                        .with_for_update(of=[_INVOICES, _ATTEMPTS]))
#: PostgreSQL's row versions: a row's `xmin` is the transaction that wrote its current
#: version (a lock leaves it alone), and the locking transaction's own id tells the rows it
#: writes afterwards (a claim's attempts). Compared by `_unchanged`.
_STAMP_COLUMNS: list[Label[str]] = [
    literal_column(f"{table.name}.xmin::text").label(f"s_{prefix}")
    for table, prefix in ((_INVOICES, "i"), (_ACCOUNTS, "c"), (_ATTEMPTS, "a"))]
_OWN_XID: Label[str] = literal_column("pg_current_xact_id()::xid::text").label("s_own")


#: The same for a batch of attempts. PostgreSQL locks the rows in the ORDER BY's order (the
#: lock step runs above the sort): by account, then as renewals lock an account's open
#: invoices (issue date, period start, number), so two batches, or a batch and a renewal,
#: sharing invoices wait for each other instead of deadlocking.
def _in_lock_order(statement: Select[Any], dialect: str) -> Select[Any]:
    return (statement.where(among_param(dialect, _ATTEMPTS.c.id, "attempt_ids"))
            .order_by(_C.account_id, _C.issued_on, _C.period_start, _C.number, _C.id,
                      _ATTEMPTS.c.id)
            .with_for_update(of=[_INVOICES, _ATTEMPTS]))


@functools.cache
def _with_attempts_locked(dialect: str) -> Select[Any]:
    if dialect == "postgresql":
        return _in_lock_order(_WITH_ATTEMPT.add_columns(*_STAMP_COLUMNS, _OWN_XID), dialect)
    return _in_lock_order(_WITH_ATTEMPT, dialect)


#: The same locks, reading only the attempt id and the rows' versions (PostgreSQL).
_STAMPS_LOCKED = _in_lock_order(
    select(_ATTEMPTS.c.id, *_STAMP_COLUMNS)
    .select_from(_INVOICES.join(_ATTEMPTS, _ATTEMPTS.c.invoice_id == _C.id)
                 .join(_ACCOUNTS, _ACCOUNTS.c.id == _ATTEMPTS.c.account_id)), "postgresql")


def _unchanged(known: LockedAttempt, invoice: str, account: str, attempt: str) -> bool:
    """Whether no transaction but the one that locked `known` wrote its rows since."""
    if not isinstance(known.stamp, tuple):
        return False
    was_invoice, was_account, was_attempt, own = known.stamp
    return (invoice == was_invoice and account == was_account
            and attempt in (was_attempt, own))


_SEQUENCES = table_of(InvoiceSequenceRow)
#: One executemany each: psycopg sends it pipelined (one round trip, the statement prepared
#: once), SQLite's driver loops in C. Measured on PostgreSQL, 3,000 invoices: 1.35 s in
#: these inserts as multi-row INSERT … VALUES pages (SQLAlchemy's "insertmanyvalues", which
#: RETURNING turns on) against 0.63 s pipelined: psycopg parses each long page's text anew.
_ADD_INVOICES = _INVOICES.insert()
_ADD_LINES = _LINES.insert()


class SqlInvoiceRepository:
    def __init__(self, session: Session, clock: Callable[[], datetime]) -> None:
        self._session = session
        self._now = clock

    def add_with_lines(self, *, invoice: Invoice) -> None:
        # Any unique clash (id, number, payment reference, or the same kind for the same
        # period) means the invoice exists: nothing is written, the transaction goes on.
        if not insert_unless_exists(self._session, _INVOICES,
                                    mappers.invoice_values(invoice, now=self._now())):
            raise DuplicateInvoice(
                f"{invoice.kind} invoice for {invoice.subscription_id} from "
                f"{invoice.period.start} (or number {invoice.number}) exists")
        if invoice.lines:
            # One executemany (multi-row INSERT on both dialects).
            run(self._session, _LINES.insert(), mappers.line_values(invoice))

    def get(self, *, invoice_id: str, lines: bool = True) -> Invoice | None:
        return self._one(_BY_ID, lines=lines, params={"invoice_id": invoice_id})

    def get_for_update(self, *, invoice_id: str, lines: bool = True) -> Invoice | None:
        return self._one(_BY_ID_LOCKED, lines=lines, params={"invoice_id": invoice_id})

    def get_with_account(self, *, invoice_id: str) -> tuple[Invoice, Account] | None:
        row = run(self._session, _WITH_ACCOUNT, {"invoice_id": invoice_id}).first()
        return None if row is None else _invoice_and_account(row)

    def lock_for_attempt(self, *, attempt_id: str) -> LockedAttempt | None:
        row = run(self._session, _WITH_ATTEMPT_LOCKED, {"attempt_id": attempt_id}).first()
        return None if row is None else _locked(row)

    def get_many_with_accounts(self, *, invoice_ids: Collection[str],
                               ) -> dict[str, tuple[Invoice, Account]]:
        if not invoice_ids:
            return {}
        rows = run(self._session, _many_with_account(dialect_of(self._session)),
                   {"invoice_ids": builtins.list(invoice_ids)})
        found = (_invoice_and_account(row) for row in rows)
        return {invoice.id: (invoice, account) for invoice, account in found}

    def lock_for_attempts(self, *, attempt_ids: Collection[str],
                          known: Mapping[str, LockedAttempt] | None = None,
                          ) -> builtins.list[LockedAttempt]:
        if not attempt_ids:
            return []
        dialect = dialect_of(self._session)
        if not known or dialect != "postgresql":
            return self._locked_rows(attempt_ids, dialect)
        # A batch's outcomes are recorded on the rows its claim read unless something else
        # wrote them since (a webhook, an operator): mapping the rows again cost more than
        # the statement.
        order: builtins.list[str] = []
        kept: dict[str, LockedAttempt] = {}
        for attempt_id, invoice, account, attempt in run(
                self._session, _STAMPS_LOCKED, {"attempt_ids": builtins.list(attempt_ids)}):
            order.append(attempt_id)
            one = known.get(attempt_id)
            if one is not None and _unchanged(one, invoice, account, attempt):
                kept[attempt_id] = one
        stale = [attempt_id for attempt_id in order if attempt_id not in kept]
        if stale:  # locked above already: this reads them as they are now
            kept.update((one.attempt.id, one) for one in self._locked_rows(stale, dialect))
        return [kept[attempt_id] for attempt_id in order if attempt_id in kept]

    def _locked_rows(self, attempt_ids: Collection[str],
                     dialect: str) -> builtins.list[LockedAttempt]:
        rows = run(self._session, _with_attempts_locked(dialect),
                   {"attempt_ids": builtins.list(attempt_ids)})
        if dialect == "postgresql":
            return [_locked(row, stamp=(row.s_i, row.s_c, row.s_a, row.s_own))
                    for row in rows]
        return [_locked(row) for row in rows]

    def find_for_period(self, *, subscription_id: str, kind: InvoiceKind,
                        period_start: date) -> Invoice | None:
        return self._one(_ALL.where(_C.subscription_id == subscription_id,
                                    _C.kind == kind.value, _C.period_start == period_start))

    def issued_periods(self, *, keys: Collection[PeriodKey]) -> set[PeriodKey]:
        if not keys:
            return set()
        # Two IN lists (the index's leading column, then the starts) and an exact match
        # here: portable, and the candidates of one batch share a few period starts.
        rows = run(self._session, select(_C.subscription_id, _C.kind, _C.period_start).where(
            among(self._session, _C.subscription_id, sorted({key[0] for key in keys})),
            _C.period_start.in_(sorted({key[2] for key in keys}))))
        found = {(sub, InvoiceKind(kind), start) for sub, kind, start in rows}
        return found & set(keys)

    def open_for_accounts(self, *, account_ids: Collection[str],
                          for_update: bool = False) -> dict[str, builtins.list[Invoice]]:
        if not account_ids:
            return {}
        statement = (_ALL.where(among(self._session, _C.account_id, sorted(account_ids)),
                                _C.status == InvoiceStatus.OPEN.value)
                     .order_by(_C.account_id, _C.issued_on, _C.period_start, _C.number))
        if for_update:
            statement = statement.with_for_update()
        found: dict[str, builtins.list[Invoice]] = defaultdict(builtins.list)
        for invoice in self._many(statement, lines=False):
            found[invoice.account_id].append(invoice)
        return dict(found)

    def add_many(self, *, invoices: Sequence[Invoice]) -> None:
        if not invoices:
            return
        now = self._now()
        run(self._session, _ADD_INVOICES, [mappers.invoice_values(inv, now=now)
                                           for inv in invoices])
        lines = [values for inv in invoices for values in mappers.line_values(inv)]
        if lines:
            run(self._session, _ADD_LINES, lines)

    def update_settlements(self, *, invoices: Sequence[Invoice]) -> None:
        if not invoices:
            return
        now = self._now()
        result = run(self._session, _UPDATE, [
            {"amount_paid_minor": _minor(inv.amount_paid),
             "amount_carried_minor": _minor(inv.amount_carried), "status": inv.status.value,
             "carried_to": inv.carried_to, "updated_at": now, "where_id": inv.id}
            for inv in invoices])
        if result.rowcount not in (-1, len(invoices)):
            raise UnknownInvoice(", ".join(inv.id for inv in invoices))

    def by_reference(self, *, reference: str) -> Invoice | None:
        return self._one(_ALL.where(_C.payment_reference == reference))

    def list_open_for_account(self, *, account_id: str, for_update: bool = False) -> list[Invoice]:
        statement = (_ALL.where(_C.account_id == account_id,
                                _C.status == InvoiceStatus.OPEN.value)
                     .order_by(_C.issued_on, _C.period_start, _C.number))
        if for_update:
            statement = statement.with_for_update()
        return self._many(statement)

    def list(self, *, account_id: str | None = None, status: InvoiceStatus | None = None,
             limit: int | None = None) -> list[Invoice]:
        statement = _ALL.order_by(_C.issued_on, _C.number)
        if account_id is not None:
            statement = statement.where(_C.account_id == account_id)
        if status is not None:
            statement = statement.where(_C.status == status.value)
        if limit is not None:
            statement = statement.limit(limit)
        return self._many(statement)

    def open_without_attempts(self, *, limit: int, created_before: datetime | None = None,
                              asked_by: datetime | None = None) -> builtins.list[str]:
        due = (_C.total_minor - func.coalesce(_C.amount_paid_minor, 0)
               - func.coalesce(_C.amount_carried_minor, 0))
        no_attempt = ~exists().where(_ATTEMPTS.c.invoice_id == _C.id)
        old_enough = _C.created_at <= created_before if created_before is not None else true()
        may_ask = (or_(_C.route_recheck_at.is_(None), _C.route_recheck_at <= asked_by)
                   if asked_by is not None else true())
        rows = run(self._session, select(_C.id)
                   # The literal lets PostgreSQL match the partial index on open invoices
                   # in a generic (prepared) plan too.
                   .where(_C.status == literal_column(f"'{InvoiceStatus.OPEN.value}'"),
                          due > 0, no_attempt, old_enough, may_ask)
                   .order_by(_C.issued_on, _C.id).limit(limit))
        return builtins.list(rows.scalars())

    def ask_route_again_at(self, *, invoice_ids: Collection[str], at: datetime) -> None:
        if invoice_ids:
            run(self._session, _INVOICES.update().where(_C.id.in_(builtins.list(invoice_ids)))
                .values(route_recheck_at=at))

    def update_status(self, *, invoice_id: str, status: InvoiceStatus,
                      carried_to: str | None = None) -> None:
        self._update(invoice_id, status=status.value, carried_to=carried_to)

    def update_settlement(self, *, invoice: Invoice) -> None:
        run_later(self._session, _SETTLE, {
            "amount_paid_minor": _minor(invoice.amount_paid),
            "amount_carried_minor": _minor(invoice.amount_carried),
            "status": invoice.status.value, "carried_to": invoice.carried_to,
            "updated_at": self._now(), "where_id": invoice.id},
            row=(_INVOICES.name, invoice.id), one_each=True)

    def set_payment_reference(self, *, invoice_id: str, reference: str) -> None:
        self._update(invoice_id, payment_reference=reference)

    def set_dunning_policy(self, *, invoice_id: str, policy: dict[str, Any] | None) -> None:
        self._update(invoice_id, dunning_policy=policy)

    def dunning_policy(self, *, invoice_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = run(self._session, select(_C.dunning_policy)
                                           .where(_C.id == invoice_id)).scalar()
        return found

    def next_sequence(self, *, issuer: str, year: int) -> int:
        dialect = dialect_of(self._session)
        build = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (build(_SEQUENCES).values(issuer=issuer, year=year, last_value=1)
                     .on_conflict_do_update(index_elements=["issuer", "year"],
                                            set_={"last_value": _SEQUENCES.c.last_value + 1})
                     .returning(_SEQUENCES.c.last_value))
        return int(run(self._session, statement).scalar_one())

    def take_sequences(self, *, issuer: str, year: int, count: int) -> int:
        if count < 1:
            raise ValueError("take at least one sequence")
        dialect = dialect_of(self._session)
        build = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (build(_SEQUENCES).values(issuer=issuer, year=year, last_value=count)
                     .on_conflict_do_update(index_elements=["issuer", "year"],
                                            set_={"last_value": _SEQUENCES.c.last_value + count})
                     .returning(_SEQUENCES.c.last_value))
        return int(run(self._session, statement).scalar_one()) - count + 1

    def _update(self, invoice_id: str, **values: Any) -> None:
        result = run(self._session, _UPDATE,
                     {**values, "updated_at": self._now(), "where_id": invoice_id})
        if result.rowcount != 1:
            raise UnknownInvoice(invoice_id)

    def _one(self, statement: Select[Any], *, lines: bool = True,
             params: dict[str, Any] | None = None) -> Invoice | None:
        invoices = self._many(statement, lines=lines, params=params)
        return invoices[0] if invoices else None

    def _many(self, statement: Select[Any], *, lines: bool = True,
              params: dict[str, Any] | None = None) -> builtins.list[Invoice]:
        rows = run(self._session, statement, params).all()
        if not rows:
            return []
        if not lines:
            return [mappers.invoice_from_rows(row, None) for row in rows]
        # One query for every invoice's lines: no N+1.
        by_invoice: dict[str, builtins.list[Row[Any]]] = defaultdict(builtins.list)
        for line in run(self._session, select(_LINES)
                        .where(_LINES.c.invoice_id.in_([row.id for row in rows]))
                        .order_by(_LINES.c.invoice_id, _LINES.c.position)):
            by_invoice[line.invoice_id].append(line)
        return [mappers.invoice_from_rows(row, by_invoice[row.id]) for row in rows]


def _invoice_and_account(row: Row[Any]) -> tuple[Invoice, Account]:
    """The invoice (without lines) and account of a row of `_INVOICE_AND_ACCOUNT`."""
    invoice, account = _INVOICE_ACCOUNT.split(row)
    return mappers.invoice_from_rows(invoice, None), mappers.account_from_row(account)


def _locked(row: Row[Any], stamp: tuple[str, ...] | None = None) -> LockedAttempt:
    """A row of `_WITH_ATTEMPT` as a LockedAttempt."""
    invoice, attempt, account = _INVOICE_ATTEMPT_ACCOUNT.split(row)
    return LockedAttempt(invoice=mappers.invoice_from_rows(invoice, None),
                         account=mappers.account_from_row(account),
                         attempt=mappers.attempt_from_row(attempt), stamp=stamp)


def _minor(amount: Money | None) -> int | None:
    return None if amount is None else amount.minor
