"""Stripe webhook events in the domain's words. Pure: the event's JSON in, a decision out.

PaymentIntent events reuse the gateway's own mapping (`outcome_of`), so a webhook and a
synchronous response about the same PaymentIntent can never disagree. After the money moved:
- `charge.refunded`: Reversal(REFUND) of the amount refunded *by this event* (the charge's
  `amount_refunded` minus its previous value), named by the newest refund's id;
- `charge.dispute.created`: Reversal(CHARGEBACK) named by the dispute id (funds withdrawn);
- `charge.dispute.closed`: won (or an inquiry closed) → ReversalCancelled of that dispute;
  lost → the Reversal again, which the attempt's refs make a no-op if already applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe

from adapters.stripe_gateway import from_stripe_amount, outcome_of
from domain.outcomes import Outcome, Reversal, ReversalCancelled, ReversalKind

Json = dict[str, Any]

PAYMENT_INTENT_EVENTS = frozenset({
    "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.processing",
    "payment_intent.requires_action", "payment_intent.canceled"})
REVERSAL_EVENTS = frozenset({"charge.refunded", "charge.dispute.created",
                             "charge.dispute.closed"})
METHOD_EVENTS = frozenset({"payment_method.attached", "payment_method.automatically_updated",
                           "setup_intent.succeeded"})
HANDLED = PAYMENT_INTENT_EVENTS | REVERSAL_EVENTS | METHOD_EVENTS


@dataclass(frozen=True, slots=True)
class PaymentChange:
    """Apply `event` to the attempt named by `attempt_id` (metadata), else by `intent_id`."""

    event: Outcome | Reversal | ReversalCancelled
    attempt_id: str | None
    intent_id: str | None
    #: The charge, for events that name no PaymentIntent (disputes under older API versions).
    charge_id: str | None = None


@dataclass(frozen=True, slots=True)
class MethodChange:
    """The customer's card on file changed: `payment_method` is now theirs."""

    customer: str
    payment_method: str


def _object(event: Json) -> Json:
    obj = (event.get("data") or {}).get("object")
    return obj if isinstance(obj, dict) else {}


def _str(value: object) -> str | None:
    if isinstance(value, dict):  # an expanded object
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def occurred_at(event: Json) -> datetime | None:
    created = event.get("created")
    return datetime.fromtimestamp(created, UTC) if isinstance(created, int) else None


def resource_id(event: Json) -> str | None:
    """The PaymentIntent an event is about (else the charge, or the customer)."""
    obj = _object(event)
    if str(event.get("type", "")).startswith("payment_intent."):
        return _str(obj.get("id"))
    if event.get("type") in METHOD_EVENTS:
        return _str(obj.get("customer"))
    return _str(obj.get("payment_intent")) or _str(obj.get("charge")) or _str(obj.get("id"))


def payment_change(event: Json) -> PaymentChange | None:
    """What a payment event means for its attempt; None when it changes nothing."""
    kind, obj = event.get("type"), _object(event)
    raw = obj.get("metadata")
    metadata: Json = raw if isinstance(raw, dict) else {}
    attempt_id = _str(metadata.get("attempt_id"))
    if kind in PAYMENT_INTENT_EVENTS:
        intent = stripe.PaymentIntent.construct_from(obj, None)
        return PaymentChange(outcome_of(intent), attempt_id, _str(obj.get("id")))
    if kind == "charge.refunded":
        return _refund(obj, event, attempt_id)
    if kind in ("charge.dispute.created", "charge.dispute.closed"):
        return _dispute(obj, str(kind), attempt_id)
    return None


def _refund(charge: Json, event: Json, attempt_id: str | None) -> PaymentChange | None:
    previous = (event.get("data") or {}).get("previous_attributes") or {}
    before = previous.get("amount_refunded", 0)
    delta = int(charge.get("amount_refunded") or 0) - int(before or 0)
    if delta <= 0:
        return None
    refunds = (charge.get("refunds") or {}).get("data") or []
    newest = _str(refunds[0].get("id")) if refunds and isinstance(refunds[0], dict) else None
    # Without the refunds list (newer API versions), the running total names this refund.
    ref = newest or f"{charge.get('id')}:refunded:{charge.get('amount_refunded')}"
    amount = from_stripe_amount(delta, str(charge["currency"]))
    return PaymentChange(Reversal(ReversalKind.REFUND, amount, ref, "refund"), attempt_id,
                         _str(charge.get("payment_intent")), _str(charge.get("id")))


def _dispute(dispute: Json, kind: str, attempt_id: str | None) -> PaymentChange | None:
    ref = _str(dispute.get("id"))
    if ref is None:
        return None
    amount = from_stripe_amount(int(dispute["amount"]), str(dispute["currency"]))
    intent, charge = _str(dispute.get("payment_intent")), _str(dispute.get("charge"))
    reason = str(dispute.get("reason") or "dispute")
    status = dispute.get("status")
    if kind == "charge.dispute.closed" and status in ("won", "warning_closed"):
        return PaymentChange(ReversalCancelled(amount, ref, f"dispute {status}"), attempt_id,
                             intent, charge)
    return PaymentChange(Reversal(ReversalKind.CHARGEBACK, amount, ref, reason), attempt_id,
                         intent, charge)


def method_change(event: Json) -> MethodChange | None:
    """The card now on file for a customer (attached, updated by the network, set up)."""
    obj = _object(event)
    customer = _str(obj.get("customer"))
    if event.get("type") == "setup_intent.succeeded":
        method = _str(obj.get("payment_method"))
    else:
        method = _str(obj.get("id"))
    if customer is None or method is None:
        return None
    return MethodChange(customer, method)
