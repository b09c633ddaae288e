"""The SQL unit of work: one session, one transaction, every repository on it.

    uow_factory = SqlUnitOfWorkFactory(session_factory(engine), clock=SystemClock())
    with uow_factory() as uow:
        uow.invoices.add_with_lines(invoice=invoice)
        uow.ledger.add(entry=debit, dedupe_key=f"issue:{invoice.id}")
        uow.commit()

Leaving the block without `commit()`, or on an exception, rolls everything back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol, Self

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session

from adapters.db.engine import WROTE, SessionFactory
from adapters.db.repositories._sql import drop_held, send_held
from adapters.db.repositories.accounts import SqlAccountRepository
from adapters.db.repositories.attempts import SqlAttemptRepository
from adapters.db.repositories.call_records import SqlCallRecordRepository
from adapters.db.repositories.events import SqlEventRepository
from adapters.db.repositories.invoices import SqlInvoiceRepository
from adapters.db.repositories.ledger import SqlLedgerRepository
from adapters.db.repositories.rate_cards import SqlRateCardRepository
from adapters.db.repositories.records import (
    SqlAuditRepository,
    SqlBankTransactionRepository,
    SqlOutboxRepository,
    SqlUnmatchedTransferRepository,
    SqlWebhookEventRepository,
)
from adapters.db.repositories.setups import SqlSetupRepository
from adapters.db.repositories.subscriptions import SqlSubscriptionRepository
from adapters.db.repositories.usage import SqlSeatChangeRepository
from adapters.db.repositories.webhook_endpoints import SqlWebhookEndpointRepository

#: Runs inside a unit of work's transaction just before it commits.
BeforeCommit = Callable[[Session], None]


class _Clock(Protocol):  # domain.clock.Clock, narrowed to what is used here
    def now(self) -> datetime: ...


class _UTCNow:
    def now(self) -> datetime:
        return datetime.now(UTC)


@event.listens_for(Session, "do_orm_execute")
def _send_held_first(state: ORMExecuteState) -> None:
    # The repositories' Core statements go through `run`, which sends held writes first;
    # the ORM queries (and a caller's own `uow.session.execute`) must see them too.
    send_held(state.session)


class SqlUnitOfWork:
    """Implements `domain.ports.UnitOfWork`. `clock` stamps created_at / updated_at columns.
    `on_events_committed` is called after a commit that queued event deliveries (it asks for
    a delivery drain: whoever emits never has to remember to)."""

    accounts: SqlAccountRepository
    subscriptions: SqlSubscriptionRepository
    seat_changes: SqlSeatChangeRepository
    call_records: SqlCallRecordRepository
    rate_cards: SqlRateCardRepository
    invoices: SqlInvoiceRepository
    ledger: SqlLedgerRepository
    attempts: SqlAttemptRepository
    outbox: SqlOutboxRepository
    audit: SqlAuditRepository
    unmatched_transfers: SqlUnmatchedTransferRepository
    webhook_events: SqlWebhookEventRepository
    bank_transactions: SqlBankTransactionRepository
    setups: SqlSetupRepository
    events: SqlEventRepository
    webhook_endpoints: SqlWebhookEndpointRepository

    def __init__(self, session_factory: SessionFactory, *, clock: _Clock | None = None,
                 before_commit: BeforeCommit | None = None,
                 on_events_committed: Callable[[], None] | None = None) -> None:
        self._session_factory = session_factory
        self._clock = clock or _UTCNow()
        self._before_commit = before_commit
        self._on_events_committed = on_events_committed
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
        self.call_records = SqlCallRecordRepository(session)
        self.rate_cards = SqlRateCardRepository(session, now)
        self.invoices = SqlInvoiceRepository(session, now)
        self.ledger = SqlLedgerRepository(session, now)
        self.attempts = SqlAttemptRepository(session)
        self.outbox = SqlOutboxRepository(session)
        self.audit = SqlAuditRepository(session)
        self.unmatched_transfers = SqlUnmatchedTransferRepository(session)
        self.webhook_events = SqlWebhookEventRepository(session)
        self.bank_transactions = SqlBankTransactionRepository(session)
        self.setups = SqlSetupRepository(session)
        self.webhook_endpoints = SqlWebhookEndpointRepository(session)
        self.events = SqlEventRepository(session, self.webhook_endpoints)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        session, self._session = self.session, None
        drop_held(session)  # not committed: nothing held is sent
        try:
            if exc_type is None and not _wrote(session):
                session.commit()  # only reads: a COMMIT keeps psycopg's prepared statements
            else:
                session.rollback()  # a no-op after commit(); discards anything uncommitted
        finally:
            session.close()

    def commit(self) -> None:
        session = self.session  # raises when not open
        self.events.flush()  # the transaction's events, numbered, before anything commits
        send_held(session)
        if self._before_commit is not None:
            self._before_commit(self.session)
        _wrote(self.session)  # forget the writes this commit makes durable
        self.session.commit()
        if self.events.queued:
            self.events.queued = False
            if self._on_events_committed is not None:
                self._on_events_committed()

    def rollback(self) -> None:
        drop_held(self.session)
        self.session.rollback()
        self.events.discard()


def _wrote(session: Session) -> bool:
    """Whether the session's open transaction ran a statement that may write (and clear it)."""
    if session.get_transaction() is None:
        return False
    return bool(session.connection().info.pop(WROTE, False))


class SqlUnitOfWorkFactory:
    """What handlers receive: each call is a fresh unit of work (`UnitOfWorkFactory`)."""

    def __init__(self, session_factory: SessionFactory, *, clock: _Clock | None = None,
                 before_commit: BeforeCommit | None = None,
                 on_events_committed: Callable[[], None] | None = None) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._before_commit = before_commit
        #: Set by the composition root once the broker exists (see workers/bootstrap.py).
        self.on_events_committed = on_events_committed

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._session_factory, clock=self._clock,
                             before_commit=self._before_commit,
                             on_events_committed=self.on_events_committed)

    def with_before_commit(self, hook: BeforeCommit) -> SqlUnitOfWorkFactory:
        """The same factory whose units of work run `hook(session)` inside every commit's
        transaction, just before it commits (the /v1 API marks its Idempotency-Key there,
        so the write and "this key was executed" are durable together or not at all)."""
        return SqlUnitOfWorkFactory(self._session_factory, clock=self._clock,
                                    before_commit=hook,
                                    on_events_committed=self.on_events_committed)
