"""The Starlette app: GoCardless's REST API as the official SDK calls it, plus `/_sim/*` admin.

Bodies are wrapped by resource name (`{"payments": {...}}`, lists add `meta.cursors`); action
endpoints take `{"data": {...}}`. Errors use GoCardless's envelope (see errors.py). Every API
request first catches the store up with the simulator's clock. Handlers are light: the store
works in memory under a lock and never awaits.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from adapters.simulators.gocardless import billing_requests, errors, hosted
from adapters.simulators.gocardless.faults import FaultConfig, FaultMiddleware

if TYPE_CHECKING:
    from adapters.simulators.gocardless.simulator import GoCardlessSimulator

Handler = Callable[[Request], Awaitable[Response]]


async def _body(request: Request, envelope: str) -> dict[str, Any]:
    raw = await request.body()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        raise errors.SimError(400, "invalid_api_usage", "invalid_document_structure",
                              "Invalid document structure") from None
    if parsed is None:  # the SDK sends `null` when an action has no parameters
        return {}
    inner = parsed.get(envelope) if isinstance(parsed, dict) else None
    if not isinstance(inner, dict):
        raise errors.SimError(400, "invalid_api_usage", "invalid_document_structure",
                              f"Expected a `{envelope}` object")
    return inner


def create_app(sim: GoCardlessSimulator) -> ASGIApp:
    """Build the ASGI app for `sim` (its store, clock, faults and webhook sender).

    The fault middleware wraps the Starlette app from outside, so that it holds uvicorn's own
    `send` (it needs the socket to drop a connection).
    """
    store = sim.store

    def api(handler: Callable[[Request], Awaitable[Any]], status: int = 200) -> Handler:
        async def endpoint(request: Request) -> Response:
            token = request.headers.get("authorization", "")
            if not token.startswith("Bearer ") or (
                    sim.config.access_token and token != f"Bearer {sim.config.access_token}"):
                raise errors.SimError(401, "invalid_api_usage", "access_token_not_found",
                                      "Access token not found")
            sim.tick()
            return JSONResponse(await handler(request), status_code=status)
        return endpoint

    def key(request: Request) -> str | None:
        return request.headers.get("idempotency-key")

    def ident(request: Request) -> str:
        return str(request.path_params["id"])

    def wrap(name: str, page: dict[str, Any]) -> dict[str, Any]:
        return {name: page["records"], "meta": page["meta"]}

    async def create_customer(r: Request) -> Any:
        return {"customers": store.create_customer(await _body(r, "customers"), key(r))}

    async def get_customer(r: Request) -> Any:
        with store.lock:
            return {"customers": store.find("customers", ident(r)).data}

    async def create_bank_account(r: Request) -> Any:
        params = await _body(r, "customer_bank_accounts")
        return {"customer_bank_accounts": store.create_bank_account(params, key(r))}

    async def get_bank_account(r: Request) -> Any:
        with store.lock:
            return {"customer_bank_accounts": store.find("customer_bank_accounts", ident(r)).data}

    async def create_mandate(r: Request) -> Any:
        return {"mandates": store.create_mandate(await _body(r, "mandates"), key(r))}

    async def list_mandates(r: Request) -> Any:
        return wrap("mandates", store.list_mandates(dict(r.query_params)))

    async def get_mandate(r: Request) -> Any:
        return {"mandates": store.get_mandate(ident(r))}

    async def cancel_mandate(r: Request) -> Any:
        await _body(r, "data")
        return {"mandates": store.cancel_mandate(ident(r))}

    async def reinstate_mandate(r: Request) -> Any:
        await _body(r, "data")
        return {"mandates": store.reinstate_mandate(ident(r))}

    async def create_payment(r: Request) -> Any:
        return {"payments": store.create_payment(await _body(r, "payments"), key(r))}

    async def list_payments(r: Request) -> Any:
        return wrap("payments", store.list_payments(dict(r.query_params)))

    async def get_payment(r: Request) -> Any:
        return {"payments": store.get_payment(ident(r))}

    async def cancel_payment(r: Request) -> Any:
        await _body(r, "data")
        return {"payments": store.cancel_payment(ident(r))}

    async def retry_payment(r: Request) -> Any:
        return {"payments": store.retry_payment(ident(r), await _body(r, "data"))}

    async def create_billing_request(r: Request) -> Any:
        return {"billing_requests": billing_requests.create_billing_request(
            store, await _body(r, "billing_requests"), key(r))}

    async def get_billing_request(r: Request) -> Any:
        return {"billing_requests": billing_requests.get_billing_request(store, ident(r))}

    async def create_flow(r: Request) -> Any:
        return {"billing_request_flows": billing_requests.create_flow(
            store, await _body(r, "billing_request_flows"), base_url=str(r.base_url))}

    async def list_events(r: Request) -> Any:
        return wrap("events", store.list_events(dict(r.query_params)))

    async def get_event(r: Request) -> Any:
        return {"events": store.get_event(ident(r))}

    async def advance(r: Request) -> Response:
        try:
            day = date.fromisoformat(json.loads(await r.body() or b"{}")["today"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": 'expected {"today": "YYYY-MM-DD"}'}, status_code=400)
        emitted = sim.advance_to(day)
        return JSONResponse({"today": sim.today().isoformat(), "events_emitted": emitted})

    async def faults(r: Request) -> Response:
        if r.method == "POST":
            try:
                sim.faults.configure(FaultConfig.from_json(json.loads(await r.body() or b"{}"),
                                                           base=sim.faults.config))
            except (TypeError, ValueError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(sim.faults.config.as_json())

    async def stats(r: Request) -> Response:
        return JSONResponse(sim.stats())

    routes = [
        Route("/customers", api(create_customer, 201), methods=["POST"]),
        Route("/customers/{id}", api(get_customer), methods=["GET"]),
        Route("/customer_bank_accounts", api(create_bank_account, 201), methods=["POST"]),
        Route("/customer_bank_accounts/{id}", api(get_bank_account), methods=["GET"]),
        Route("/mandates", api(create_mandate, 201), methods=["POST"]),
        Route("/mandates", api(list_mandates), methods=["GET"]),
        Route("/mandates/{id}", api(get_mandate), methods=["GET"]),
        Route("/mandates/{id}/actions/cancel", api(cancel_mandate), methods=["POST"]),
        Route("/mandates/{id}/actions/reinstate", api(reinstate_mandate), methods=["POST"]),
        Route("/payments", api(create_payment, 201), methods=["POST"]),
        Route("/payments", api(list_payments), methods=["GET"]),
        Route("/payments/{id}", api(get_payment), methods=["GET"]),
        Route("/payments/{id}/actions/cancel", api(cancel_payment), methods=["POST"]),
        Route("/payments/{id}/actions/retry", api(retry_payment), methods=["POST"]),
        Route("/billing_requests", api(create_billing_request, 201), methods=["POST"]),
        Route("/billing_requests/{id}", api(get_billing_request), methods=["GET"]),
        Route("/billing_request_flows", api(create_flow, 201), methods=["POST"]),
        *hosted.routes(sim),
        Route("/events", api(list_events), methods=["GET"]),
        Route("/events/{id}", api(get_event), methods=["GET"]),
        Route("/_sim/advance", advance, methods=["POST"]),
        Route("/_sim/faults", faults, methods=["GET", "POST"]),
        Route("/_sim/stats", stats, methods=["GET"]),
    ]

    async def sim_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, errors.SimError)
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        reason = "path_not_found" if exc.status_code == 404 else "method_not_allowed"
        err = errors.SimError(exc.status_code, "invalid_api_usage", reason, str(exc.detail))
        return JSONResponse(err.body(), status_code=exc.status_code)

    app = Starlette(routes=routes, exception_handlers={errors.SimError: sim_error,
                                                       HTTPException: http_error})
    return FaultMiddleware(app, sim.faults)
