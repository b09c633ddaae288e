"""The append-only ledger: add and read, never update or delete."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Executable, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from adapters.db import mappers
from adapters.db.repositories._sql import (
    dialect_of,
    insert,
    insert_unless_exists,
    run,
    run_later,
    table_of,
)
from adapters.db.tables import LedgerEntryRow
from domain.ledger import LedgerEntry
from domain.money import CurrencyMismatch, Money

_TABLE = table_of(LedgerEntryRow)


@functools.cache
def _append(dialect: str) -> Executable:
    build = pg_insert if dialect == "postgresql" else sqlite_insert
    return build(_TABLE).on_conflict_do_nothing(index_elements=["dedupe_key"])


class SqlLedgerRepository:
    def __init__(self, session: Session, clock: Callable[[], datetime]) -> None:
        self._session = session
        self._now = clock

    def add(self, *, entry: LedgerEntry, dedupe_key: str | None = None) -> bool:
        values = mappers.ledger_values(entry, dedupe_key=dedupe_key, now=self._now())
        if dedupe_key is None:
            insert(self._session, _TABLE, values)
            return True
        return insert_unless_exists(self._session, _TABLE, values, conflict_on=["dedupe_key"])

    def append(self, *, entry: LedgerEntry, dedupe_key: str | None = None) -> None:
        values = mappers.ledger_values(entry, dedupe_key=dedupe_key, now=self._now())
        # Both kinds in one statement (the keyless ones cannot conflict): one executemany.
        run_later(self._session, _append(dialect_of(self._session)), values,
                  row=(_TABLE.name, dedupe_key or id(values)))

    def add_many(self, *, entries: Sequence[tuple[LedgerEntry, str]]) -> None:
        if not entries:
            return
        now = self._now()
        # One executemany: psycopg pipelines it (see invoices._ADD_INVOICES).
        run(self._session, _append(dialect_of(self._session)),
            [mappers.ledger_values(entry, dedupe_key=key, now=now) for entry, key in entries])

    def list_for_account(self, *, account_id: str) -> list[LedgerEntry]:
        # Entries are immutable: no identity map refresh needed.
        rows = self._session.exec(select(LedgerEntryRow)
                                  .where(LedgerEntryRow.account_id == account_id)
                                  .order_by(col(LedgerEntryRow.id)))
        return [mappers.ledger_from_row(row) for row in rows]

    def balance(self, *, account_id: str, currency: str) -> Money:
        sums = self._session.exec(
            select(col(LedgerEntryRow.currency), func.sum(col(LedgerEntryRow.amount_minor)))
            .where(LedgerEntryRow.account_id == account_id)
            .group_by(col(LedgerEntryRow.currency))).all()
        total = Money.zero(currency)
        for entry_currency, minor in sums:
            if entry_currency != currency:
                raise CurrencyMismatch(f"{account_id} has {entry_currency} ledger entries")
            total = total + Money(int(minor), currency)
        return total
