"""What happens to a charge after it succeeded: refunds, disputes, and settling `processing`."""

from __future__ import annotations

from typing import Any

from adapters.simulators.stripe import customers, objects, payments
from adapters.simulators.stripe.objects import Json
from adapters.simulators.stripe.state import RequestContext, Store


def _charge_for(store: Store, params: Json) -> Json:
    if params.get("charge"):
        return customers.get(store, "charges", params["charge"], kind="charge", param="charge")
    if params.get("payment_intent"):
        intent = customers.get(store, "payment_intents", params["payment_intent"],
                               kind="payment_intent", param="payment_intent")
        if intent["status"] == "succeeded" and intent["latest_charge"]:
            return store.table("charges")[intent["latest_charge"]]
        raise objects.invalid(f"This PaymentIntent ({intent['id']}) does not have a successful "
                              "charge to refund.", param="payment_intent")
    raise objects.invalid("One of the following params should be provided for this request: "
                          "payment_intent or charge.")


def refund(store: Store, ctx: RequestContext, params: Json) -> Json:
    with store.lock:
        charge = _charge_for(store, params)
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        if charge["status"] != "succeeded" or remaining <= 0:
            raise objects.invalid(f"Charge {charge['id']} has already been refunded.",
                                  code="charge_already_refunded")
        raw: Any = params.get("amount", remaining)
        amount = int(raw)
        if amount <= 0 or amount > remaining:
            raise objects.invalid(f"Refund amount ({amount}) is greater than unrefunded amount "
                                  f"on charge ({remaining})", param="amount",
                                  code="amount_too_large")
        made = objects.refund(id=store.new_id("re"), created=store.now(), charge=charge,
                              amount=amount, params=params)
        store.table("refunds")[made["id"]] = made
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
        charge["refunds"]["data"].insert(0, made)
        store.emit(ctx, "refund.created", made)
        store.emit(ctx, "charge.refunded", charge, previous=previous)
        return made


def open_dispute(store: Store, charge_id: str) -> Json | None:
    """Dispute a charge from a disputing card, once (timers and /_sim/advance may both fire)."""
    with store.lock:
        if charge_id not in store.pending_disputes:
            return None
        store.pending_disputes.remove(charge_id)
        charge = store.table("charges")[charge_id]
        made = objects.dispute(id=store.new_id("dp"), created=store.now(), charge=charge)
        store.table("disputes")[made["id"]] = made
        charge.update(disputed=True, dispute=made["id"])
        store.emit(RequestContext(), "charge.dispute.created", made)
        return made


def close_disputes(store: Store, *, status: str) -> list[Json]:
    """Close every open dispute as `won` or `lost` (charge.dispute.closed)."""
    closed = []
    with store.lock:
        for made in store.table("disputes").values():
            if made["status"] in ("won", "lost"):
                continue
            previous = {"status": made["status"]}
            made["status"] = status
            store.emit(RequestContext(), "charge.dispute.closed", made, previous=previous)
            closed.append(made)
    return closed


def settle_processing(store: Store) -> list[Json]:
    """Let every `processing` PaymentIntent succeed, as the bank would a few days later."""
    settled = []
    with store.lock:
        for intent in store.table("payment_intents").values():
            if intent["status"] == "processing":
                charge = store.table("charges")[intent["latest_charge"]]
                payments.succeed(store, RequestContext(), intent, charge)
                settled.append(intent)
    return settled
