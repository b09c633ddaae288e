"""In-memory fakes of the persistence ports (`domain.ports`), for handler unit tests.

They mirror the SQL adapters' behaviour that handlers rely on: DuplicateInvoice on the same
(subscription, kind, period start), number or payment reference; one active attempt per
invoice; ledger / outbox / webhook dedupe keys; compare-and-set updates; and transactions:
`FakeUnitOfWork` works on a copy of `FakeDatabase` and only `commit()` publishes it.

    db = FakeDatabase()
    uow_factory = FakeUnitOfWorkFactory(db)
    handle_renewal(uow_factory=uow_factory, ...)
    assert db.state.invoices  # what was committed
"""

from __future__ import annotations

import copy
from types import TracebackType
from typing import Self

from tests.fake_events import FakeEventRepository, FakeWebhookEndpointRepository
from tests.fake_repositories import (
    FakeAccountRepository,
    FakeAttemptRepository,
    FakeAuditRepository,
    FakeBankTransactionRepository,
    FakeInvoiceRepository,
    FakeLedgerRepository,
    FakeOutboxRepository,
    FakeSeatChangeRepository,
    FakeState,
    FakeSubscriptionRepository,
    FakeUnmatchedTransferRepository,
    FakeWebhookEventRepository,
)
from tests.fake_usage import FakeCallRecordRepository, FakeRateCardRepository


class FakeDatabase:
    """What has been committed. Entities are frozen, so copying containers is enough."""

    def __init__(self) -> None:
        self.state = FakeState()
        self.commits = 0

    def snapshot(self) -> FakeState:
        return copy.deepcopy(self.state)


class FakeUnitOfWork:
    """`domain.ports.UnitOfWork` in memory: works on a copy of the database's state and
    publishes it on commit; leaving without commit (or on an exception) discards it."""

    def __init__(self, database: FakeDatabase | None = None) -> None:
        self.database = database or FakeDatabase()
        self.committed = False
        self._state: FakeState | None = None

    def __enter__(self) -> Self:
        self._open(self.database.snapshot())
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._state = None

    def commit(self) -> None:
        self.database.state = copy.deepcopy(self._open_state())
        self.database.commits += 1
        self.committed = True

    def rollback(self) -> None:
        self._open(self.database.snapshot())

    def _open_state(self) -> FakeState:
        if self._state is None:
            raise RuntimeError("the unit of work is not open: use `with uow:`")
        return self._state

    def _open(self, state: FakeState) -> None:
        self._state = state
        self.accounts = FakeAccountRepository(state)
        self.subscriptions = FakeSubscriptionRepository(state)
        self.seat_changes = FakeSeatChangeRepository(state)
        self.call_records = FakeCallRecordRepository(state.calls, state.subscriptions)
        self.rate_cards = FakeRateCardRepository(state.rate_cards, state.calls)
        self.invoices = FakeInvoiceRepository(state)
        self.ledger = FakeLedgerRepository(state)
        self.attempts = FakeAttemptRepository(state)
        self.outbox = FakeOutboxRepository(state)
        self.audit = FakeAuditRepository(state)
        self.unmatched_transfers = FakeUnmatchedTransferRepository(state)
        self.webhook_events = FakeWebhookEventRepository(state)
        self.bank_transactions = FakeBankTransactionRepository(state)
        self.events = FakeEventRepository(state)
        self.webhook_endpoints = FakeWebhookEndpointRepository(state)


class FakeUnitOfWorkFactory:
    """Each call is a new FakeUnitOfWork on the same FakeDatabase; `last` is the latest."""

    def __init__(self, database: FakeDatabase | None = None) -> None:
        self.database = database or FakeDatabase()
        self.last: FakeUnitOfWork | None = None

    def __call__(self) -> FakeUnitOfWork:
        self.last = FakeUnitOfWork(self.database)
        return self.last
