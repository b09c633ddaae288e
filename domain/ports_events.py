"""Ports of the outgoing events: the outbox of events, the endpoints, and the HTTP sender."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.outgoing_events import EventDelivery, NewEvent, OutgoingEvent, WebhookEndpoint


class WebhookEndpointRepository(Protocol):
    def add(self, *, endpoint: WebhookEndpoint) -> None: ...
    def get(self, *, endpoint_id: str) -> WebhookEndpoint | None: ...
    def all(self) -> list[WebhookEndpoint]: ...
    def enabled(self) -> list[WebhookEndpoint]: ...

    def disable(self, *, endpoint_id: str) -> bool:
        """Disable it (its pending deliveries are not sent); False when unknown."""
        ...

    def pause(self, *, endpoint_id: str, until: datetime) -> None:
        """A try failed: send it nothing before `until`; one more failure in a row."""
        ...

    def resume(self, *, endpoint_ids: Collection[str]) -> None:
        """It answered (or an operator asks to try now): no pause, no failures in a row."""
        ...


class EventRepository(Protocol):
    def write(self, *, event: NewEvent) -> None:
        """Queue `event` in this transaction: numbered, fanned out to the endpoints enabled
        for its type and stored on `flush` (the unit of work flushes before it commits, and
        every other method here flushes first, so reads see it). One transaction's events
        are then stored in a fixed number of statements however many there are."""
        ...

    def flush(self) -> None:
        """Store the queued events: each account's next numbers (1, 2, 3… without gaps) taken
        in one statement, the counter rows locked in account order until the transaction
        ends (concurrent emitters for one account queue; a rollback gives the numbers back),
        and one pending delivery per endpoint, due now. A commit that stored a delivery to
        an awake endpoint asks for a drain (a paused one's wait: the scheduler asks when
        the pause ends)."""
        ...

    def get(self, *, event_id: str) -> OutgoingEvent | None: ...

    def listed(self, *, account_id: str | None = None, failed_only: bool = False,
               limit: int = 100) -> list[OutgoingEvent]:
        """Newest first; `failed_only`: events with a delivery given up."""
        ...

    def deliveries(self, *, event_id: str) -> list[EventDelivery]: ...

    def claim_due(self, *, now: datetime, until: datetime, limit: int) -> list[EventDelivery]:
        """Lease up to `limit` due pending deliveries (with url, secret and body), at most
        one per (endpoint, account): the earliest pending one, so each endpoint sees an
        account's events in sequence."""
        ...

    def has_due(self, *, now: datetime) -> bool:
        """Whether `claim_due` would claim something now."""
        ...

    def mark_delivered(self, *, delivery_ids: Collection[str], at: datetime) -> None: ...

    def record_failure(self, *, delivery_id: str, error: str,
                       next_attempt_at: datetime | None) -> None:
        """One more failed try; None: give up (status failed)."""
        ...

    def postpone(self, *, delivery_ids: Collection[str], until: datetime, error: str) -> None:
        """Not tried (their endpoint failed just before): due again at `until`, no try
        counted (what is past its retry window by then is given up by `give_up`)."""
        ...

    def give_up(self, *, endpoint_id: str, written_before: datetime) -> int:
        """Mark the endpoint's pending deliveries written before then as failed (their
        retry window is over while it was paused); returns how many."""
        ...

    def release(self, *, delivery_ids: Collection[str]) -> None:
        """Drop the lease without counting a try (not sent this time)."""
        ...

    def resend(self, *, event_id: str, now: datetime) -> int:
        """Make the event's deliveries pending again, due now, tries reset; returns how many
        (to enabled endpoints only)."""
        ...


@dataclass(frozen=True)
class SendResult:
    ok: bool
    #: The HTTP status, or None when no answer came (refused, timed out).
    status: int | None = None
    error: str = ""


class EventSender(Protocol):
    def send(self, *, url: str, body: bytes, headers: dict[str, str],
             timeout: float) -> SendResult:
        """POST `body`; ok on any 2xx. Never raises for network errors."""
        ...
