"""A GoCardless payment (and its events) in the domain's words. Pure: JSON in, outcome out.

- pending_customer_approval, pending_submission, submitted: Pending (expected_on = charge_date)
- confirmed, paid_out: Charged
- failed, not confirmed since its last (re)submission: Declined(classify_gocardless(cause),
  cause, provider_will_retry = the failed event's will_attempt_retry)
- failed after it was confirmed (a late failure): Reversal(LATE_FAILURE, provider_ref = the
  failed event's id)
- charged_back: Reversal(CHARGEBACK, provider_ref = the charged_back event's id)
- cancelled, customer_approval_denied: Declined(HARD, the cause if it is a hard one, else
  "cancelled")
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from domain.declines import GOCARDLESS_HARD, classify_gocardless
from domain.money import Money
from domain.outcomes import Charged, Declined, DeclineKind, Pending, Reversal, ReversalKind

Json = dict[str, Any]
PaymentOutcome = Pending | Charged | Declined | Reversal

PENDING = frozenset({"pending_customer_approval", "pending_submission", "submitted"})
COLLECTED = frozenset({"confirmed", "paid_out"})
#: Statuses whose outcome depends on the payment's events.
NEEDS_EVENTS = frozenset({"failed", "charged_back", "cancelled", "customer_approval_denied"})


def _latest(events: list[Json], action: str) -> Json:
    found = [event for event in events if event.get("action") == action]
    return found[-1] if found else {"id": "", "details": {}}


def _failed_after_confirmation(events: list[Json]) -> bool:
    """Did the latest `failed` come after a `confirmed` (since the last resubmission)?"""
    confirmed = late = False
    for event in events:
        action = event.get("action")
        if action == "resubmission_requested":
            confirmed = False
        elif action == "confirmed":
            confirmed = True
        elif action == "failed":
            late = confirmed
    return late


def payment_outcome(payment: Json, events: Iterable[Json] = ()) -> PaymentOutcome:
    """Map a payment's JSON (and, for failures and reversals, its events) to an outcome."""
    ref = str(payment["id"])
    money = Money(int(payment["amount"]), str(payment["currency"]))
    status = payment["status"]
    if status in PENDING:
        charge_date = payment.get("charge_date")
        return Pending(ref, money, date.fromisoformat(charge_date) if charge_date else None)
    if status in COLLECTED:
        return Charged(ref, money)
    ordered = sorted(events, key=lambda e: (str(e.get("created_at")), str(e.get("id"))))
    if status == "failed":
        failed = _latest(ordered, "failed")
        details = failed["details"] or {}
        cause = details.get("cause")
        if _failed_after_confirmation(ordered):
            return Reversal(ReversalKind.LATE_FAILURE, money, failed["id"] or ref, cause or "")
        return Declined(classify_gocardless(cause), cause or "failed",
                        details.get("description") or "", ref,
                        provider_will_retry=bool(details.get("will_attempt_retry")))
    if status == "charged_back":
        event = _latest(ordered, "charged_back")
        return Reversal(ReversalKind.CHARGEBACK, money, event["id"] or ref,
                        (event["details"] or {}).get("cause") or "")
    event = _latest(ordered, "cancelled")
    cause = (event["details"] or {}).get("cause")
    return Declined(DeclineKind.HARD, cause if cause in GOCARDLESS_HARD else "cancelled",
                    (event["details"] or {}).get("description") or status, ref)
