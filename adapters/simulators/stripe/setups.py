"""Checkout Sessions in setup mode and SetupIntents: a card put on file by the customer.

A setup-mode session owns a SetupIntent from its creation (as Stripe does). The customer
completes it on the simulator's hosted page (hosted.py), which confirms the SetupIntent with the
chosen test card. As on Stripe, the decline cards (0002, 9995, 9987, 9979, 0069, 0119) are
refused at setup (the session stays open); `pm_card_chargeCustomerFail` sets up fine and
declines later, when charged. Completion emits `setup_intent.succeeded` then
`checkout.session.completed`.
"""

from __future__ import annotations

from adapters.simulators.stripe import cards, customers, objects
from adapters.simulators.stripe.objects import ApiError, Json
from adapters.simulators.stripe.state import RequestContext, Store

#: Checkout Sessions expire 24 hours after creation unless told otherwise.
SESSION_LIFETIME_SECONDS = 24 * 3600
#: Test cards Stripe declines when they are set up (not only when charged).
DECLINED_AT_SETUP = frozenset({
    "pm_card_chargeDeclined", "pm_card_chargeDeclinedInsufficientFunds",
    "pm_card_chargeDeclinedLostCard", "pm_card_chargeDeclinedStolenCard",
    "pm_card_chargeDeclinedExpiredCard", "pm_card_chargeDeclinedProcessingError"})


def setup_intent(*, id: str, created: int, customer: str | None, metadata: dict[str, str],
                 usage: str, payment_method_types: list[str]) -> Json:
    return {
        "id": id, "object": "setup_intent", "application": None,
        "automatic_payment_methods": None, "cancellation_reason": None,
        "client_secret": f"{id}_secret_sim", "created": created, "customer": customer,
        "description": None, "flow_directions": None, "last_setup_error": None,
        "latest_attempt": None, "livemode": False, "mandate": None, "metadata": metadata,
        "next_action": None, "on_behalf_of": None, "payment_method": None,
        "payment_method_configuration_details": None, "payment_method_options": {},
        "payment_method_types": payment_method_types, "single_use_mandate": None,
        "status": "requires_payment_method", "usage": usage,
        "excluded_payment_method_types": None,
    }


def _customer(store: Store, params: Json) -> str | None:
    customer = params.get("customer") or None
    if customer is not None:
        customers.get(store, "customers", customer, kind="customer", param="customer")
    return customer


def create_setup_intent(store: Store, ctx: RequestContext, params: Json) -> Json:
    usage = params.get("usage") or "off_session"
    if usage not in ("off_session", "on_session"):
        raise objects.invalid(f"Invalid usage: {usage}", param="usage")
    with store.lock:
        intent = setup_intent(id=store.new_id("seti"), created=store.now(),
                              customer=_customer(store, params),
                              metadata=dict(params.get("metadata") or {}), usage=usage,
                              payment_method_types=list(params.get("payment_method_types")
                                                        or ["card"]))
        store.table("setup_intents")[intent["id"]] = intent
        if params.get("payment_method"):
            intent["payment_method"] = params["payment_method"]
            intent["status"] = "requires_confirmation"
        if str(params.get("confirm", "")).lower() == "true":
            return confirm_setup_intent(store, ctx, intent["id"], {})
        return intent


def confirm_setup_intent(store: Store, ctx: RequestContext, id: str, params: Json) -> Json:
    """Attach the payment method to the intent's customer; a decline card is refused (402)."""
    with store.lock:
        intent = customers.get(store, "setup_intents", id, kind="setup_intent",
                               param="intent")
        if intent["status"] == "succeeded":
            raise objects.invalid("This SetupIntent has already succeeded.",
                                  code="setup_intent_unexpected_state")
        wanted = params.get("payment_method") or intent["payment_method"]
        if not wanted:
            raise objects.invalid("You must provide a payment method to confirm this "
                                  "SetupIntent.", param="payment_method",
                                  code="parameter_missing")
        if wanted in DECLINED_AT_SETUP:
            card = cards.TEST_CARDS[wanted]
            error = {"type": "card_error", "code": card.code, "decline_code": card.decline_code,
                     "message": card.message}
            intent.update(status="requires_payment_method", payment_method=None,
                          last_setup_error=error)
            body = objects.error("card_error", card.message, code=card.code,
                                 decline_code=card.decline_code)
            body["error"]["setup_intent"] = dict(intent)
            raise ApiError(402, body, store=True)
        if intent["customer"]:
            method = customers.attach(store, wanted, {"customer": intent["customer"]})
        else:
            method = customers.resolve_payment_method(store, wanted)
        intent.update(status="succeeded", payment_method=method["id"], last_setup_error=None)
    store.emit(ctx, "setup_intent.succeeded", dict(intent))
    return intent


def create_session(store: Store, params: Json, *, base_url: str) -> Json:
    mode = params.get("mode")
    if mode != "setup":
        raise objects.invalid("The simulator supports Checkout in mode=setup only.",
                              param="mode")
    if not params.get("success_url"):
        raise objects.invalid("Missing required param: success_url.", param="success_url")
    if not params.get("currency") and not params.get("payment_method_types"):
        raise objects.invalid("You must pass `currency` or `payment_method_types` in setup "
                              "mode.", param="currency")
    with store.lock:
        customer = _customer(store, params)
        intent_data = params.get("setup_intent_data") or {}
        intent = setup_intent(id=store.new_id("seti"), created=store.now(), customer=customer,
                              metadata=dict(intent_data.get("metadata") or {}),
                              usage="off_session",
                              payment_method_types=list(params.get("payment_method_types")
                                                        or ["card"]))
        store.table("setup_intents")[intent["id"]] = intent
        id = "cs_test_" + store.new_id("a")[2:]
        created = store.now()
        session = {
            "id": id, "object": "checkout.session", "mode": "setup", "status": "open",
            "payment_status": "no_payment_required", "created": created,
            "expires_at": int(params.get("expires_at") or created + SESSION_LIFETIME_SECONDS),
            "customer": customer, "customer_email": None, "setup_intent": intent["id"],
            "payment_intent": None, "subscription": None, "invoice": None,
            "currency": (params.get("currency") or None),
            "payment_method_types": intent["payment_method_types"],
            "success_url": params["success_url"], "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "metadata": dict(params.get("metadata") or {}), "livemode": False,
            "locale": params.get("locale"), "ui_mode": "hosted", "amount_total": None,
            "amount_subtotal": None, "client_secret": None,
            "url": f"{base_url.rstrip('/')}/checkout/{id}",
        }
        store.table("checkout_sessions")[id] = session
        return session


def expire_session(store: Store, id: str) -> Json:
    with store.lock:
        session = customers.get(store, "checkout_sessions", id, kind="checkout.session",
                                param="session")
        if session["status"] != "open":
            raise objects.invalid(f"Only open sessions can be expired (this one is "
                                  f"{session['status']}).")
        session.update(status="expired", url=None)
        return session


def complete_session(store: Store, id: str, payment_method: str) -> Json:
    """The customer submitted the hosted page: confirm its SetupIntent, complete the session.

    Raises ApiError (402) for a card declined at setup; the session stays open.
    """
    ctx = RequestContext()
    with store.lock:
        session = customers.get(store, "checkout_sessions", id, kind="checkout.session",
                                param="session")
        if session["status"] != "open" or store.now() >= session["expires_at"]:
            raise objects.invalid("This Checkout Session is no longer open.")
        confirm_setup_intent(store, ctx, session["setup_intent"],
                             {"payment_method": payment_method})
        session.update(status="complete", url=None)
        completed = dict(session)
    store.emit(ctx, "checkout.session.completed", completed)
    return completed
