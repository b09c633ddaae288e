"""Invoices and their lines; the (subscription, kind, period start) uniqueness; numbering."""

from __future__ import annotations

import builtins
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, func, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from adapters.db import mappers
from adapters.db.repositories._sql import (
    fresh,
    insert_unless_exists,
    table_of,
)
from adapters.db.tables import InvoiceLineRow, InvoiceRow, InvoiceSequenceRow, PaymentAttemptRow
from domain.errors import DuplicateInvoice, UnknownInvoice
from domain.invoices import Invoice, InvoiceKind, InvoiceStatus
from domain.money import Money

_INVOICES = table_of(InvoiceRow)
_LINES = table_of(InvoiceLineRow)
_SEQUENCES = table_of(InvoiceSequenceRow)


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
            self._session.exec(_LINES.insert(), params=mappers.line_values(invoice))

    def get(self, *, invoice_id: str) -> Invoice | None:
        return self._one(select(InvoiceRow).where(InvoiceRow.id == invoice_id))

    def get_for_update(self, *, invoice_id: str) -> Invoice | None:
        return self._one(select(InvoiceRow).where(InvoiceRow.id == invoice_id).with_for_update())

    def find_for_period(self, *, subscription_id: str, kind: InvoiceKind,
                        period_start: date) -> Invoice | None:
        return self._one(select(InvoiceRow).where(InvoiceRow.subscription_id == subscription_id,
                                                  InvoiceRow.kind == kind.value,
                                                  InvoiceRow.period_start == period_start))

    def by_reference(self, *, reference: str) -> Invoice | None:
        return self._one(select(InvoiceRow).where(InvoiceRow.payment_reference == reference))

    def list_open_for_account(self, *, account_id: str, for_update: bool = False) -> list[Invoice]:
        statement = (select(InvoiceRow)
                     .where(InvoiceRow.account_id == account_id,
                            InvoiceRow.status == InvoiceStatus.OPEN.value)
                     .order_by(col(InvoiceRow.issued_on), col(InvoiceRow.period_start),
                               col(InvoiceRow.number)))
        if for_update:
            statement = statement.with_for_update()
        return self._many(statement)

    def list(self, *, account_id: str | None = None, status: InvoiceStatus | None = None,
             limit: int | None = None) -> list[Invoice]:
        statement = select(InvoiceRow).order_by(col(InvoiceRow.issued_on), col(InvoiceRow.number))
        if account_id is not None:
            statement = statement.where(InvoiceRow.account_id == account_id)
        if status is not None:
            statement = statement.where(InvoiceRow.status == status.value)
        if limit is not None:
            statement = statement.limit(limit)
        return self._many(statement)

    def open_without_attempts(self, *, limit: int,
                              created_before: datetime | None = None) -> builtins.list[str]:
        due = (col(InvoiceRow.total_minor) - func.coalesce(col(InvoiceRow.amount_paid_minor), 0)
               - func.coalesce(col(InvoiceRow.amount_carried_minor), 0))
        no_attempt = ~exists().where(col(PaymentAttemptRow.invoice_id) == col(InvoiceRow.id))
        old_enough = (col(InvoiceRow.created_at) <= created_before if created_before is not None
                      else true())
        rows = self._session.exec(select(col(InvoiceRow.id))
                                  .where(InvoiceRow.status == InvoiceStatus.OPEN.value,
                                         due > 0, no_attempt, old_enough)
                                  .order_by(col(InvoiceRow.issued_on), col(InvoiceRow.id))
                                  .limit(limit))
        return builtins.list(rows)

    def update_amounts(self, *, invoice_id: str, amount_paid: Money | None,
                       amount_carried: Money | None) -> None:
        self._update(invoice_id, amount_paid_minor=_minor(amount_paid),
                     amount_carried_minor=_minor(amount_carried))

    def update_status(self, *, invoice_id: str, status: InvoiceStatus,
                      carried_to: str | None = None) -> None:
        self._update(invoice_id, status=status.value, carried_to=carried_to)

    def set_payment_reference(self, *, invoice_id: str, reference: str) -> None:
        self._update(invoice_id, payment_reference=reference)

    def set_dunning_policy(self, *, invoice_id: str, policy: dict[str, Any] | None) -> None:
        self._update(invoice_id, dunning_policy=policy)

    def dunning_policy(self, *, invoice_id: str) -> dict[str, Any] | None:
        found = self._session.exec(select(col(InvoiceRow.dunning_policy))
                                   .where(InvoiceRow.id == invoice_id)).first()
        return None if found is None else found

    def next_sequence(self, *, issuer: str, year: int) -> int:
        dialect = self._session.get_bind().dialect.name
        build = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (build(_SEQUENCES).values(issuer=issuer, year=year, last_value=1)
                     .on_conflict_do_update(index_elements=["issuer", "year"],
                                            set_={"last_value": _SEQUENCES.c.last_value + 1})
                     .returning(_SEQUENCES.c.last_value))
        return int(self._session.exec(statement).scalar_one())

    def _update(self, invoice_id: str, **values: Any) -> None:
        result = self._session.exec(_INVOICES.update().where(_INVOICES.c.id == invoice_id)
                                    .values(**values, updated_at=self._now()))
        if result.rowcount != 1:
            raise UnknownInvoice(invoice_id)

    def _one(self, statement: SelectOfScalar[InvoiceRow]) -> Invoice | None:
        invoices = self._many(statement)
        return invoices[0] if invoices else None

    def _many(self, statement: SelectOfScalar[InvoiceRow]) -> builtins.list[Invoice]:
        rows = self._session.exec(fresh(statement)).all()
        if not rows:
            return []
        # One query for every invoice's lines: no N+1.
        lines: dict[str, builtins.list[InvoiceLineRow]] = defaultdict(list)
        for line in self._session.exec(fresh(
                select(InvoiceLineRow)
                .where(col(InvoiceLineRow.invoice_id).in_([row.id for row in rows]))
                .order_by(col(InvoiceLineRow.invoice_id), col(InvoiceLineRow.position)))):
            lines[line.invoice_id].append(line)
        return [mappers.invoice_from_rows(row, lines[row.id]) for row in rows]


def _minor(amount: Money | None) -> int | None:
    return None if amount is None else amount.minor
