"""PaymentIntents: create, confirm (the test card decides what happens), list."""

from __future__ import annotations

from typing import Any

from adapters.simulators.stripe import customers, objects
from adapters.simulators.stripe.cards import Result
from adapters.simulators.stripe.forms import as_bool
from adapters.simulators.stripe.objects import ApiError, Json
from adapters.simulators.stripe.state import RequestContext, Store

#: Stripe's minimum charge amounts in the currency's smallest unit (docs.stripe.com/currencies).
MINIMUM_AMOUNTS = {"usd": 50, "eur": 50, "gbp": 30, "chf": 50, "cad": 50, "aud": 50, "nzd": 50,
                   "jpy": 50, "sek": 300, "nok": 300, "dkk": 250, "pln": 200, "czk": 1500,
                   "huf": 17500, "mxn": 1000, "brl": 50, "sgd": 50, "hkd": 400}


def _amount(params: Json, currency: str) -> int:
    raw: Any = params.get("amount")
    if raw is None:
        raise objects.invalid("Missing required param: amount.", param="amount")
    try:
        amount = int(raw)
    except ValueError:
        raise objects.invalid("Invalid integer: " + str(raw), param="amount") from None
    if amount < MINIMUM_AMOUNTS.get(currency, 1):
        raise objects.invalid("Amount must be at least the minimum charge amount.",
                              param="amount", code="amount_too_small")
    return amount


def create(store: Store, ctx: RequestContext, params: Json) -> Json:
    currency = str(params.get("currency") or "").lower()
    if len(currency) != 3 or not currency.isalpha():
        raise objects.invalid("Missing required param: currency.", param="currency")
    amount = _amount(params, currency)
    confirm, off_session = as_bool(params.get("confirm")), as_bool(params.get("off_session"))
    if off_session and not confirm:
        raise objects.invalid("off_session can only be used with confirm=true.",
                              param="off_session")
    metadata = params.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise objects.invalid("Invalid metadata: must be an object.", param="metadata")
    with store.lock:
        customer_id = params.get("customer")
        if customer_id:
            customers.get(store, "customers", customer_id, kind="customer", param="customer")
        method_id = params.get("payment_method")
        if method_id:
            method_id = customers.resolve_payment_method(store, method_id)["id"]
        intent = objects.payment_intent(id=store.new_id("pi"), created=store.now(),
                                        amount=amount, currency=currency, customer=customer_id,
                                        payment_method=method_id, metadata=dict(metadata))
        store.table("payment_intents")[intent["id"]] = intent
        store.emit(ctx, "payment_intent.created", intent)
        if confirm:
            if method_id is None:
                raise objects.invalid("You must provide a payment_method to confirm.",
                                      param="payment_method")
            _confirm(store, ctx, intent, off_session=off_session)
        return intent


def confirm(store: Store, ctx: RequestContext, id: str, params: Json) -> Json:
    with store.lock:
        intent = customers.get(store, "payment_intents", id, kind="payment_intent",
                               param="intent")
        if intent["status"] not in ("requires_payment_method", "requires_confirmation",
                                    "requires_action"):
            raise objects.invalid(
                "You cannot confirm this PaymentIntent because it has a status of "
                f"{intent['status']}.", code="payment_intent_unexpected_state")
        if params.get("payment_method"):
            intent["payment_method"] = customers.resolve_payment_method(
                store, params["payment_method"])["id"]
        if not intent["payment_method"]:
            raise objects.invalid("You must provide a payment_method to confirm.",
                                  param="payment_method")
        intent["next_action"] = None
        _confirm(store, ctx, intent, off_session=as_bool(params.get("off_session")))
        return intent


def _confirm(store: Store, ctx: RequestContext, intent: Json, *, off_session: bool) -> None:
    card = customers.card_of(store, intent["payment_method"])
    intent["last_payment_error"] = None
    if card.result is Result.AUTHENTICATE and not off_session:
        intent["status"] = "requires_action"
        intent["next_action"] = {"type": "use_stripe_sdk", "use_stripe_sdk": {
            "type": "three_d_secure_redirect", "stripe_js": "https://hooks.stripe.com/3ds"}}
        store.emit(ctx, "payment_intent.requires_action", intent)
        return
    if card.result is Result.AUTHENTICATE:
        # Off-session Stripe cannot ask the customer: the attempt fails without a charge.
        _fail(store, ctx, intent, charge_id=None)
    succeeded = card.result in (Result.SUCCEED, Result.PROCESS)
    charge = objects.charge(id=store.new_id("ch"), created=store.now(), intent=intent, card=card,
                            succeeded=succeeded)
    store.table("charges")[charge["id"]] = charge
    intent["latest_charge"] = charge["id"]
    if card.result is Result.PROCESS:
        charge["status"], charge["paid"] = "pending", False
        intent["status"] = "processing"
        store.emit(ctx, "payment_intent.processing", intent)
    elif succeeded:
        succeed(store, ctx, intent, charge)
        if card.disputes:
            store.pending_disputes.append(charge["id"])
            store.on_dispute_pending(charge["id"])
    else:
        store.emit(ctx, "charge.failed", charge)
        _fail(store, ctx, intent, charge_id=charge["id"])


def succeed(store: Store, ctx: RequestContext, intent: Json, charge: Json) -> None:
    charge.update(status="succeeded", paid=True)
    intent.update(status="succeeded", amount_received=intent["amount"])
    store.emit(ctx, "charge.succeeded", charge)
    store.emit(ctx, "payment_intent.succeeded", intent)


def _fail(store: Store, ctx: RequestContext, intent: Json, *, charge_id: str | None) -> None:
    card = customers.card_of(store, intent["payment_method"])
    method = store.table("payment_methods").get(intent["payment_method"])
    error: Json = {"type": "card_error", "code": card.code, "decline_code": card.decline_code,
                   "message": card.message, "charge": charge_id, "payment_method": method,
                   "doc_url": objects.DOCS + str(card.code).replace("_", "-")}
    intent.update(status="requires_payment_method", last_payment_error=error)
    store.emit(ctx, "payment_intent.payment_failed", intent)
    body = objects.error(**{**error, "payment_intent": intent})
    # A decline began executing, so Stripe's idempotency layer replays it (store=True).
    raise ApiError(402, body, store=True)


def listing(store: Store, params: Json) -> list[Json]:
    customer_id = params.get("customer")
    with store.lock:
        intents = [pi for pi in store.table("payment_intents").values()
                   if customer_id is None or pi["customer"] == customer_id]
    # Insertion order is creation order; Stripe lists newest first.
    return intents[::-1]
