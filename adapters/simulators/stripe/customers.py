"""Customers and PaymentMethods: enough of Stripe's API to onboard accounts for off-session use."""

from __future__ import annotations

from adapters.simulators.stripe import cards, objects
from adapters.simulators.stripe.objects import ApiError, Json
from adapters.simulators.stripe.state import Store


def get(store: Store, table: str, id: str, *, kind: str, param: str = "id") -> Json:
    found = store.table(table).get(id)
    if found is None:
        raise ApiError(404, objects.missing(kind, id, param))
    return found


def create_customer(store: Store, params: Json) -> Json:
    with store.lock:
        customer = objects.customer(id=store.new_id("cus"), created=store.now(), params=params)
        store.table("customers")[customer["id"]] = customer
        if params.get("payment_method"):
            attach(store, params["payment_method"], {"customer": customer["id"]})
        return customer


def update_customer(store: Store, id: str, params: Json) -> Json:
    with store.lock:
        customer = get(store, "customers", id, kind="customer")
        for key in ("name", "email", "description"):
            if key in params:
                customer[key] = params[key] or None
        customer["metadata"].update(params.get("metadata") or {})
        customer["metadata"] = {k: v for k, v in customer["metadata"].items() if v != ""}
        default = (params.get("invoice_settings") or {}).get("default_payment_method")
        if default is not None:
            if default:
                get(store, "payment_methods", default, kind="PaymentMethod",
                    param="invoice_settings[default_payment_method]")
            customer["invoice_settings"]["default_payment_method"] = default or None
        return customer


def resolve_payment_method(store: Store, id: str, *, param: str = "payment_method") -> Json:
    """A stored PaymentMethod, or a fresh one for a magic test id or an unknown `pm_…`.

    Stripe turns `pm_card_visa` into a new `pm_…` each time it is used; we do the same.
    Unknown `pm_…` ids behave like visa, so flows we do not model still charge.
    """
    with store.lock:
        stored = store.table("payment_methods").get(id)
        if stored is not None:
            return stored
        if not id.startswith("pm_"):
            raise ApiError(404, objects.missing("PaymentMethod", id, param))
        card = cards.TEST_CARDS.get(id, cards.DEFAULT_CARD)
        new_id = store.new_id("pm") if cards.is_magic(id) else id
        method = objects.payment_method(id=new_id, created=store.now(), card=card, customer=None)
        store.table("payment_methods")[new_id] = method
        store.table("card_of")[new_id] = {"magic": id if cards.is_magic(id) else "pm_card_visa"}
        return method


def card_of(store: Store, payment_method_id: str) -> cards.CardBehaviour:
    magic = store.table("card_of").get(payment_method_id, {}).get("magic", "pm_card_visa")
    return cards.TEST_CARDS.get(magic, cards.DEFAULT_CARD)


def attach(store: Store, id: str, params: Json) -> Json:
    customer_id = params.get("customer")
    if not customer_id:
        raise objects.invalid("Missing required param: customer.", param="customer")
    with store.lock:
        get(store, "customers", customer_id, kind="customer", param="customer")
        method = resolve_payment_method(store, id, param="payment_method")
        if method["customer"] not in (None, customer_id):
            raise objects.invalid("This PaymentMethod is already attached to another customer.",
                                  code="payment_method_unexpected_state")
        method["customer"] = customer_id
        return method


def detach(store: Store, id: str) -> Json:
    with store.lock:
        method = get(store, "payment_methods", id, kind="PaymentMethod", param="payment_method")
        method["customer"] = None
        return method


def list_payment_methods(store: Store, params: Json) -> list[Json]:
    customer_id = params.get("customer")
    with store.lock:
        return [m for m in store.table("payment_methods").values()
                if customer_id is None or m["customer"] == customer_id]
