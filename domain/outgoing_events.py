"""Events sent out to the business (outgoing webhooks): their types, records and envelope.

An event reports a change Paycollect made (an invoice issued, a payment failed, an account
suspended). It is written in the same transaction as that change, numbered per account
(`sequence`, gapless: receivers order by it), and fanned out at write time to every enabled
endpoint subscribed to its type: one delivery row per (event, endpoint). An endpoint added later
receives only events written after it.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class EventType(enum.StrEnum):
    INVOICE_ISSUED = "invoice.issued"
    INVOICE_PAID = "invoice.paid"
    INVOICE_CARRIED_FORWARD = "invoice.carried_forward"
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_METHOD_REQUIRED = "payment_method.required"
    ACCOUNT_STANDING_CHANGED = "account.standing_changed"
    SUBSCRIPTION_CANCELED = "subscription.canceled"


#: Every type an endpoint may subscribe to, by name.
EVENT_TYPES = frozenset(t.value for t in EventType)


class UnknownEventType(ValueError):
    """An event name that is not one of `EVENT_TYPES`."""


def parse_event_types(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The subscribed types, deduplicated in the order given; raises UnknownEventType."""
    cleaned = [name.strip() for name in names if name.strip()]
    if not cleaned:
        raise UnknownEventType("subscribe to at least one event type")
    unknown = [name for name in cleaned if name not in EVENT_TYPES]
    if unknown:
        raise UnknownEventType(f"unknown event type {unknown[0]!r}; one of: "
                               + ", ".join(sorted(EVENT_TYPES)))
    return tuple(dict.fromkeys(cleaned))


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def new_endpoint_id() -> str:
    return f"we_{uuid.uuid4().hex[:24]}"


@dataclass(frozen=True, slots=True)
class OutgoingEvent:
    id: str
    account_id: str
    sequence: int
    type: str
    created_at: datetime
    #: The `data.object` of the envelope: amounts in minor units with their currency.
    data: dict[str, Any]

    def envelope(self) -> dict[str, Any]:
        """The JSON body sent to endpoints, shaped like a Stripe event."""
        return {"id": self.id, "object": "event", "type": self.type,
                "created": int(self.created_at.timestamp()), "account": self.account_id,
                "sequence": self.sequence, "data": {"object": self.data}}


class EndpointStatus(enum.StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    id: str
    url: str
    events: tuple[str, ...]
    #: The HMAC key (`whsec_…`); shown to the business once, when the endpoint is created.
    secret: str
    created_at: datetime
    description: str = ""
    status: EndpointStatus = EndpointStatus.ENABLED
    #: After a failed try nothing is sent to it until then (a circuit breaker: a dead
    #: endpoint costs one request per pause, not a scan and a request per event).
    paused_until: datetime | None = None
    #: Failed tries in a row (the pause doubles with each; a delivered event resets it).
    failures: int = 0

    def wants(self, event_type: str) -> bool:
        return self.status is EndpointStatus.ENABLED and event_type in self.events

    def paused_at(self, when: datetime) -> bool:
        return self.paused_until is not None and when < self.paused_until


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event as a change reports it, before it is numbered (at commit: see `fan_out`)."""

    id: str
    account_id: str
    type: str
    created_at: datetime
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FannedOut:
    """What to store for a transaction's new events: each numbered, with the endpoints it
    goes to; `ring`: whether a drain is worth asking for (an endpoint is awake)."""

    events: list[tuple[OutgoingEvent, list[str]]]
    ring: bool


def fan_out(new: Sequence[NewEvent], *, first: Mapping[str, int],
            endpoints: Sequence[WebhookEndpoint]) -> FannedOut:
    """Number `new` in order from each account's `first` number, and give each the endpoints
    subscribed to its type. A paused endpoint still gets its deliveries (they wait for the
    pause to end, and the scheduler's pass asks for that drain), but rings no drain: a dead
    endpoint would be rung for after every payment."""
    following = dict(first)
    events: list[tuple[OutgoingEvent, list[str]]] = []
    ring = False
    for one in new:
        event = OutgoingEvent(id=one.id, account_id=one.account_id,
                              sequence=following[one.account_id], type=one.type,
                              created_at=one.created_at, data=one.data)
        following[one.account_id] += 1
        wanting = [e for e in endpoints if e.wants(one.type)]
        ring = ring or any(not e.paused_at(one.created_at) for e in wanting)
        events.append((event, [e.id for e in wanting]))
    return FannedOut(events=events, ring=ring)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    #: Given up after the retry window (3 days); `events resend` starts it over.
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class EventDelivery:
    """One event to one endpoint: its own tries and schedule, so one endpoint's failures
    back off that endpoint only."""

    id: str
    event_id: str
    endpoint_id: str
    account_id: str
    sequence: int
    status: DeliveryStatus
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: int = 0
    last_error: str = ""
    delivered_at: datetime | None = None
    #: Filled when read for sending: where and how to send it.
    url: str = ""
    secret: str = ""
    body: dict[str, Any] = field(default_factory=dict)
    #: Its endpoint's failed tries in a row, when read for sending.
    endpoint_failures: int = 0
