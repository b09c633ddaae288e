"""Call records: stored once by the platform's id, summed per class in SQL, marked billed.

Ingestion is the hot path (a telephony platform sends millions of calls a month): on
PostgreSQL a batch is COPied into a temporary staging table and moved with one
`INSERT … SELECT … ON CONFLICT (id) DO NOTHING` (measured in bench/usage.py against
multi-row INSERTs); on SQLite it is one executemany of `INSERT … ON CONFLICT DO NOTHING`.
Either way the number of rows inserted is the number of new records, the rest duplicates.

Renewals never load calls into Python: `minutes_for` sums them per subscription and class
with one GROUP BY, and `mark_billed` stamps the invoice on them with one UPDATE, both for
many subscriptions at once (batched renewals pass hundreds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, bindparam, case, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from adapters.db.repositories._sql import among, dialect_of, run, send_held, table_of
from adapters.db.tables import CallRecordRow, SubscriptionRow
from domain.usage import CallRecord, ClassUsage, Direction

_CALLS = table_of(CallRecordRow)
_SUBSCRIPTIONS = table_of(SubscriptionRow)
_COLUMNS = ("id", "subscription_id", "number", "direction", "destination", "started_at",
            "duration_seconds", "rate_prefix", "received_at")
_STAGING = "call_records_in"
#: `Direction.value` is a slow descriptor on Python 3.11 (measurable at 5,000 rows a batch).
_DIRECTION_TEXT = {direction: direction.value for direction in Direction}


class SqlCallRecordRepository:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._postgres = dialect_of(session) == "postgresql"

    def lock_subscriptions(self, *, subscription_ids: Sequence[str]) -> set[str]:
        """Which of these subscriptions exist, share-locked until the transaction ends.

        A renewal takes the subscription's row lock (its claim) before it sums the calls,
        so no call of that subscription commits between its sum and its mark: each call
        is summed by the invoice that marks it, or left for the next one. Locked in id order
        so two batches never deadlock.
        """
        if not subscription_ids:
            return set()
        query = (select(_SUBSCRIPTIONS.c.id)
                 .where(among(self._session, _SUBSCRIPTIONS.c.id, sorted(set(subscription_ids))))
                 .order_by(_SUBSCRIPTIONS.c.id).with_for_update(read=True))
        return {row[0] for row in run(self._session, query)}

    def add_many(self, *, records: Sequence[CallRecord], rate_prefixes: Sequence[str],
                 received_at: datetime) -> int:
        """Store the records not stored yet (by id); returns how many were new."""
        if not records:
            return 0
        rows = [(r.id, r.subscription_id, r.number, _DIRECTION_TEXT[r.direction], r.destination,
                 r.started_at, r.duration_seconds, prefix, received_at)
                for r, prefix in zip(records, rate_prefixes, strict=True)]
        if self._postgres:
            return self._copy_in(rows)
        statement = sqlite_insert(_CALLS).on_conflict_do_nothing(index_elements=["id"])
        result = run(self._session, statement, [dict(zip(_COLUMNS, row, strict=True))
                                                for row in rows])
        return int(result.rowcount)

    def add_many_as_inserts(self, *, records: Sequence[CallRecord],
                            rate_prefixes: Sequence[str], received_at: datetime) -> int:
        """PostgreSQL with multi-row INSERTs instead of COPY (bench/usage.py compares them)."""
        rows = [{"id": r.id, "subscription_id": r.subscription_id, "number": r.number,
                 "direction": r.direction.value, "destination": r.destination,
                 "started_at": r.started_at, "duration_seconds": r.duration_seconds,
                 "rate_prefix": prefix, "received_at": received_at}
                for r, prefix in zip(records, rate_prefixes, strict=True)]
        # One cached statement; SQLAlchemy's "insertmanyvalues" sends it as multi-row
        # INSERTs of up to 1000 rows, RETURNING the ids that were new.
        statement = (pg_insert(_CALLS).on_conflict_do_nothing(index_elements=["id"])
                     .returning(_CALLS.c.id))
        return len(run(self._session, statement, rows).all())

    def _copy_in(self, rows: list[tuple[Any, ...]]) -> int:
        send_held(self._session)  # driver-level statements bypass `run`
        connection = self._session.connection()
        connection.exec_driver_sql(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} (LIKE call_records) "
            "ON COMMIT DELETE ROWS")
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(f"COPY {_STAGING} ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()
        columns = ", ".join(_COLUMNS)
        inserted = connection.exec_driver_sql(
            f"INSERT INTO call_records ({columns}) SELECT {columns} FROM {_STAGING} "  # noqa: S608
            "ON CONFLICT (id) DO NOTHING").rowcount
        connection.exec_driver_sql(f"TRUNCATE {_STAGING}")
        return int(inserted)

    def minutes_for(self, *, subscription_ids: Sequence[str],
                    before: datetime) -> dict[str, list[ClassUsage]]:
        """The unbilled calls started before `before`, summed per subscription and class.

        One GROUP BY over the unbilled-calls index; both the seconds and the started
        minutes (ceil(seconds / 60) per call, in integer SQL) are summed, the card picks.
        """
        result: dict[str, list[ClassUsage]] = {}
        if not subscription_ids:
            return result
        c = _CALLS.c
        query = (select(c.subscription_id, c.direction, c.rate_prefix,
                        func.sum(c.duration_seconds),
                        func.sum((c.duration_seconds + 59) // 60))
                 .where(c.invoice_id.is_(None),
                        among(self._session, c.subscription_id, subscription_ids),
                        c.started_at < before)
                 .group_by(c.subscription_id, c.direction, c.rate_prefix))
        for subscription_id, direction, prefix, seconds, minutes in run(self._session, query):
            result.setdefault(subscription_id, []).append(
                ClassUsage(Direction(direction), prefix, int(seconds), int(minutes)))
        return result

    def mark_billed(self, *, invoices: Mapping[str, str], before: datetime) -> int:
        """Stamp each subscription's unbilled calls started before `before` with its invoice
        id (`invoices`: subscription id -> invoice id), in one UPDATE; returns the count."""
        if not invoices:
            return 0
        if self._postgres:
            # One statement with two array parameters, however many subscriptions.
            statement = text(
                "UPDATE call_records SET invoice_id = m.invoice_id "
                "FROM unnest(:subscriptions, :invoices) AS m(subscription_id, invoice_id) "
                "WHERE call_records.subscription_id = m.subscription_id "
                "AND call_records.invoice_id IS NULL AND call_records.started_at < :before"
            ).bindparams(bindparam("subscriptions", type_=ARRAY(Text)),
                         bindparam("invoices", type_=ARRAY(Text)),
                         bindparam("before", type_=_CALLS.c.started_at.type))
            params = {"subscriptions": list(invoices), "invoices": list(invoices.values()),
                      "before": before}
            return int(run(self._session, statement, params).rowcount)
        c = _CALLS.c
        update = (_CALLS.update()
                  .where(c.invoice_id.is_(None), c.subscription_id.in_(list(invoices)),
                         c.started_at < before)
                  .values(invoice_id=case(dict(invoices), value=c.subscription_id)))
        return int(run(self._session, update).rowcount)

    def invoice_of(self, *, record_ids: Sequence[str]) -> dict[str, str | None]:
        """The invoice that billed each stored record (None: not billed yet)."""
        query = select(_CALLS.c.id, _CALLS.c.invoice_id).where(
            _CALLS.c.id.in_(list(record_ids)))
        return {record_id: invoice_id for record_id, invoice_id in run(self._session, query)}

    def reclassify(self, *, subscription_id: str) -> int:
        """Re-rate the subscription's unbilled outbound calls by its stored card's prefixes
        (longest first; "" when none matches): called when the card is replaced."""
        statement = text(
            "UPDATE call_records SET rate_prefix = COALESCE(("
            "SELECT d.prefix FROM rate_card_destinations d "
            "WHERE d.subscription_id = call_records.subscription_id "
            "AND call_records.destination LIKE d.prefix || '%' "
            "ORDER BY length(d.prefix) DESC LIMIT 1), '') "
            "WHERE subscription_id = :subscription_id AND invoice_id IS NULL "
            "AND direction = 'outbound'")
        return int(run(self._session, statement, {"subscription_id": subscription_id}).rowcount)
