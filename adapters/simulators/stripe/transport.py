"""What every /v1 request goes through: auth, faults, form decoding, idempotency, the response.

Order matters and mirrors Stripe: authentication, then faults that happen before execution
(500, 429: nothing stored), then execution under the store lock with the idempotency record
checked and written atomically, then faults that happen after commit (stall, dropped
connection), so a client can lose a response for a payment that exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from adapters.simulators.stripe import forms, objects
from adapters.simulators.stripe.objects import ApiError, Json
from adapters.simulators.stripe.simulator import StripeSimulator
from adapters.simulators.stripe.state import DEFAULT_API_VERSION, RequestContext, StoredResponse

#: An API operation: (context, params) -> the object to return; raises ApiError.
Operation = Callable[[RequestContext, Json], Json]

_request_ids = itertools.count(1)


class ConnectionDropped(Exception):
    """Raised after the response headers went out: uvicorn then closes the socket mid-response."""


class _QuietDrops(logging.Filter):
    # uvicorn logs every app exception at ERROR; a deliberate drop is not an error.
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


class DroppedResponse(Response):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", b"4096")]})
        raise ConnectionDropped


def _json(status: int, body: bytes, headers: dict[str, str]) -> Response:
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _error(status: int, body: Json, headers: dict[str, str]) -> Response:
    return _json(status, json.dumps(body).encode(), headers)


async def _stall(request: Request, seconds: float) -> None:
    """Hold the response back, but stop as soon as the client hangs up (fast shutdown)."""
    async def disconnected() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(disconnected(), seconds)


def _api_key(request: Request) -> str | None:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" and key.strip() else None


async def handle(sim: StripeSimulator, request: Request, operation: Operation) -> Response:
    store = sim.store
    store.count("requests")
    headers = {"Request-Id": f"req_sim{next(_request_ids):014d}"}
    api_key = _api_key(request)
    if api_key is None or not sim.accepts(api_key):
        shown = f"{api_key[:8]}****{api_key[-4:]}" if api_key else "(none)"
        return _error(401, objects.error("invalid_request_error",
                                         f"Invalid API Key provided: {shown}"), headers)
    fault = sim.faults.draw(request.method)
    config = sim.faults.config
    if config.latency_ms:
        await asyncio.sleep(config.latency_ms / 1000)
    if fault is not None:
        store.count("fault." + fault)
    if fault == "error":
        return _error(500, objects.error("api_error", "An unknown error occurred."), headers)
    if fault == "rate_limit":
        headers["Retry-After"] = str(config.retry_after_seconds)
        return _error(429, objects.error(
            "invalid_request_error", "Request rate limit exceeded.", code="rate_limit"), headers)
    write = request.method == "POST"
    try:
        pairs = forms.parse_pairs(await request.body()) if write else list(
            request.query_params.multi_items())
        params = forms.decode(pairs)
    except (forms.FormError, UnicodeDecodeError) as exc:
        return _error(400, objects.error("invalid_request_error", str(exc)), headers)
    key = request.headers.get("idempotency-key") if write else None
    ctx = RequestContext(request_id=headers["Request-Id"], idempotency_key=key,
                         api_version=request.headers.get("stripe-version", DEFAULT_API_VERSION))
    fingerprint = (request.method, request.url.path, tuple(sorted(pairs)))
    status, body, replayed = _execute(sim, (api_key, key) if key else None, fingerprint,
                                      lambda: operation(ctx, params))
    if key:
        headers["Idempotency-Key"] = key
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    if fault == "timeout":
        await _stall(request, config.timeout_stall_seconds)
    if fault == "drop":
        return DroppedResponse()
    return _json(status, body, headers)


def _execute(sim: StripeSimulator, scope: tuple[str, str] | None, fingerprint: tuple[Any, ...],
             run: Callable[[], Json]) -> tuple[int, bytes, bool]:
    """Run once per idempotency key; same key and params replay, other params are refused."""
    store = sim.store
    with store.lock:
        if scope is not None and scope in store.idempotency:
            stored = store.idempotency[scope]
            if stored.fingerprint != fingerprint:
                store.count("idempotency_conflicts")
                return 400, json.dumps(objects.error(
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters "
                    f"they were first used with. Try using a key other than '{scope[1]}' if "
                    "you meant to execute a different request.")).encode(), False
            store.count("idempotent_replays")
            return stored.status, stored.body, True
        try:
            status, body, keep = 200, json.dumps(run()).encode(), True
        except ApiError as exc:
            status, body, keep = exc.status, json.dumps(exc.body).encode(), exc.store
        if scope is not None and keep:
            store.idempotency[scope] = StoredResponse(fingerprint, status, body)
        return status, body, False
