"""The SQL unit of work: one session, one transaction, every repository on it.

    uow_factory = SqlUnitOfWorkFactory(session_factory(engine), clock=SystemClock())
    with uow_factory() as uow:
        uow.invoices.add_with_lines(invoice=invoice)
        uow.ledger.add(entry=debit, dedupe_key=f"issue:{invoice.id}")
        uow.commit()

Leaving the block without `commit()`, or on an exception, rolls everything back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol, Self

from sqlmodel import Session

from adapters.db.engine import WROTE, SessionFactory
from adapters.db.repositories.accounts import SqlAccountRepository
from adapters.db.repositories.attempts import SqlAttemptRepository
from adapters.db.repositories.invoices import SqlInvoiceRepository
from adapters.db.repositories.ledger import SqlLedgerRepository
from adapters.db.repositories.records import (
    SqlAuditRepository,
    SqlBankTransactionRepository,
    SqlOutboxRepository,
    SqlUnmatchedTransferRepository,
    SqlWebhookEventRepository,
)
from adapters.db.repositories.setups import SqlSetupRepository
from adapters.db.repositories.subscriptions import SqlSubscriptionRepository
from adapters.db.repositories.usage import SqlSeatChangeRepository, SqlUsageRepository


class _Clock(Protocol):  # domain.clock.Clock, narrowed to what is used here
    def now(self) -> datetime: ...


class _UTCNow:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SqlUnitOfWork:
    """Implements `domain.ports.UnitOfWork`. `clock` stamps created_at / updated_at columns."""

    accounts: SqlAccountRepository
    subscriptions: SqlSubscriptionRepository
    seat_changes: SqlSeatChangeRepository
    usage: SqlUsageRepository
    invoices: SqlInvoiceRepository
    ledger: SqlLedgerRepository
    attempts: SqlAttemptRepository
    outbox: SqlOutboxRepository
    audit: SqlAuditRepository
    unmatched_transfers: SqlUnmatchedTransferRepository
    webhook_events: SqlWebhookEventRepository
    bank_transactions: SqlBankTransactionRepository
    setups: SqlSetupRepository

    def __init__(self, session_factory: SessionFactory, *, clock: _Clock | None = None) -> None:
        self._session_factory = session_factory
        self._clock = clock or _UTCNow()
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        """The open session, for the rare query no repository offers (reports, benchmarks)."""
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use `with uow:`")
        return self._session

    def __enter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("this unit of work is already open")
        session = self._session = self._session_factory()
        now = self._clock.now
        self.accounts = SqlAccountRepository(session, now)
        self.subscriptions = SqlSubscriptionRepository(session, now)
        self.seat_changes = SqlSeatChangeRepository(session)
        self.usage = SqlUsageRepository(session)
        self.invoices = SqlInvoiceRepository(session, now)
        self.ledger = SqlLedgerRepository(session, now)
        self.attempts = SqlAttemptRepository(session)
        self.outbox = SqlOutboxRepository(session)
        self.audit = SqlAuditRepository(session)
        self.unmatched_transfers = SqlUnmatchedTransferRepository(session)
        self.webhook_events = SqlWebhookEventRepository(session)
        self.bank_transactions = SqlBankTransactionRepository(session)
        self.setups = SqlSetupRepository(session)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        session, self._session = self.session, None
        try:
            if exc_type is None and not _wrote(session):
                session.commit()  # only reads: a COMMIT keeps psycopg's prepared statements
            else:
                session.rollback()  # a no-op after commit(); discards anything uncommitted
        finally:
            session.close()

    def commit(self) -> None:
        _wrote(self.session)  # forget the writes this commit makes durable
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


def _wrote(session: Session) -> bool:
    """Whether the session's open transaction ran a statement that may write (and clear it)."""
    if session.get_transaction() is None:
        return False
    return bool(session.connection().info.pop(WROTE, False))


class SqlUnitOfWorkFactory:
    """What handlers receive: each call is a fresh unit of work (`UnitOfWorkFactory`)."""

    def __init__(self, session_factory: SessionFactory, *, clock: _Clock | None = None) -> None:
        self._session_factory = session_factory
        self._clock = clock

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._session_factory, clock=self._clock)
