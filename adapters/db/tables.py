"""The schema, as SQLModel tables. Migrations in `migrations/` must produce exactly this.

Money is `<name>_minor BIGINT` + `currency CHAR(3)`; dates are DATE; instants are UTC
(`UTCDateTime`). Enums are stored as their string values (no database enum types, so adding
a status needs no migration). Day columns avoid the SQL keyword `on`: `effective_on`,
`booked_on`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CHAR,
    JSON,
    BigInteger,
    CheckConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from adapters.db.types import BIGINT_PK, UTCDateTime
from domain.payments import ACTIVE_STATUSES

#: Deterministic constraint names, so migrations and error handling can refer to them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: The partial unique index: at most one active attempt per invoice.
ONE_ACTIVE_ATTEMPT = "uq_payment_attempts_one_active_per_invoice"
#: At most one invoice of a kind per subscription and period start.
ONE_INVOICE_PER_PERIOD = "uq_invoices_subscription_kind_period"

#: Open invoices only (partial index).
OPEN_INVOICES = "ix_invoices_open_issued_on_id"
_OPEN_WHERE = text("status = 'open'")

_ACTIVE = ", ".join(f"'{status.value}'" for status in sorted(ACTIVE_STATUSES))
_ACTIVE_WHERE = text(f"status IN ({_ACTIVE})")


def _money(*, nullable: bool = False) -> Any:
    return Field(default=None if nullable else 0, sa_type=BigInteger, nullable=nullable)


def _currency() -> Any:
    return Field(sa_type=CHAR(3))


def _label(length: int = 32) -> Any:
    return Field(sa_type=String(length))


def _instant(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable)


#: The business's own ids (migration 0008): unique when given.
ACCOUNT_EXTERNAL_ID = "ix_accounts_external_id"
SUBSCRIPTION_EXTERNAL_ID = "ix_subscriptions_external_id"


class AccountRow(SQLModel, table=True):
    __tablename__ = "accounts"
    __table_args__ = (Index(ACCOUNT_EXTERNAL_ID, "external_id", unique=True),)

    id: str = Field(primary_key=True, sa_type=Text)
    name: str = Field(sa_type=Text)
    language: str = _label(16)
    currency: str = _currency()
    email: str | None = Field(default=None, sa_type=Text)
    standing: str = _label(16)
    method_type: str = _label(16)
    method_customer: str | None = Field(default=None, sa_type=Text)
    method_ref: str | None = Field(default=None, sa_type=Text)
    method_scheme: str | None = Field(default=None, sa_type=String(32))
    method_usable: bool = True
    method_details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    #: What may be shown of the method (card brand/last 4/expiry, masked account); migration
    #: 0010. Never a full card number or IBAN.
    method_display: dict[str, Any] | None = Field(default=None, sa_type=JSON, nullable=True)
    created_at: datetime = _instant()
    updated_at: datetime = _instant()
    #: Migration 0008: the business's own id, and the postal address printed on invoices.
    external_id: str | None = Field(default=None, sa_type=Text)
    billing_address: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class SubscriptionRow(SQLModel, table=True):
    __tablename__ = "subscriptions"
    #: The scheduler's due query and the renewal batches' claim read this index, in order.
    __table_args__ = (Index(SUBSCRIPTION_EXTERNAL_ID, "external_id", unique=True),
                      Index(None, "next_renewal_on", "id"))

    id: str = Field(primary_key=True, sa_type=Text)
    account_id: str = Field(foreign_key="accounts.id", index=True, sa_type=Text)
    interval: str = _label(16)
    currency: str = _currency()
    user_price_minor: int = _money()
    number_price_minor: int = _money()
    minimum_users: int = 0
    minimum_numbers: int = 0
    outbound_per_minute_minor: int | None = _money(nullable=True)
    toll_free_per_minute_minor: int | None = _money(nullable=True)
    #: The anchor: renewals fall on this day of the month (or of the year).
    started_on: date
    initial_users: int = 0
    initial_numbers: int = 0
    status: str = _label(16)
    next_renewal_on: date
    billed_through: date | None = None
    #: A renewal worker's lease: others skip the subscription until it expires.
    renewal_claimed_until: datetime | None = _instant(nullable=True)
    created_at: datetime = _instant()
    updated_at: datetime = _instant()
    #: Migration 0008: the business's own id.
    external_id: str | None = Field(default=None, sa_type=Text)
    #: The first day without service (migration 0015); the endings pass reads this index.
    ends_on: date | None = Field(default=None, index=True)
    end_reason: str | None = Field(default=None, sa_type=Text)


class SeatChangeRow(SQLModel, table=True):
    __tablename__ = "seat_changes"
    __table_args__ = (Index(None, "subscription_id", "effective_on"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BIGINT_PK)
    subscription_id: str = Field(foreign_key="subscriptions.id", sa_type=Text)
    kind: str = _label(16)
    delta: int
    effective_on: date


class RateCardRow(SQLModel, table=True):
    """A subscription's own rate card (none: the plan's per-minute rates apply)."""

    __tablename__ = "rate_cards"

    subscription_id: str = Field(primary_key=True, foreign_key="subscriptions.id", sa_type=Text)
    currency: str = _currency()
    rounding: str = _label(24)
    default_outbound_minor: int | None = _money(nullable=True)
    toll_free_minor: int | None = _money(nullable=True)
    updated_at: datetime = _instant()


class RateCardDestinationRow(SQLModel, table=True):
    __tablename__ = "rate_card_destinations"

    subscription_id: str = Field(primary_key=True, foreign_key="rate_cards.subscription_id",
                                 sa_type=Text)
    prefix: str = Field(primary_key=True, sa_type=String(16))
    label: str = Field(sa_type=Text)
    per_minute_minor: int = _money()


#: Calls not billed yet, per subscription and start (what a renewal sums).
UNBILLED_CALLS = "ix_call_records_unbilled"


class CallRecordRow(SQLModel, table=True):
    """One call as the platform reported it, stored once by its id, forever.

    `rate_prefix` is the card prefix that rates it ("" for the default rate and toll-free),
    set on arrival and re-set when the card is replaced while the call is unbilled.
    `invoice_id` is the invoice that billed it: NULL until then, so a late call is billed by
    the next invoice, exactly once.
    """

    __tablename__ = "call_records"
    __table_args__ = (
        Index(UNBILLED_CALLS, "subscription_id", "started_at",
              sqlite_where=text("invoice_id IS NULL"),
              postgresql_where=text("invoice_id IS NULL")),
        CheckConstraint("duration_seconds >= 0", name="duration_not_negative"),
    )

    id: str = Field(primary_key=True, sa_type=Text)
    subscription_id: str = Field(foreign_key="subscriptions.id", sa_type=Text)
    number: str = Field(sa_type=Text)
    direction: str = _label(24)
    destination: str = Field(sa_type=Text)
    started_at: datetime = _instant()
    duration_seconds: int
    rate_prefix: str = Field(default="", sa_type=String(16))
    invoice_id: str | None = Field(default=None, foreign_key="invoices.id", sa_type=Text)
    received_at: datetime = _instant()


class InvoiceRow(SQLModel, table=True):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("subscription_id", "kind", "period_start", name=ONE_INVOICE_PER_PERIOD),
        Index(None, "account_id", "status"),
        #: The sweeper's "open and never routed", oldest first, without reading closed ones.
        Index(OPEN_INVOICES, "issued_on", "id", sqlite_where=_OPEN_WHERE,
              postgresql_where=_OPEN_WHERE),
    )

    id: str = Field(primary_key=True, sa_type=Text)
    number: str = Field(unique=True, sa_type=Text)
    account_id: str = Field(foreign_key="accounts.id", sa_type=Text)
    subscription_id: str = Field(foreign_key="subscriptions.id", sa_type=Text)
    kind: str = _label(16)
    period_start: date
    period_end: date
    issued_on: date
    due_on: date
    currency: str = _currency()
    payment_method: str = _label(16)
    previous_amount_due_minor: int | None = _money(nullable=True)
    #: Derived (the lines' sum, and that plus the previous amount due), kept for reports.
    charges_minor: int = _money()
    total_minor: int = _money()
    amount_paid_minor: int | None = _money(nullable=True)
    amount_carried_minor: int | None = _money(nullable=True)
    status: str = _label(24)
    #: Wire: the creditor reference printed on the invoice, matched against bank statements.
    payment_reference: str | None = Field(default=None, unique=True, sa_type=Text)
    carried_to: str | None = Field(default=None, sa_type=Text)
    meta: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    #: The dunning policy in force when the invoice fell overdue (copied, like retry days).
    dunning_policy: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = _instant()
    updated_at: datetime = _instant()
    #: When the sweeper may route it again if it still has no attempt (migration 0006).
    #: Bookkeeping of the sweeper, not of the invoice: never part of the domain entity.
    route_recheck_at: datetime | None = _instant(nullable=True)


class InvoiceLineRow(SQLModel, table=True):
    __tablename__ = "invoice_lines"
    __table_args__ = (UniqueConstraint("invoice_id", "position"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BIGINT_PK)
    invoice_id: str = Field(foreign_key="invoices.id", sa_type=Text)
    position: int
    section: str = _label(16)
    item: str = _label(32)
    description: str = Field(sa_type=Text)
    quantity: int = Field(sa_type=BigInteger)
    #: In the invoice's currency.
    unit_amount_minor: int = _money()
    amount_minor: int = _money()
    from_on: date | None = None
    to_on: date | None = None


class InvoiceSequenceRow(SQLModel, table=True):
    """Gapless invoice numbering: one counter row per issuer and year."""

    __tablename__ = "invoice_sequences"

    issuer: str = Field(primary_key=True, sa_type=String(32))
    year: int = Field(primary_key=True)
    last_value: int = 0


class LedgerEntryRow(SQLModel, table=True):
    """Append only: the repository offers no update and no delete."""

    __tablename__ = "ledger_entries"
    __table_args__ = (Index(None, "account_id", "id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BIGINT_PK)
    account_id: str = Field(foreign_key="accounts.id", sa_type=Text)
    kind: str = _label(24)
    #: Signed: debits positive, credits negative.
    amount_minor: int = _money()
    currency: str = _currency()
    booked_on: date
    invoice_id: str | None = Field(default=None, foreign_key="invoices.id", sa_type=Text)
    attempt_id: str | None = Field(default=None, foreign_key="payment_attempts.id",
                                   sa_type=Text)
    memo: str = Field(default="", sa_type=Text)
    #: e.g. "settle:<attempt id>": applying the same settlement twice cannot double-credit.
    dedupe_key: str | None = Field(default=None, unique=True, sa_type=Text)
    created_at: datetime = _instant()


class PaymentAttemptRow(SQLModel, table=True):
    __tablename__ = "payment_attempts"
    __table_args__ = (
        Index(ONE_ACTIVE_ATTEMPT, "invoice_id", unique=True,
              sqlite_where=_ACTIVE_WHERE, postgresql_where=_ACTIVE_WHERE),
        #: An invoice's attempts, whatever their status (routing numbers the next one).
        Index(None, "invoice_id"),
        Index(None, "status", "scheduled_for"),
        Index(None, "account_id", "created_at"),
    )

    #: Also the provider idempotency key.
    id: str = Field(primary_key=True, sa_type=Text)
    invoice_id: str = Field(foreign_key="invoices.id", sa_type=Text)
    account_id: str = Field(foreign_key="accounts.id", sa_type=Text)
    method: str = _label(16)
    number: int
    amount_minor: int = _money()
    currency: str = _currency()
    status: str = _label(24)
    scheduled_for: datetime | None = _instant(nullable=True)
    provider_ref: str | None = Field(default=None, index=True, sa_type=Text)
    failure_code: str | None = Field(default=None, sa_type=Text)
    failure_class: str | None = Field(default=None, sa_type=String(24))
    failure_message: str | None = Field(default=None, sa_type=Text)
    #: Comma-separated days after the first failure, e.g. "1,3,5,7" ("" for none).
    retry_schedule_days: str = Field(default="", sa_type=Text)
    reason: str = Field(default="", sa_type=Text)
    first_failed_at: datetime | None = _instant(nullable=True)
    amount_reversed_minor: int | None = _money(nullable=True)
    reversal_refs: list[str] = Field(default_factory=list, sa_type=JSON)
    cancelled_reversal_refs: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = _instant()
    updated_at: datetime = _instant()
    #: Optimistic locking: bumped on every update.
    version: int = 1
    #: When the sweeper may ask about this attempt again (migration 0003); None: once it has
    #: been unchanged past the threshold. Bookkeeping of the sweeper, not of the payment.
    recheck_at: datetime | None = _instant(nullable=True)


class UnmatchedTransferRow(SQLModel, table=True):
    __tablename__ = "unmatched_transfers"

    id: str = Field(primary_key=True, sa_type=Text)
    reference: str = Field(index=True, sa_type=Text)
    amount_minor: int = _money()
    currency: str = _currency()
    received_on: date
    note: str = Field(default="", sa_type=Text)
    resolved: bool = False


class NotificationRow(SQLModel, table=True):
    """The outbox: written in the business transaction, delivered after commit."""

    __tablename__ = "notifications"
    __table_args__ = (Index(None, "sent_at", "created_at"),)

    id: str = Field(primary_key=True, sa_type=Text)
    account_id: str = Field(foreign_key="accounts.id", sa_type=Text)
    kind: str = _label(48)
    dedupe_key: str = Field(unique=True, sa_type=Text)
    to_address: str = Field(sa_type=Text)
    subject: str = Field(sa_type=Text)
    body_text: str = Field(sa_type=Text)
    body_html: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _instant()
    sent_at: datetime | None = _instant(nullable=True)
    attempts: int = 0
    #: The drain sending it holds it until then (migration 0007); bookkeeping of the drain.
    claimed_until: datetime | None = _instant(nullable=True)


class AuditRow(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True, sa_type=BIGINT_PK)
    at: datetime = _instant()
    actor: str = Field(sa_type=Text)
    action: str = Field(sa_type=Text)
    target: str = Field(index=True, sa_type=Text)
    reason: str = Field(default="", sa_type=Text)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class BankTransactionRow(SQLModel, table=True):
    """Each bank transaction recorded by `wires receive --bank-ref`, once (migration 0004)."""

    __tablename__ = "bank_transactions"

    bank_ref: str = Field(primary_key=True, sa_type=Text)
    reference: str = Field(sa_type=Text)
    amount_minor: int = _money()
    currency: str = _currency()
    received_on: date
    invoice_id: str | None = Field(default=None, foreign_key="invoices.id", sa_type=Text)
    recorded_at: datetime = _instant()


class PaymentMethodSetupRow(SQLModel, table=True):
    """A card or mandate setup started at a provider (migration 0010)."""

    __tablename__ = "payment_method_setups"
    __table_args__ = (UniqueConstraint("provider", "provider_ref"),)

    id: str = Field(primary_key=True, sa_type=Text)
    account_id: str = Field(foreign_key="accounts.id", index=True, sa_type=Text)
    method: str = _label(16)
    provider: str = _label(32)
    #: The Checkout Session (Stripe) or Billing Request (GoCardless) id.
    provider_ref: str = Field(sa_type=Text)
    provider_customer: str = Field(index=True, sa_type=Text)
    scheme: str | None = Field(default=None, sa_type=String(32))
    status: str = _label(16)
    url: str = Field(sa_type=Text)
    return_url: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _instant()
    expires_at: datetime | None = _instant(nullable=True)
    completed_at: datetime | None = _instant(nullable=True)


class WebhookEventRow(SQLModel, table=True):
    """Provider events, stored once by (provider, event id)."""

    __tablename__ = "webhook_events"

    provider: str = Field(primary_key=True, sa_type=String(32))
    event_id: str = Field(primary_key=True, sa_type=Text)
    type: str = Field(sa_type=Text)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    received_at: datetime = _instant()
    processed_at: datetime | None = Field(default=None, index=True, sa_type=UTCDateTime)
    #: The provider object the event is about; its events are ordered by `occurred_at`.
    resource_id: str | None = Field(default=None, index=True, sa_type=Text)
    occurred_at: datetime | None = _instant(nullable=True)
    #: Parked / failed tries, and when the sweeper tries again (migration 0002).
    attempts: int = 0
    next_attempt_at: datetime | None = _instant(nullable=True)
    note: str = Field(default="", sa_type=Text)


class IdempotencyKeyRow(SQLModel, table=True):
    """An `Idempotency-Key` of the /v1 API and what it answered (migration 0008).

    Keyed by the API key's fingerprint (sha256, never the key) and the client's key, so two
    clients cannot see each other's responses. `state`: in_progress (claimed, nothing
    committed), committed (the request's write committed, in the same transaction), done
    (the response is stored and replayed).
    """

    __tablename__ = "idempotency_keys"

    owner: str = Field(primary_key=True, sa_type=String(64))
    key: str = Field(primary_key=True, sa_type=String(255))
    #: sha256 of method, path and body.
    request_fingerprint: str = Field(sa_type=String(64))
    state: str = _label(16)
    #: Whose claim this is: a fence, so a request that lost its claim cannot commit.
    claim_token: str = _label(32)
    response_status: int | None = None
    response_content_type: str | None = Field(default=None, sa_type=Text)
    response_body: str | None = Field(default=None, sa_type=Text)
    claimed_at: datetime = _instant()
    expires_at: datetime = Field(default=None, sa_type=UTCDateTime, index=True)
class WebhookEndpointRow(SQLModel, table=True):
    """Where the business receives its events (migration 0013)."""

    __tablename__ = "webhook_endpoints"

    id: str = Field(primary_key=True, sa_type=Text)
    url: str = Field(sa_type=Text)
    #: The event types it is subscribed to.
    events: list[str] = Field(default_factory=list, sa_type=JSON)
    description: str = Field(default="", sa_type=Text)
    #: The HMAC key; shown once when created, never listed.
    secret: str = Field(sa_type=Text)
    status: str = _label(16)
    created_at: datetime = _instant()
    #: Nothing is sent to it before then: it failed (migration 0016).
    paused_until: datetime | None = _instant(nullable=True)
    #: Failed tries in a row (the pause doubles with each).
    failures: int = 0


class EventSequenceRow(SQLModel, table=True):
    """Each account's last event number (gapless: an UPSERT … RETURNING in the emitting
    transaction, whose row lock queues concurrent emitters of one account)."""

    __tablename__ = "event_sequences"

    account_id: str = Field(primary_key=True, foreign_key="accounts.id", sa_type=Text)
    last_value: int = 0


class OutgoingEventRow(SQLModel, table=True):
    """The events outbox: written in the transaction of the change it reports."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("account_id", "sequence"),
                      Index(None, "created_at", "id"))

    id: str = Field(primary_key=True, sa_type=Text)
    account_id: str = Field(foreign_key="accounts.id", sa_type=Text)
    sequence: int
    type: str = _label(48)
    #: The envelope's `data.object`.
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = _instant()


class EventDeliveryRow(SQLModel, table=True):
    """One event to one endpoint, with its own tries and schedule (fan-out at write time)."""

    __tablename__ = "event_deliveries"
    #: An endpoint's due deliveries (the claim reads only endpoints not paused; 0016).
    __table_args__ = (Index(None, "endpoint_id", "status", "next_attempt_at"),
                      #: An endpoint's pending events of one account, in order (the claim
                      #: takes the earliest only).
                      Index(None, "endpoint_id", "account_id", "status", "sequence"),
                      Index(None, "event_id"))

    id: str = Field(primary_key=True, sa_type=Text)
    event_id: str = Field(foreign_key="events.id", sa_type=Text)
    endpoint_id: str = Field(foreign_key="webhook_endpoints.id", sa_type=Text)
    account_id: str = Field(sa_type=Text)
    sequence: int
    status: str = _label(16)
    attempts: int = 0
    next_attempt_at: datetime | None = _instant(nullable=True)
    #: The drain sending it holds it until then.
    claimed_until: datetime | None = _instant(nullable=True)
    last_error: str = Field(default="", sa_type=Text)
    delivered_at: datetime | None = _instant(nullable=True)
    created_at: datetime = _instant()


#: Every table, parents before children (the order to create, the reverse to clear).
METADATA = SQLModel.metadata
