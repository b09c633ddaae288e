"""GoCardless webhook events in the domain's words. Pure: event JSON (and the other stored
events about the same payment or mandate) in, domain events out.

A payment event carries no amount: the attempt's amount is passed in. Order is settled with the
events' own `created_at`, so a burst delivered backwards ends where it would have in order:
- `failed` after a `confirmed`/`paid_out` (since the last resubmission), or on an attempt
  already settled, is a late failure: Reversal(LATE_FAILURE) named by the failed event's id
  (as `adapters.gocardless_mapping` names it, so reconciliation and webhooks agree);
- a `confirmed`/`paid_out` seen after a later `failed` was already applied brings that late
  failure with it;
- `chargeback_cancelled` cancels the latest `charged_back` before it (parked until it is seen);
- a mandate event applies only if no later status event of that mandate was stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.declines import GOCARDLESS_HARD, classify_gocardless
from domain.money import Money
from domain.outcomes import (
    Charged,
    Declined,
    DeclineKind,
    Outcome,
    Pending,
    Reversal,
    ReversalCancelled,
    ReversalKind,
)

Json = dict[str, Any]
PaymentEvent = Outcome | Reversal | ReversalCancelled

COLLECTED = frozenset({"confirmed", "paid_out"})
#: Mandate actions that change whether we may collect on it (True: usable).
MANDATE_USABLE: dict[str, bool] = {
    "active": True, "reinstated": True, "cancelled": False, "failed": False, "expired": False,
    "suspended_by_payer": False, "blocked": False, "consumed": False}
MANDATE_ACTIONS = frozenset({*MANDATE_USABLE, "replaced"})


@dataclass(frozen=True, slots=True)
class Wait:
    """Not applicable yet: park the event until what it refers to has been seen."""

    reason: str


def event_type(event: Json) -> str:
    return f"{event.get('resource_type')}.{event.get('action')}"


def resource_id(event: Json) -> str | None:
    links = event.get("links") or {}
    kind = str(event.get("resource_type", ""))
    value = links.get(kind[:-1]) if kind.endswith("s") else None  # payments → payment
    return value if isinstance(value, str) else None


def occurred_at(event: Json) -> datetime | None:
    raw = event.get("created_at")
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None


def _key(event: Json) -> tuple[str, str]:
    return str(event.get("created_at") or ""), str(event.get("id") or "")


def _details(event: Json) -> Json:
    details = event.get("details")
    return details if isinstance(details, dict) else {}


def _collected_before(event: Json, history: Sequence[Json]) -> bool:
    """A confirmed/paid_out earlier than `event`, with no resubmission in between."""
    collected = False
    for other in sorted(history, key=_key):
        if _key(other) >= _key(event):
            break
        if other.get("action") == "resubmission_requested":
            collected = False
        elif other.get("action") in COLLECTED:
            collected = True
    return collected


def _later_failure(event: Json, history: Sequence[Json]) -> Json | None:
    """The first `failed` after `event`, unless a resubmission comes before it."""
    for other in sorted(history, key=_key):
        if _key(other) <= _key(event):
            continue
        if other.get("action") == "resubmission_requested":
            return None
        if other.get("action") == "failed":
            return other
    return None


def _late_failure(failed: Json, amount: Money) -> Reversal:
    return Reversal(ReversalKind.LATE_FAILURE, amount, str(failed["id"]),
                    str(_details(failed).get("cause") or "late_failure"))


def payment_events(event: Json, *, amount: Money, settled: bool,
                   history: Sequence[Json]) -> list[PaymentEvent] | Wait:
    """What a payments/* event means for its attempt, in the order to apply them.

    `settled`: the attempt is already SUCCEEDED/REVERSED. `history`: every stored event of the
    same payment (this one included or not).
    """
    action, ref = event.get("action"), str((event.get("links") or {}).get("payment"))
    details = _details(event)
    cause = details.get("cause")
    if action == "submitted":
        return [Pending(ref, amount)]
    if action in COLLECTED:
        later = _later_failure(event, history)
        return [Charged(ref, amount), *([_late_failure(later, amount)] if later else [])]
    if action == "failed":
        if settled or _collected_before(event, history):
            return [_late_failure(event, amount)]
        return [Declined(classify_gocardless(cause), str(cause or "failed"),
                         str(details.get("description") or ""), ref,
                         provider_will_retry=bool(details.get("will_attempt_retry")))]
    if action == "late_failure_settled":
        failures = [e for e in history if e.get("action") == "failed" and _key(e) < _key(event)]
        if not failures:
            return Wait("late failure settled before its failed event was seen")
        return [_late_failure(max(failures, key=_key), amount)]
    if action == "charged_back":
        return [Reversal(ReversalKind.CHARGEBACK, amount, str(event["id"]),
                         str(cause or "charged_back"))]
    if action == "chargeback_cancelled":
        chargebacks = [e for e in history
                       if e.get("action") == "charged_back" and _key(e) < _key(event)]
        if not chargebacks:
            return Wait("chargeback cancelled before the chargeback was seen")
        return [ReversalCancelled(amount, str(max(chargebacks, key=_key)["id"]),
                                  "chargeback_cancelled")]
    if action in ("cancelled", "customer_approval_denied"):
        return [Declined(DeclineKind.HARD, cause if cause in GOCARDLESS_HARD else "cancelled",
                         str(details.get("description") or action), ref)]
    return []  # created, resubmission_requested…: a later event tells the outcome


def mandate_is_latest(event: Json, history: Sequence[Json]) -> bool:
    """No status-changing event of the same mandate is later than `event`."""
    return not any(other.get("action") in MANDATE_ACTIONS and _key(other) > _key(event)
                   for other in history)
