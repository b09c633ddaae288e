"""The in-memory repositories behind `tests.fakes.FakeUnitOfWork` (see its docstring)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from domain.accounts import Account, MethodType, PaymentMethod, Standing
from domain.errors import (
    AttemptAlreadyActive,
    DuplicateAttempt,
    DuplicateInvoice,
    NotFound,
    UnknownAccount,
    UnknownInvoice,
    UnknownSubscription,
)
from domain.invoices import Invoice, InvoiceKind, InvoiceStatus
from domain.ledger import LedgerEntry
from domain.money import CurrencyMismatch, Money
from domain.outcomes import DeclineKind
from domain.outgoing_events import EventDelivery, OutgoingEvent, WebhookEndpoint
from domain.payments import ACTIVE_STATUSES, IN_FLIGHT_STATUSES, AttemptStatus, PaymentAttempt
from domain.ports import LockedAttempt
from domain.rate_cards import RateCard
from domain.records import (
    AuditEntry,
    BankTransaction,
    Notification,
    UnmatchedTransfer,
    WebhookEvent,
)
from domain.renewal_batch import PeriodKey, RenewalPlan
from domain.seats import SeatChange
from domain.subscriptions import Subscription, SubscriptionStatus
from tests.fake_usage import StoredCall


@dataclass
class FakeState:
    accounts: dict[str, Account] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    leases: dict[str, datetime] = field(default_factory=dict)
    seat_changes: dict[str, list[SeatChange]] = field(default_factory=dict)
    calls: dict[str, StoredCall] = field(default_factory=dict)
    rate_cards: dict[str, RateCard] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    dunning_policies: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    sequences: dict[tuple[str, int], int] = field(default_factory=dict)
    ledger: list[tuple[LedgerEntry, str | None]] = field(default_factory=list)
    attempts: dict[str, PaymentAttempt] = field(default_factory=dict)
    #: The sweeper's "asked; not again before" times (the SQL `recheck_at` column).
    rechecks: dict[str, datetime] = field(default_factory=dict)
    #: The same for invoices never routed (the SQL `route_recheck_at` column).
    route_rechecks: dict[str, datetime] = field(default_factory=dict)
    outbox: dict[str, Notification] = field(default_factory=dict)
    #: Drains' claims on outbox messages (the SQL `claimed_until` column).
    outbox_claims: dict[str, datetime] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    transfers: dict[str, UnmatchedTransfer] = field(default_factory=dict)
    webhooks: dict[tuple[str, str], WebhookEvent] = field(default_factory=dict)
    bank_transactions: dict[str, BankTransaction] = field(default_factory=dict)
    #: Outgoing events (tests/fake_events.py).
    events: dict[str, OutgoingEvent] = field(default_factory=dict)
    event_sequences: dict[str, int] = field(default_factory=dict)
    deliveries: dict[str, EventDelivery] = field(default_factory=dict)
    endpoints: dict[str, WebhookEndpoint] = field(default_factory=dict)


def _between(day: date, start: date | None, end: date | None) -> bool:
    return (start is None or day >= start) and (end is None or day < end)


class FakeAccountRepository:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def add(self, *, account: Account) -> None:
        if account.id in self._s.accounts:
            raise ValueError(f"account {account.id} exists")
        self._s.accounts[account.id] = account

    def get(self, *, account_id: str) -> Account | None:
        return self._s.accounts.get(account_id)

    def get_many(self, *, account_ids: Collection[str]) -> dict[str, Account]:
        return {i: self._s.accounts[i] for i in account_ids if i in self._s.accounts}

    def list(self, *, standing: Standing | None = None) -> list[Account]:
        return [a for _, a in sorted(self._s.accounts.items())
                if standing is None or a.standing is standing]

    def update_standing(self, *, account_id: str, standing: Standing) -> None:
        self._s.accounts[account_id] = replace(self._existing(account_id), standing=standing)

    def by_provider_ref(self, *, provider_customer: str | None = None,
                        provider_method: str | None = None) -> Account | None:
        if provider_customer is None and provider_method is None:
            return None
        for account in self._s.accounts.values():  # insertion order: oldest first
            method = account.payment_method
            if ((provider_customer is None or method.provider_customer == provider_customer)
                    and (provider_method is None or method.provider_method == provider_method)):
                return account
        return None

    def update_payment_method(self, *, account_id: str, method: PaymentMethod) -> None:
        self._s.accounts[account_id] = replace(self._existing(account_id), payment_method=method)

    def update_profile(self, *, account: Account) -> None:
        self._existing(account.id)
        self._s.accounts[account.id] = account

    def by_external_id(self, *, external_id: str) -> Account | None:
        return next((a for a in self._s.accounts.values() if a.external_id == external_id),
                    None)

    def _existing(self, account_id: str) -> Account:
        if account_id not in self._s.accounts:
            raise UnknownAccount(account_id)
        return self._s.accounts[account_id]


class FakeSubscriptionRepository:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def add(self, *, subscription: Subscription) -> None:
        self._s.subscriptions[subscription.id] = subscription

    def get(self, *, subscription_id: str) -> Subscription | None:
        return self._s.subscriptions.get(subscription_id)

    def list_for_account(self, *, account_id: str) -> list[Subscription]:
        return sorted((s for s in self._s.subscriptions.values() if s.account_id == account_id),
                      key=lambda s: (s.started_on, s.id))

    def by_external_id(self, *, external_id: str) -> Subscription | None:
        return next((s for s in self._s.subscriptions.values()
                     if s.external_id == external_id), None)

    def due(self, *, as_of: date, limit: int) -> list[Subscription]:
        due = [s for s in self._s.subscriptions.values()
               if s.status is SubscriptionStatus.ACTIVE and s.next_renewal_on <= as_of
               and (s.ends_on is None or s.next_renewal_on < s.ends_on)]
        return sorted(due, key=lambda s: (s.next_renewal_on, s.id))[:limit]

    def ending_due(self, *, as_of: date, limit: int) -> list[Subscription]:
        due = [s for s in self._s.subscriptions.values()
               if s.status is SubscriptionStatus.ACTIVE and s.ends_on is not None
               and s.ends_on <= as_of]
        return sorted(due, key=lambda s: (s.ends_on or as_of, s.id))[:limit]

    def schedule_end(self, *, subscription_id: str, ends_on: date, reason: str) -> bool:
        current = self._s.subscriptions.get(subscription_id)
        if current is None or current.status is not SubscriptionStatus.ACTIVE:
            return False
        self._s.subscriptions[subscription_id] = replace(current, ends_on=ends_on,
                                                         end_reason=reason)
        return True

    def end(self, *, subscription_id: str, ends_on: date, reason: str) -> bool:
        if not self.schedule_end(subscription_id=subscription_id, ends_on=ends_on,
                                 reason=reason):
            return False
        self.set_status(subscription_id=subscription_id, status=SubscriptionStatus.CANCELED)
        return True

    def set_next_renewal(self, *, subscription_id: str, billed_through: date,
                         next_renewal_on: date, expected_next: date | None = None) -> bool:
        current = self._s.subscriptions.get(subscription_id)
        if current is None:
            if expected_next is None:
                raise UnknownSubscription(subscription_id)
            return False
        if expected_next is not None and current.next_renewal_on != expected_next:
            return False
        self._s.subscriptions[subscription_id] = replace(
            current, billed_through=billed_through, next_renewal_on=next_renewal_on)
        return True

    def set_status(self, *, subscription_id: str, status: SubscriptionStatus) -> None:
        if subscription_id not in self._s.subscriptions:
            raise UnknownSubscription(subscription_id)
        self._s.subscriptions[subscription_id] = replace(
            self._s.subscriptions[subscription_id], status=status)

    def claim_renewal(self, *, subscription_id: str, now: datetime, until: datetime) -> bool:
        held = self._s.leases.get(subscription_id)
        current = self._s.subscriptions.get(subscription_id)
        if (current is None or current.status is not SubscriptionStatus.ACTIVE
                or (held is not None and held > now)):
            return False
        self._s.leases[subscription_id] = until
        return True

    def claim_due(self, *, as_of: date, limit: int, now: datetime, until: datetime,
                  exclude: Collection[str] = (),
                  after: tuple[date, str] | None = None) -> list[Subscription]:
        free = [s for s in self.due(as_of=as_of, limit=len(self._s.subscriptions))
                if s.id not in exclude and not (self._s.leases.get(s.id, now) > now)
                and (after is None or (s.next_renewal_on, s.id) > after)][:limit]
        for subscription in free:
            self._s.leases[subscription.id] = until
        return free

    def set_next_renewals(self, *, plans: Sequence[RenewalPlan]) -> None:
        for plan in plans:
            self.set_next_renewal(subscription_id=plan.subscription.id,
                                  billed_through=plan.billed_through,
                                  next_renewal_on=plan.next_renewal_on,
                                  expected_next=plan.subscription.next_renewal_on)


class FakeSeatChangeRepository:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def add(self, *, subscription_id: str, change: SeatChange) -> None:
        self._s.seat_changes.setdefault(subscription_id, []).append(change)

    def list_for(self, *, subscription_id: str, start: date | None = None,
                 end: date | None = None) -> list[SeatChange]:
        changes = self._s.seat_changes.get(subscription_id, [])
        return sorted((c for c in changes if _between(c.on, start, end)), key=lambda c: c.on)

    def list_for_many(self, *, subscription_ids: Collection[str],
                      end: date) -> dict[str, list[SeatChange]]:
        found = {s: self.list_for(subscription_id=s, end=end) for s in subscription_ids}
        return {s: changes for s, changes in found.items() if changes}


class FakeInvoiceRepository:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def add_with_lines(self, *, invoice: Invoice) -> None:
        for other in self._s.invoices.values():
            same_period = (other.subscription_id, other.kind, other.period.start) == \
                (invoice.subscription_id, invoice.kind, invoice.period.start)
            same_reference = invoice.payment_reference is not None and \
                other.payment_reference == invoice.payment_reference
            if same_period or other.number == invoice.number or same_reference:
                raise DuplicateInvoice(f"{invoice.id} duplicates {other.id}")
        if invoice.id in self._s.invoices:
            raise DuplicateInvoice(invoice.id)
        self._s.invoices[invoice.id] = invoice

    def get(self, *, invoice_id: str, lines: bool = True) -> Invoice | None:
        invoice = self._s.invoices.get(invoice_id)
        if invoice is None or lines:
            return invoice
        # What the SQL repository returns: no lines, the stored charges.
        return replace(invoice, lines=(), stored_charges=invoice.charges)

    def get_for_update(self, *, invoice_id: str, lines: bool = True) -> Invoice | None:
        return self.get(invoice_id=invoice_id, lines=lines)

    def get_with_account(self, *, invoice_id: str) -> tuple[Invoice, Account] | None:
        invoice = self.get(invoice_id=invoice_id, lines=False)
        if invoice is None:
            return None
        return invoice, self._s.accounts[invoice.account_id]

    def lock_for_attempt(self, *, attempt_id: str) -> LockedAttempt | None:
        attempt = self._s.attempts.get(attempt_id)
        if attempt is None:
            return None
        invoice = self.get(invoice_id=attempt.invoice_id, lines=False)
        account = self._s.accounts.get(attempt.account_id)
        assert invoice is not None, "like the SQL foreign key"
        assert account is not None, "like the SQL foreign key"
        return LockedAttempt(invoice=invoice, attempt=attempt, account=account)

    def get_many_with_accounts(self, *, invoice_ids: Collection[str],
                               ) -> dict[str, tuple[Invoice, Account]]:
        found = {invoice_id: self.get_with_account(invoice_id=invoice_id)
                 for invoice_id in invoice_ids}
        return {invoice_id: pair for invoice_id, pair in found.items() if pair is not None}

    def lock_for_attempts(self, *, attempt_ids: Collection[str],
                          known: Mapping[str, LockedAttempt] | None = None,
                          ) -> list[LockedAttempt]:
        # No row versions here: every attempt is read again, `known` or not.
        found = [self.lock_for_attempt(attempt_id=attempt_id) for attempt_id in attempt_ids]
        locked = [one for one in found if one is not None]
        return sorted(locked, key=lambda one: (
            one.invoice.account_id, one.invoice.issued_on, one.invoice.period.start,
            one.invoice.number, one.invoice.id, one.attempt.id))

    def find_for_period(self, *, subscription_id: str, kind: InvoiceKind,
                        period_start: date) -> Invoice | None:
        return next((i for i in self._s.invoices.values()
                     if (i.subscription_id, i.kind, i.period.start) ==
                     (subscription_id, kind, period_start)), None)

    def by_reference(self, *, reference: str) -> Invoice | None:
        return next((i for i in self._s.invoices.values() if i.payment_reference == reference),
                    None)

    def issued_periods(self, *, keys: Collection[PeriodKey]) -> set[PeriodKey]:
        return {(i.subscription_id, i.kind, i.period.start)
                for i in self._s.invoices.values()} & set(keys)

    def open_for_accounts(self, *, account_ids: Collection[str],
                          for_update: bool = False) -> dict[str, list[Invoice]]:
        found = {a: self.list_open_for_account(account_id=a) for a in account_ids}
        return {a: invoices for a, invoices in found.items() if invoices}

    def add_many(self, *, invoices: Sequence[Invoice]) -> None:
        for invoice in invoices:
            self.add_with_lines(invoice=invoice)

    def update_settlements(self, *, invoices: Sequence[Invoice]) -> None:
        for invoice in invoices:
            self.update_settlement(invoice=invoice)

    def take_sequences(self, *, issuer: str, year: int, count: int) -> int:
        first = self.next_sequence(issuer=issuer, year=year)
        self._s.sequences[(issuer, year)] += count - 1
        return first

    def list_open_for_account(self, *, account_id: str, for_update: bool = False) -> list[Invoice]:
        return sorted((i for i in self._s.invoices.values()
                       if i.account_id == account_id and i.status is InvoiceStatus.OPEN),
                      key=lambda i: (i.issued_on, i.period.start, i.number))

    def open_without_attempts(self, *, limit: int, created_before: datetime | None = None,
                              asked_by: datetime | None = None) -> list[str]:
        # The fake keeps no creation time: every invoice counts as old enough.
        routed = {a.invoice_id for a in self._s.attempts.values()}
        asked = self._s.route_rechecks
        waiting = sorted((i for i in self._s.invoices.values()
                          if i.status is InvoiceStatus.OPEN and i.amount_due.is_positive()
                          and i.id not in routed
                          and (asked_by is None or i.id not in asked or asked[i.id] <= asked_by)),
                         key=lambda i: (i.issued_on, i.id))
        return [i.id for i in waiting[:limit]]

    def ask_route_again_at(self, *, invoice_ids: Collection[str], at: datetime) -> None:
        for invoice_id in invoice_ids:
            self._s.route_rechecks[invoice_id] = at

    def list(self, *, account_id: str | None = None, status: InvoiceStatus | None = None,
             limit: int | None = None) -> list[Invoice]:
        found = sorted((i for i in self._s.invoices.values()
                        if (account_id is None or i.account_id == account_id)
                        and (status is None or i.status is status)),
                       key=lambda i: (i.issued_on, i.number))
        return found if limit is None else found[:limit]

    def update_status(self, *, invoice_id: str, status: InvoiceStatus,
                      carried_to: str | None = None) -> None:
        self._replace(invoice_id, status=status, carried_to=carried_to)

    def update_settlement(self, *, invoice: Invoice) -> None:
        self._replace(invoice.id, amount_paid=invoice.amount_paid,
                      amount_carried=invoice.amount_carried, status=invoice.status,
                      carried_to=invoice.carried_to)

    def set_payment_reference(self, *, invoice_id: str, reference: str) -> None:
        self._replace(invoice_id, payment_reference=reference)

    def next_sequence(self, *, issuer: str, year: int) -> int:
        key = (issuer, year)
        self._s.sequences[key] = self._s.sequences.get(key, 0) + 1
        return self._s.sequences[key]

    def set_dunning_policy(self, *, invoice_id: str, policy: dict[str, Any] | None) -> None:
        self._replace(invoice_id)
        self._s.dunning_policies[invoice_id] = copy.deepcopy(policy)

    def dunning_policy(self, *, invoice_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self._s.dunning_policies.get(invoice_id))

    def _replace(self, invoice_id: str, **changes: Any) -> None:
        if invoice_id not in self._s.invoices:
            raise UnknownInvoice(invoice_id)
        self._s.invoices[invoice_id] = replace(self._s.invoices[invoice_id], **changes)


class FakeLedgerRepository:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def add(self, *, entry: LedgerEntry, dedupe_key: str | None = None) -> bool:
        if dedupe_key is not None and any(key == dedupe_key for _, key in self._s.ledger):
            return False
        self._s.ledger.append((entry, dedupe_key))
        return True

    def add_many(self, *, entries: Sequence[tuple[LedgerEntry, str]]) -> None:
        for entry, dedupe_key in entries:
            self.add(entry=entry, dedupe_key=dedupe_key)

    def append(self, *, entry: LedgerEntry, dedupe_key: str | None = None) -> None:
        self.add(entry=entry, dedupe_key=dedupe_key)

    def list_for_account(self, *, account_id: str) -> list[LedgerEntry]:
        return [e for e, _ in self._s.ledger if e.account_id == account_id]

    def balance(self, *, account_id: str, currency: str) -> Money:
        total = Money.zero(currency)
        for entry in self.list_for_account(account_id=account_id):
            if entry.amount.currency != currency:
                raise CurrencyMismatch(f"{account_id} has {entry.amount.currency} entries")
            total = total + entry.amount
        return total


class FakeAttemptRepository:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def add(self, *, attempt: PaymentAttempt) -> None:
        if attempt.id in self._s.attempts:
            raise DuplicateAttempt(attempt.id)
        self._check_one_active(attempt)
        self._s.attempts[attempt.id] = attempt

    def add_many(self, *, attempts: Sequence[PaymentAttempt]) -> set[str]:
        added = set()
        for attempt in attempts:
            try:
                self.add(attempt=attempt)
            except (DuplicateAttempt, AttemptAlreadyActive):
                continue
            added.add(attempt.id)
        return added

    def claim_many(self, *, amounts: Mapping[str, Money], now: datetime) -> set[str]:
        claimed = set()
        for attempt_id, amount in amounts.items():
            current = self._s.attempts.get(attempt_id)
            if current is not None and current.status is AttemptStatus.SCHEDULED:
                self._s.rechecks.pop(attempt_id, None)
                self._s.attempts[attempt_id] = replace(
                    current, status=AttemptStatus.PROCESSING, amount=amount, updated_at=now)
                claimed.add(attempt_id)
        return claimed

    def get(self, *, attempt_id: str) -> PaymentAttempt | None:
        return self._s.attempts.get(attempt_id)

    def get_many(self, *, attempt_ids: Collection[str]) -> dict[str, PaymentAttempt]:
        return {i: self._s.attempts[i] for i in attempt_ids if i in self._s.attempts}

    def get_for_update(self, *, attempt_id: str) -> PaymentAttempt | None:
        return self.get(attempt_id=attempt_id)

    def update(self, *, attempt: PaymentAttempt, expected_status: AttemptStatus,
               locked: bool = False) -> bool:
        current = self._s.attempts.get(attempt.id)
        if current is None or current.status is not expected_status:
            return False
        self._check_one_active(attempt)
        self._s.rechecks.pop(attempt.id, None)
        # Like the SQL adapter, the identity of the attempt never changes.
        self._s.attempts[attempt.id] = replace(attempt, invoice_id=current.invoice_id,
                                               account_id=current.account_id,
                                               created_at=current.created_at)
        return True

    def active_for_invoice(self, *, invoice_id: str) -> PaymentAttempt | None:
        return next(iter(self._where(lambda a: a.invoice_id == invoice_id
                                     and a.status in ACTIVE_STATUSES)), None)

    def active_for_invoices(self, *, invoice_ids: Collection[str]) -> dict[str, PaymentAttempt]:
        found = {i: self.active_for_invoice(invoice_id=i) for i in invoice_ids}
        return {i: attempt for i, attempt in found.items() if attempt is not None}

    def list_for_invoice(self, *, invoice_id: str) -> list[PaymentAttempt]:
        return sorted(self._where(lambda a: a.invoice_id == invoice_id),
                      key=lambda a: (a.number, a.created_at))

    def list_for_invoices(self, *, invoice_ids: Collection[str],
                          ) -> dict[str, list[PaymentAttempt]]:
        return {invoice_id: self.list_for_invoice(invoice_id=invoice_id)
                for invoice_id in invoice_ids}

    def in_flight_amounts(self, *, invoice_ids: Collection[str]) -> dict[str, Money]:
        amounts: dict[str, Money] = {}
        for a in self._where(lambda a: a.invoice_id in invoice_ids
                             and a.status in IN_FLIGHT_STATUSES):
            amounts[a.invoice_id] = amounts[a.invoice_id] + a.amount \
                if a.invoice_id in amounts else a.amount
        return amounts

    def cancel_scheduled(self, *, invoice_ids: Collection[str], now: datetime,
                         reason: str) -> list[str]:
        cancelled = sorted(a.id for a in self._where(
            lambda a: a.invoice_id in invoice_ids and a.status is AttemptStatus.SCHEDULED))
        for attempt_id in cancelled:
            self._s.attempts[attempt_id] = replace(
                self._s.attempts[attempt_id], status=AttemptStatus.CANCELED, reason=reason,
                updated_at=now)
        return cancelled

    def due_scheduled(self, *, now: datetime, limit: int, since: datetime | None = None,
                      asked_by: datetime | None = None) -> list[PaymentAttempt]:
        due = self._where(lambda a: a.status is AttemptStatus.SCHEDULED
                          and a.scheduled_for is not None and a.scheduled_for <= now
                          and (since is None or a.scheduled_for > since)
                          and not self._asked(a, asked_by))
        return sorted(due, key=lambda a: (a.scheduled_for, a.id))[:limit]

    def _asked(self, attempt: PaymentAttempt, now: datetime | None) -> bool:
        return (now is not None and attempt.id in self._s.rechecks
                and self._s.rechecks[attempt.id] > now)

    def stuck(self, *, statuses: Collection[AttemptStatus], older_than: datetime,
              limit: int, now: datetime | None = None) -> list[PaymentAttempt]:
        stuck = self._where(lambda a: a.status in statuses and a.updated_at < older_than
                            and not self._asked(a, now))
        return sorted(stuck, key=lambda a: (a.updated_at, a.id))[:limit]

    def ask_again_at(self, *, attempt_ids: Collection[str], at: datetime) -> None:
        for attempt_id in attempt_ids:
            self._s.rechecks[attempt_id] = at

    def answered(self, *, attempt_id: str, now: datetime) -> None:
        self._s.rechecks.pop(attempt_id, None)
        self._s.attempts[attempt_id] = replace(self._s.attempts[attempt_id], updated_at=now)

    def by_provider_ref(self, *, provider_ref: str) -> PaymentAttempt | None:
        found = sorted(self._where(lambda a: a.provider_ref == provider_ref),
                       key=lambda a: a.created_at)
        return found[0] if found else None

    def failed(self, *, account_id: str | None = None, since: datetime | None = None,
               failure_class: DeclineKind | None = None,
               limit: int = 100) -> list[PaymentAttempt]:
        found = self._where(lambda a: a.status in (AttemptStatus.FAILED,
                                                   AttemptStatus.REQUIRES_ACTION)
                            and (account_id is None or a.account_id == account_id)
                            and (since is None or a.updated_at >= since)
                            and (failure_class is None or a.failure_class is failure_class))
        found.sort(key=lambda a: a.id)
        found.sort(key=lambda a: a.updated_at, reverse=True)
        return found[:limit]

    def created_times(self, *, account_id: str, method: MethodType,
                      since: datetime) -> list[datetime]:
        return sorted(a.created_at for a in self._where(
            lambda a: a.account_id == account_id and a.method is method
            and a.created_at >= since))

    def _where(self, keep: Any) -> list[PaymentAttempt]:
        return [a for a in self._s.attempts.values() if keep(a)]

    def _check_one_active(self, attempt: PaymentAttempt) -> None:
        if attempt.status in ACTIVE_STATUSES and any(
                other.id != attempt.id and other.invoice_id == attempt.invoice_id
                and other.status in ACTIVE_STATUSES for other in self._s.attempts.values()):
            raise AttemptAlreadyActive(f"invoice {attempt.invoice_id} has an active attempt")


class FakeOutboxRepository:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def add(self, *, notification: Notification) -> bool:
        if any(n.dedupe_key == notification.dedupe_key for n in self._s.outbox.values()):
            return False
        self._s.outbox[notification.id] = notification
        return True

    def add_later(self, *, notification: Notification,
                  inserted: Callable[[bool], None]) -> None:
        inserted(self.add(notification=notification))

    def get(self, *, notification_id: str) -> Notification | None:
        return self._s.outbox.get(notification_id)

    def unsent(self, *, limit: int, max_attempts: int | None = None,
               min_attempts: int | None = None) -> list[Notification]:
        unsent = [n for n in self._s.outbox.values() if n.sent_at is None
                  and (max_attempts is None or n.attempts < max_attempts)
                  and (min_attempts is None or n.attempts >= min_attempts)]
        return sorted(unsent, key=lambda n: (n.created_at, n.id))[:limit]

    def claim_unsent(self, *, now: datetime, until: datetime, limit: int,
                     max_attempts: int) -> list[Notification]:
        claims = self._s.outbox_claims
        free = [n for n in self.unsent(limit=len(self._s.outbox) or 1, max_attempts=max_attempts)
                if n.id not in claims or claims[n.id] <= now][:limit]
        for notification in free:
            claims[notification.id] = until
        return free

    def list_all(self) -> list[Notification]:
        return sorted(self._s.outbox.values(), key=lambda n: (n.created_at, n.id))

    def mark_sent(self, *, notification_id: str, at: datetime) -> None:
        current = self._existing(notification_id)
        self._s.outbox[notification_id] = replace(current, sent_at=at,
                                                  attempts=current.attempts + 1)

    def mark_sent_many(self, *, notification_ids: Collection[str], at: datetime) -> None:
        for notification_id in notification_ids:
            self.mark_sent(notification_id=notification_id, at=at)

    def release(self, *, notification_ids: Collection[str]) -> None:
        for notification_id in notification_ids:
            current = self._existing(notification_id)
            if current.sent_at is None:
                self._s.outbox[notification_id] = replace(current, attempts=0)
                self._s.outbox_claims.pop(notification_id, None)

    def record_failure(self, *, notification_id: str) -> None:
        current = self._existing(notification_id)
        self._s.outbox[notification_id] = replace(current, attempts=current.attempts + 1)

    def _existing(self, notification_id: str) -> Notification:
        if notification_id not in self._s.outbox:
            raise NotFound(f"notification {notification_id}")
        return self._s.outbox[notification_id]


class FakeAuditRepository:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def add(self, *, entry: AuditEntry) -> None:
        self._s.audit.append(entry)

    def list(self, *, target: str | None = None, limit: int = 100) -> list[AuditEntry]:
        return [e for e in self._s.audit if target is None or e.target == target][:limit]


class FakeUnmatchedTransferRepository:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def add(self, *, transfer: UnmatchedTransfer) -> None:
        self._s.transfers[transfer.id] = transfer

    def get(self, *, transfer_id: str) -> UnmatchedTransfer | None:
        return self._s.transfers.get(transfer_id)

    def list(self, *, resolved: bool | None = False) -> list[UnmatchedTransfer]:
        return sorted((t for t in self._s.transfers.values()
                       if resolved is None or t.resolved is resolved),
                      key=lambda t: (t.received_on, t.id))

    def resolve(self, *, transfer_id: str, note: str = "") -> None:
        if transfer_id not in self._s.transfers:
            raise NotFound(f"unmatched transfer {transfer_id}")
        self._s.transfers[transfer_id] = replace(self._s.transfers[transfer_id], resolved=True,
                                                 note=note)


class FakeWebhookEventRepository:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def add(self, *, event: WebhookEvent) -> bool:
        key = (event.provider, event.event_id)
        if key in self._s.webhooks:
            return False
        self._s.webhooks[key] = event
        return True

    def get(self, *, provider: str, event_id: str) -> WebhookEvent | None:
        return self._s.webhooks.get((provider, event_id))

    def mark_processed(self, *, provider: str, event_id: str, at: datetime,
                       note: str | None = None) -> None:
        event = self._existing(provider, event_id)
        self._s.webhooks[(provider, event_id)] = replace(
            event, processed_at=at, next_attempt_at=None,
            note=event.note if note is None else note)

    def record_attempt(self, *, provider: str, event_id: str, note: str,
                       next_attempt_at: datetime) -> None:
        event = self._existing(provider, event_id)
        self._s.webhooks[(provider, event_id)] = replace(
            event, attempts=event.attempts + 1, note=note, next_attempt_at=next_attempt_at)

    def due(self, *, now: datetime, received_before: datetime,
            limit: int) -> list[WebhookEvent]:
        waiting = [e for e in self._s.webhooks.values() if e.processed_at is None and (
            (e.next_attempt_at is not None and e.next_attempt_at <= now)
            or (e.next_attempt_at is None and e.received_at < received_before))]
        return sorted(waiting, key=lambda e: (e.received_at, e.event_id))[:limit]

    def for_resource(self, *, provider: str, resource_id: str) -> list[WebhookEvent]:
        found = [e for e in self._s.webhooks.values()
                 if e.provider == provider and e.resource_id == resource_id]
        return sorted(found, key=lambda e: (e.occurred_at is not None, e.occurred_at,
                                            e.event_id))

    def list(self, *, status: str | None = None, provider: str | None = None,
             limit: int = 100) -> list[WebhookEvent]:
        if status not in (None, "processed", "pending", "parked"):
            raise ValueError(f"unknown webhook status {status!r}")
        found = [e for e in self._s.webhooks.values()
                 if (provider is None or e.provider == provider)
                 and (status is None or e.status == status)]
        return sorted(found, key=lambda e: (e.received_at, e.event_id), reverse=True)[:limit]

    def _existing(self, provider: str, event_id: str) -> WebhookEvent:
        if (provider, event_id) not in self._s.webhooks:
            raise NotFound(f"webhook event {provider}/{event_id}")
        return self._s.webhooks[(provider, event_id)]

    def unprocessed(self, *, received_before: datetime, limit: int) -> list[WebhookEvent]:
        waiting = [e for e in self._s.webhooks.values()
                   if e.processed_at is None and e.received_at < received_before]
        return sorted(waiting, key=lambda e: (e.received_at, e.event_id))[:limit]


class FakeBankTransactionRepository:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def add(self, *, transaction: BankTransaction) -> bool:
        if transaction.bank_ref in self._s.bank_transactions:
            return False
        self._s.bank_transactions[transaction.bank_ref] = transaction
        return True

    def get(self, *, bank_ref: str) -> BankTransaction | None:
        return self._s.bank_transactions.get(bank_ref)
