"""The /v1 endpoints: each one names an operation; transport.handle does the rest."""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.simulators.stripe import aftermath, customers, objects, payments, search, setups
from adapters.simulators.stripe.objects import Json
from adapters.simulators.stripe.simulator import StripeSimulator
from adapters.simulators.stripe.state import RequestContext, Store
from adapters.simulators.stripe.transport import Operation, handle

#: Fields `expand[]` can replace by the object they name, and the table holding it.
EXPANDABLE = {"latest_charge": "charges", "payment_method": "payment_methods",
              "customer": "customers", "payment_intent": "payment_intents",
              "charge": "charges", "setup_intent": "setup_intents"}


def _expand(store: Store, obj: Json, params: Json) -> Json:
    wanted = params.get("expand") or []
    if not wanted:
        return obj
    result = dict(obj)
    for path in wanted:
        if path.startswith("data.") and isinstance(result.get("data"), list):
            result["data"] = [_expand(store, item, {"expand": [path[5:]]})
                              for item in result["data"]]
        elif path in EXPANDABLE and isinstance(result.get(path), str):
            result[path] = store.table(EXPANDABLE[path]).get(result[path], result[path])
    return result


def _limit(params: Json) -> int:
    try:
        return max(1, min(100, int(params.get("limit", 10))))
    except ValueError:
        raise objects.invalid("Invalid integer: limit", param="limit") from None


def _page(items: list[Json], params: Json, url: str) -> Json:
    """Cursor pagination over newest-first items (`starting_after`, `ending_before`)."""
    ids = [item["id"] for item in items]
    if params.get("starting_after") in ids:
        items = items[ids.index(params["starting_after"]) + 1:]
    elif params.get("ending_before") in ids:
        items = items[:ids.index(params["ending_before"])]
    limit = _limit(params)
    return objects.page(items=items[:limit], url=url, has_more=len(items) > limit)


def _search(items: list[Json], params: Json, url: str) -> Json:
    if not params.get("query"):
        raise objects.invalid("Missing required param: query.", param="query")
    matches = search.parse(str(params["query"]))
    found = [item for item in items if matches(item)]
    offset = int(params["page"]) if str(params.get("page", "")).isdigit() else 0
    limit = _limit(params)
    more = len(found) > offset + limit
    return {"object": "search_result", "data": found[offset:offset + limit], "has_more": more,
            "next_page": str(offset + limit) if more else None, "url": url}


Factory = Callable[[StripeSimulator, Request], Operation]


def _route(method: str, path: str, factory: Factory) -> Route:
    async def endpoint(request: Request) -> Response:
        sim: StripeSimulator = request.app.state.simulator
        operation = factory(sim, request)

        def expanded(ctx: RequestContext, params: Json) -> Json:
            return _expand(sim.store, operation(ctx, params), params)
        return await handle(sim, request, expanded)
    return Route(path, endpoint, methods=[method])


def _id(request: Request) -> str:
    return str(request.path_params["id"])


def _events(store: Store, params: Json) -> Json:
    """Newest first, filtered by `type` and `created[gt|gte|lt|lte]`; only the page is parsed."""
    created = params.get("created")
    bounds: dict[str, str] = created if isinstance(created, dict) else {}
    tests = {"gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__}
    with store.lock:
        chosen = [e for e in reversed(store.events) if params.get("type") in (None, e.type)
                  and all(tests[op](e.created, int(v)) for op, v in bounds.items() if op in tests)]
    ids = [e.id for e in chosen]
    if params.get("starting_after") in ids:
        chosen = chosen[ids.index(params["starting_after"]) + 1:]
    elif params.get("ending_before") in ids:
        chosen = chosen[:ids.index(params["ending_before"])]
    limit = _limit(params)
    return objects.page(items=[json.loads(e.payload) for e in chosen[:limit]], url="/v1/events",
                        has_more=len(chosen) > limit)


def _one_event(store: Store, id: str) -> Json:
    with store.lock:
        for stored in store.events:
            if stored.id == id:
                return dict(json.loads(stored.payload))
    raise objects.ApiError(404, objects.missing("event", id, "id"))


ROUTES = [
    _route("POST", "/v1/customers", lambda s, r: lambda c, p: customers.create_customer(
        s.store, p)),
    _route("GET", "/v1/customers", lambda s, r: lambda c, p: _page(
        [x for x in reversed(s.store.table("customers").values())
         if p.get("email") in (None, x["email"])], p, "/v1/customers")),
    _route("GET", "/v1/customers/{id}", lambda s, r: lambda c, p: customers.get(
        s.store, "customers", _id(r), kind="customer")),
    _route("POST", "/v1/customers/{id}", lambda s, r: lambda c, p: customers.update_customer(
        s.store, _id(r), p)),
    _route("GET", "/v1/payment_methods", lambda s, r: lambda c, p: _page(
        customers.list_payment_methods(s.store, p)[::-1], p, "/v1/payment_methods")),
    _route("GET", "/v1/payment_methods/{id}", lambda s, r: lambda c, p:
           customers.resolve_payment_method(s.store, _id(r))),
    _route("POST", "/v1/payment_methods/{id}/attach", lambda s, r: lambda c, p: customers.attach(
        s.store, _id(r), p)),
    _route("POST", "/v1/payment_methods/{id}/detach", lambda s, r: lambda c, p: customers.detach(
        s.store, _id(r))),
    _route("POST", "/v1/payment_intents", lambda s, r: lambda c, p: payments.create(
        s.store, c, p)),
    _route("GET", "/v1/payment_intents", lambda s, r: lambda c, p: _page(
        payments.listing(s.store, p), p, "/v1/payment_intents")),
    _route("GET", "/v1/payment_intents/search", lambda s, r: lambda c, p: _search(
        payments.listing(s.store, {}), p, "/v1/payment_intents/search")),
    _route("GET", "/v1/payment_intents/{id}", lambda s, r: lambda c, p: customers.get(
        s.store, "payment_intents", _id(r), kind="payment_intent", param="intent")),
    _route("POST", "/v1/payment_intents/{id}/confirm", lambda s, r: lambda c, p:
           payments.confirm(s.store, c, _id(r), p)),
    _route("GET", "/v1/charges/{id}", lambda s, r: lambda c, p: customers.get(
        s.store, "charges", _id(r), kind="charge", param="charge")),
    _route("POST", "/v1/refunds", lambda s, r: lambda c, p: aftermath.refund(s.store, c, p)),
    _route("GET", "/v1/refunds/{id}", lambda s, r: lambda c, p: customers.get(
        s.store, "refunds", _id(r), kind="refund", param="refund")),
    _route("GET", "/v1/disputes/{id}", lambda s, r: lambda c, p: customers.get(
        s.store, "disputes", _id(r), kind="dispute", param="dispute")),
    _route("POST", "/v1/setup_intents", lambda s, r: lambda c, p: setups.create_setup_intent(
        s.store, c, p)),
    _route("GET", "/v1/setup_intents/{id}", lambda s, r: lambda c, p: customers.get(
        s.store, "setup_intents", _id(r), kind="setup_intent", param="intent")),
    _route("POST", "/v1/setup_intents/{id}/confirm", lambda s, r: lambda c, p:
           setups.confirm_setup_intent(s.store, c, _id(r), p)),
    _route("POST", "/v1/checkout/sessions", lambda s, r: lambda c, p: setups.create_session(
        s.store, p, base_url=str(r.base_url))),
    _route("GET", "/v1/checkout/sessions/{id}", lambda s, r: lambda c, p: customers.get(
        s.store, "checkout_sessions", _id(r), kind="checkout.session", param="session")),
    _route("POST", "/v1/checkout/sessions/{id}/expire", lambda s, r: lambda c, p:
           setups.expire_session(s.store, _id(r))),
    _route("GET", "/v1/events", lambda s, r: lambda c, p: _events(s.store, p)),
    _route("GET", "/v1/events/{id}", lambda s, r: lambda c, p: _one_event(s.store, _id(r))),
]
