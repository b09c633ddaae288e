"""Persistence ports: the repositories and the unit of work the handlers are typed against.

Adapters: `adapters.db` (SQLModel on SQLite / PostgreSQL) and `tests.fakes` (in memory).
Every method takes keyword arguments only. `get` returns None when nothing matches; updates
of a missing row raise the matching `domain.errors.NotFound`. Lists are in a stable order.
The clock port lives in `domain.clock`; the notifier port in `domain.ports_notify`.

In a class with a method named `list`, methods annotated `-> list[...]` come before it
(after it, type checkers read `list` as that method).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol, Self

from domain.accounts import Account, MethodType, PaymentMethod, Standing
from domain.invoices import Invoice, InvoiceKind, InvoiceStatus
from domain.ledger import LedgerEntry
from domain.money import Money
from domain.outcomes import DeclineKind
from domain.payments import AttemptStatus, PaymentAttempt
from domain.ports_events import EventRepository, WebhookEndpointRepository
from domain.ports_usage import CallRecordRepository, RateCardRepository
from domain.records import (
    AuditEntry,
    BankTransaction,
    Notification,
    UnmatchedTransfer,
    WebhookEvent,
)
from domain.renewal_batch import PeriodKey, RenewalPlan
from domain.seats import SeatChange
from domain.setups import PaymentMethodSetup
from domain.subscriptions import Subscription, SubscriptionStatus


class AccountRepository(Protocol):
    def add(self, *, account: Account) -> None: ...
    def get(self, *, account_id: str) -> Account | None: ...
    def get_many(self, *, account_ids: Collection[str]) -> dict[str, Account]: ...
    def list(self, *, standing: Standing | None = None) -> list[Account]: ...
    def update_standing(self, *, account_id: str, standing: Standing) -> None: ...
    def update_payment_method(self, *, account_id: str, method: PaymentMethod) -> None: ...

    def update_profile(self, *, account: Account) -> None:
        """Store the account's name, e-mail, language, currency, external id and address.
        Raises DuplicateExternalId when another account has the external id."""
        ...

    def by_external_id(self, *, external_id: str) -> Account | None: ...

    def by_provider_ref(self, *, provider_customer: str | None = None,
                        provider_method: str | None = None) -> Account | None:
        """The account whose payment method has this provider customer (Stripe `cus_…`) or
        method (GoCardless mandate); both given: both must match. Oldest account first."""
        ...


class SubscriptionRepository(Protocol):
    def add(self, *, subscription: Subscription) -> None: ...
    def get(self, *, subscription_id: str) -> Subscription | None: ...
    def list_for_account(self, *, account_id: str) -> list[Subscription]: ...
    def by_external_id(self, *, external_id: str) -> Subscription | None: ...

    def due(self, *, as_of: date, limit: int) -> list[Subscription]:
        """ACTIVE subscriptions with `next_renewal_on <= as_of`, earliest first, leaving out
        those ending on or before `next_renewal_on` (they get a final invoice instead)."""
        ...

    def ending_due(self, *, as_of: date, limit: int) -> list[Subscription]:
        """ACTIVE subscriptions with `ends_on <= as_of` (canceled at the end of the term,
        their end day has come), earliest end first."""
        ...

    def schedule_end(self, *, subscription_id: str, ends_on: date, reason: str) -> bool:
        """Set the end day of a still ACTIVE subscription; False if it has ended already."""
        ...

    def end(self, *, subscription_id: str, ends_on: date, reason: str) -> bool:
        """ACTIVE → CANCELED (ended) on `ends_on`, compare-and-set: False when it had ended
        already (the row stays locked until the transaction ends)."""
        ...

    def set_next_renewal(self, *, subscription_id: str, billed_through: date,
                         next_renewal_on: date, expected_next: date | None = None) -> bool:
        """Record that billing dates up to `billed_through` are done.

        With `expected_next`, only if the stored `next_renewal_on` still equals it
        (compare-and-set); returns False when another worker moved it first.
        """
        ...

    def set_status(self, *, subscription_id: str, status: SubscriptionStatus) -> None: ...

    def claim_renewal(self, *, subscription_id: str, now: datetime, until: datetime) -> bool:
        """Lease the subscription's renewal to the caller until `until`, unless another
        worker holds an unexpired lease or it has ended. Returns whether it was taken."""
        ...

    def claim_due(self, *, as_of: date, limit: int, now: datetime, until: datetime,
                  exclude: Collection[str] = (),
                  after: tuple[date, str] | None = None) -> list[Subscription]:
        """Up to `limit` of the `due` subscriptions no other worker holds, earliest first,
        in one statement: leased until `until` (as `claim_renewal`) and locked until the
        transaction ends; rows another transaction has locked are skipped (PostgreSQL:
        FOR UPDATE SKIP LOCKED; SQLite has one writer). `exclude`: ids to leave out;
        `after`: only those past this (next_renewal_on, id), the last of a previous batch."""
        ...

    def set_next_renewals(self, *, plans: Sequence[RenewalPlan]) -> None:
        """`set_next_renewal` for each plan's subscription, expecting the next renewal date
        it was planned from (compare-and-set), in one round trip."""
        ...


class SeatChangeRepository(Protocol):
    def add(self, *, subscription_id: str, change: SeatChange) -> None: ...

    def list_for(self, *, subscription_id: str, start: date | None = None,
                 end: date | None = None) -> list[SeatChange]:
        """Changes dated in [start, end) (open bounds when None), by date then as recorded."""
        ...

    def list_for_many(self, *, subscription_ids: Collection[str],
                      end: date) -> dict[str, list[SeatChange]]:
        """`list_for(end=end)` of each subscription in one query (absent: no change)."""
        ...


@dataclass(frozen=True)
class LockedAttempt:
    """An attempt and its invoice, both locked until the transaction ends (the invoice first,
    the order renewals take them in), with the attempt's account as read (not locked)."""

    invoice: Invoice  # without its lines (`stored_charges` set)
    attempt: PaymentAttempt
    account: Account
    #: The versions of the three rows as locked, opaque to all but the repository (None
    #: where the store keeps none): `lock_for_attempts(known=…)` compares them.
    stamp: Hashable | None = field(default=None, compare=False)


class InvoiceRepository(Protocol):
    def add_with_lines(self, *, invoice: Invoice) -> None:
        """Insert the invoice and its lines. Raises DuplicateInvoice if one of the same
        (subscription, kind, period start) exists, or its number / payment reference is taken;
        the surrounding transaction stays usable."""
        ...

    def get(self, *, invoice_id: str, lines: bool = True) -> Invoice | None:
        """The invoice; with `lines=False` without its lines (`stored_charges` set), for
        paths that need what is due but never print it."""
        ...

    def get_for_update(self, *, invoice_id: str, lines: bool = True) -> Invoice | None:
        """`get`, locking the row until the transaction ends (SELECT … FOR UPDATE)."""
        ...

    def get_with_account(self, *, invoice_id: str) -> tuple[Invoice, Account] | None:
        """The invoice without its lines, and its account, in one round trip."""
        ...

    def lock_for_attempt(self, *, attempt_id: str) -> LockedAttempt | None:
        """The attempt with its invoice, both locked, and its account, in one round trip
        (None: no such attempt). Every change to an attempt starts here."""
        ...

    def get_many_with_accounts(self, *, invoice_ids: Collection[str],
                               ) -> dict[str, tuple[Invoice, Account]]:
        """`get_with_account` for many invoices in one round trip, by invoice id (unknown
        ids are left out)."""
        ...

    def lock_for_attempts(self, *, attempt_ids: Collection[str],
                          known: Mapping[str, LockedAttempt] | None = None,
                          ) -> list[LockedAttempt]:
        """`lock_for_attempt` for many attempts in one round trip (unknown ids are left
        out), locked and returned by account, then in the order renewals lock an account's
        invoices: two batches sharing attempts never deadlock.

        `known`: these attempts as an earlier transaction locked them, by attempt id, with
        the writes that transaction made to them applied (a claim's). Where the store keeps
        row versions, an attempt none of whose rows another transaction has written since is
        returned as known, and only the versions are read; the others are read again."""
        ...

    def find_for_period(self, *, subscription_id: str, kind: InvoiceKind,
                        period_start: date) -> Invoice | None: ...

    def issued_periods(self, *, keys: Collection[PeriodKey]) -> set[PeriodKey]:
        """Which of these (subscription, kind, period start) have an invoice already."""
        ...

    def open_for_accounts(self, *, account_ids: Collection[str],
                          for_update: bool = False) -> dict[str, list[Invoice]]:
        """Per account, its OPEN invoices without their lines (`stored_charges` set), oldest
        first; `for_update` locks them in (account, issue date, period start, number) order,
        the order `list_open_for_account` locks one account's in."""
        ...

    def add_many(self, *, invoices: Sequence[Invoice]) -> None:
        """Insert the invoices and their lines in multi-row INSERTs. A unique clash raises
        (and, on PostgreSQL, aborts the transaction): batches are issued under lock."""
        ...

    def update_settlements(self, *, invoices: Sequence[Invoice]) -> None:
        """`update_settlement` of each invoice, in one round trip."""
        ...

    def take_sequences(self, *, issuer: str, year: int, count: int) -> int:
        """Take `count` consecutive sequences for (issuer, year) in one statement and return
        the first: as `next_sequence`, locked until commit and given back by a rollback."""
        ...

    def by_reference(self, *, reference: str) -> Invoice | None: ...

    def list_open_for_account(self, *, account_id: str, for_update: bool = False) -> list[Invoice]:
        """OPEN invoices of the account, oldest first (issue date, period start, number)."""
        ...

    def open_without_attempts(self, *, limit: int, created_before: datetime | None = None,
                              asked_by: datetime | None = None) -> list[str]:
        """Ids of OPEN invoices with an amount due > 0 and no attempt at all (their
        "finalised" message was lost), created before `created_before` if given, oldest
        first: the sweeper routes them again. With `asked_by`, only those the sweeper may
        ask about again by then (see `ask_route_again_at`)."""
        ...

    def ask_route_again_at(self, *, invoice_ids: Collection[str], at: datetime) -> None:
        """The sweeper routed these: `open_without_attempts(asked_by=…)` leaves them out
        until `at` (their route message may still be queued)."""
        ...

    def list(self, *, account_id: str | None = None, status: InvoiceStatus | None = None,
             limit: int | None = None) -> list[Invoice]: ...

    def update_status(self, *, invoice_id: str, status: InvoiceStatus,
                      carried_to: str | None = None) -> None: ...

    def update_settlement(self, *, invoice: Invoice) -> None:
        """Write the invoice's paid and carried amounts, status and carried_to at once. The
        caller holds the invoice locked: the write may be held back and sent with the
        transaction's other writes (an unknown invoice raises then)."""
        ...

    def set_payment_reference(self, *, invoice_id: str, reference: str) -> None: ...

    def next_sequence(self, *, issuer: str, year: int) -> int:
        """The next invoice sequence for (issuer, year), from 1, without gaps: the counter
        row stays locked until commit, and a rollback gives the number back."""
        ...

    def set_dunning_policy(self, *, invoice_id: str, policy: dict[str, Any] | None) -> None: ...
    def dunning_policy(self, *, invoice_id: str) -> dict[str, Any] | None: ...


class LedgerRepository(Protocol):
    """Append only: there is no update and no delete."""

    def add(self, *, entry: LedgerEntry, dedupe_key: str | None = None) -> bool:
        """Append `entry`. Returns False (and writes nothing, raising nothing) when an entry
        with the same `dedupe_key` exists, e.g. "settle:<attempt id>"."""
        ...

    def add_many(self, *, entries: Sequence[tuple[LedgerEntry, str]]) -> None:
        """`add` of each (entry, dedupe key) in a multi-row INSERT; existing keys are skipped."""
        ...

    def append(self, *, entry: LedgerEntry, dedupe_key: str | None = None) -> None:
        """`add` without the answer: the write may be held back and sent with the
        transaction's other writes (before its next read, at the latest on commit)."""
        ...

    def list_for_account(self, *, account_id: str) -> list[LedgerEntry]: ...

    def balance(self, *, account_id: str, currency: str) -> Money:
        """The sum of the account's entries. Raises CurrencyMismatch on another currency."""
        ...


class AttemptRepository(Protocol):
    def add(self, *, attempt: PaymentAttempt) -> None:
        """Raises AttemptAlreadyActive when the invoice has an active attempt (and `attempt`
        is active), DuplicateAttempt when the id exists; the transaction stays usable."""
        ...

    def add_many(self, *, attempts: Sequence[PaymentAttempt]) -> set[str]:
        """Insert the attempts in one statement; returns the ids inserted. One whose invoice
        already has an active attempt (or whose id exists) is left out, raising nothing;
        the transaction stays usable."""
        ...

    def claim_many(self, *, amounts: Mapping[str, Money], now: datetime) -> set[str]:
        """Compare-and-set SCHEDULED → PROCESSING for every attempt id of `amounts` in one
        statement, setting each one's amount; returns the ids claimed (the others were not
        SCHEDULED any more: claimed or settled by someone else)."""
        ...

    def get(self, *, attempt_id: str) -> PaymentAttempt | None: ...
    def get_many(self, *, attempt_ids: Collection[str]) -> dict[str, PaymentAttempt]:
        """The attempts among `attempt_ids` that exist, by id, in one query."""
        ...

    def get_for_update(self, *, attempt_id: str) -> PaymentAttempt | None: ...

    def update(self, *, attempt: PaymentAttempt, expected_status: AttemptStatus,
               locked: bool = False) -> bool:
        """Save every mutable field of `attempt` if the stored status is still
        `expected_status` (compare-and-set). False when someone else moved it first.
        Raises AttemptAlreadyActive if moving it to an active status collides.
        `locked`: the caller holds the attempt's row lock, so the compare cannot fail; a
        write that cannot collide is then held back and sent with the transaction's other
        writes (True; a row not as expected raises when they are sent)."""
        ...

    def active_for_invoice(self, *, invoice_id: str) -> PaymentAttempt | None: ...

    def active_for_invoices(self, *, invoice_ids: Collection[str]) -> dict[str, PaymentAttempt]:
        """`active_for_invoice` of each invoice in one query (absent: none active)."""
        ...

    def list_for_invoice(self, *, invoice_id: str) -> list[PaymentAttempt]: ...

    def list_for_invoices(self, *, invoice_ids: Collection[str],
                          ) -> dict[str, list[PaymentAttempt]]:
        """`list_for_invoice` for many invoices in one round trip (every id a key)."""
        ...

    def in_flight_amounts(self, *, invoice_ids: Collection[str]) -> dict[str, Money]:
        """Per invoice, the sum of its attempts in IN_FLIGHT_STATUSES (absent: none)."""
        ...

    def cancel_scheduled(self, *, invoice_ids: Collection[str], now: datetime,
                         reason: str) -> list[str]:
        """Move the invoices' SCHEDULED attempts to CANCELED; returns their ids."""
        ...

    def due_scheduled(self, *, now: datetime, limit: int, since: datetime | None = None,
                      asked_by: datetime | None = None) -> list[PaymentAttempt]:
        """SCHEDULED attempts with `since < scheduled_for <= now`, earliest first; with
        `asked_by`, leaving out those the sweeper may not ask about again before then."""
        ...

    def stuck(self, *, statuses: Collection[AttemptStatus], older_than: datetime,
              limit: int, now: datetime | None = None) -> list[PaymentAttempt]:
        """Attempts in `statuses` not updated since `older_than`, least recently first; with
        `now`, leaving out those the sweeper asked about and may not ask again before then."""
        ...

    def ask_again_at(self, *, attempt_ids: Collection[str], at: datetime) -> None:
        """The sweeper has just asked about these attempts: `stuck` leaves them out until
        `at` (when the message is presumed lost). Any change to an attempt clears this."""
        ...

    def answered(self, *, attempt_id: str, now: datetime) -> None:
        """A reconciliation answered and nothing changed (a debit still pending): the attempt
        counts as looked at `now`, so `stuck` returns it again one threshold later."""
        ...

    def by_provider_ref(self, *, provider_ref: str) -> PaymentAttempt | None: ...

    def failed(self, *, account_id: str | None = None, since: datetime | None = None,
               failure_class: DeclineKind | None = None,
               limit: int = 100) -> list[PaymentAttempt]:
        """FAILED / REQUIRES_ACTION attempts, newest first, for operators to re-queue."""
        ...

    def created_times(self, *, account_id: str, method: MethodType,
                      since: datetime) -> list[datetime]:
        """Creation times of the account's attempts on `method` since `since` (retry cap)."""
        ...


class OutboxRepository(Protocol):
    def add(self, *, notification: Notification) -> bool:
        """Queue it; False (nothing written) if its `dedupe_key` is already queued."""
        ...

    def add_later(self, *, notification: Notification,
                  inserted: Callable[[bool], None]) -> None:
        """`add`, held back and sent with the transaction's other writes; `inserted` is told
        the answer then, before the commit."""
        ...

    def get(self, *, notification_id: str) -> Notification | None: ...
    def unsent(self, *, limit: int, max_attempts: int | None = None,
               min_attempts: int | None = None) -> list[Notification]:
        """Unsent messages, oldest first, tried fewer than `max_attempts` times and at least
        `min_attempts` times when given."""
        ...

    def claim_unsent(self, *, now: datetime, until: datetime, limit: int,
                     max_attempts: int) -> list[Notification]:
        """Up to `limit` unsent messages, oldest first, tried fewer than `max_attempts` times
        and not claimed by anyone past `now`; they are claimed until `until`. Two claims at
        once never get the same message."""
        ...

    def list_all(self) -> list[Notification]: ...
    def mark_sent(self, *, notification_id: str, at: datetime) -> None: ...
    def mark_sent_many(self, *, notification_ids: Collection[str], at: datetime) -> None: ...

    def release(self, *, notification_ids: Collection[str]) -> None:
        """These unsent messages start over: no tries counted, no drain's claim."""
        ...
    def record_failure(self, *, notification_id: str) -> None: ...


class AuditRepository(Protocol):
    def add(self, *, entry: AuditEntry) -> None: ...
    def list(self, *, target: str | None = None, limit: int = 100) -> list[AuditEntry]: ...


class UnmatchedTransferRepository(Protocol):
    def add(self, *, transfer: UnmatchedTransfer) -> None: ...
    def get(self, *, transfer_id: str) -> UnmatchedTransfer | None: ...
    def list(self, *, resolved: bool | None = False) -> list[UnmatchedTransfer]: ...
    def resolve(self, *, transfer_id: str, note: str = "") -> None: ...


class BankTransactionRepository(Protocol):
    def add(self, *, transaction: BankTransaction) -> bool:
        """Record it; False (nothing written) if its `bank_ref` was recorded before."""
        ...

    def get(self, *, bank_ref: str) -> BankTransaction | None: ...


class WebhookEventRepository(Protocol):
    def add(self, *, event: WebhookEvent) -> bool:
        """Store it once; False if (provider, event id) was already stored."""
        ...

    def get(self, *, provider: str, event_id: str) -> WebhookEvent | None: ...

    def mark_processed(self, *, provider: str, event_id: str, at: datetime,
                       note: str | None = None) -> None:
        """Processed at `at`; `note` (if given) replaces the stored note."""
        ...

    def unprocessed(self, *, received_before: datetime, limit: int) -> list[WebhookEvent]: ...

    def record_attempt(self, *, provider: str, event_id: str, note: str,
                       next_attempt_at: datetime) -> None:
        """A try that did not finish it (parked, or an error): attempts + 1, note, next try."""
        ...

    def due(self, *, now: datetime, received_before: datetime,
            limit: int) -> list[WebhookEvent]:
        """Unprocessed events to re-drive: parked ones whose `next_attempt_at <= now`, and
        never-tried ones received before `received_before` (their message was lost). Oldest
        first."""
        ...

    def for_resource(self, *, provider: str, resource_id: str) -> list[WebhookEvent]:
        """Every stored event about one provider object, by `occurred_at` then event id."""
        ...

    def list(self, *, status: str | None = None, provider: str | None = None,
             limit: int = 100) -> list[WebhookEvent]:
        """Newest received first; `status` as in `WebhookEvent.status`."""
        ...


class SetupRepository(Protocol):
    def add(self, *, setup: PaymentMethodSetup) -> None: ...
    def get(self, *, setup_id: str) -> PaymentMethodSetup | None: ...
    def by_provider_ref(self, *, provider: str, provider_ref: str
                        ) -> PaymentMethodSetup | None: ...

    def open_for_customer(self, *, provider: str, provider_customer: str
                          ) -> list[PaymentMethodSetup]:
        """Open setups of a provider customer, newest first."""
        ...

    def mark_completed(self, *, setup_id: str, at: datetime) -> bool:
        """Open → completed; False if it was not open (another event completed it first)."""
        ...

    def list_for_account(self, *, account_id: str) -> list[PaymentMethodSetup]:
        """Oldest first."""
        ...


class UnitOfWork(Protocol):
    """One database transaction. `with uow: …; uow.commit()`; leaving without commit (or on
    an exception) rolls back. Repositories are valid only inside the `with` block."""

    @property
    def accounts(self) -> AccountRepository: ...
    @property
    def subscriptions(self) -> SubscriptionRepository: ...
    @property
    def seat_changes(self) -> SeatChangeRepository: ...
    @property
    def call_records(self) -> CallRecordRepository: ...
    @property
    def rate_cards(self) -> RateCardRepository: ...
    @property
    def invoices(self) -> InvoiceRepository: ...
    @property
    def ledger(self) -> LedgerRepository: ...
    @property
    def attempts(self) -> AttemptRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def unmatched_transfers(self) -> UnmatchedTransferRepository: ...
    @property
    def webhook_events(self) -> WebhookEventRepository: ...
    @property
    def bank_transactions(self) -> BankTransactionRepository: ...
    @property
    def setups(self) -> SetupRepository: ...
    @property
    def events(self) -> EventRepository: ...
    @property
    def webhook_endpoints(self) -> WebhookEndpointRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None: ...

    def commit(self) -> None: ...
    def rollback(self) -> None: ...


#: Each `with uow_factory() as uow:` is one fresh transaction (handlers take the factory).
class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


__all__ = [
    "AccountRepository",
    "AttemptRepository",
    "AuditRepository",
    "BankTransactionRepository",
    "CallRecordRepository",
    "InvoiceRepository",
    "LedgerRepository",
    "OutboxRepository",
    "RateCardRepository",
    "SeatChangeRepository",
    "SubscriptionRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "UnmatchedTransferRepository",
    "WebhookEventRepository",
]
