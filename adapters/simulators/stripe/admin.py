"""/_sim endpoints: change faults and webhooks at runtime, make "later" happen, read counters.

No authentication: the simulator binds 127.0.0.1 only and is a test tool.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.simulators.stripe.simulator import StripeSimulator


def _sim(request: Request) -> StripeSimulator:
    simulator: StripeSimulator = request.app.state.simulator
    return simulator


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    data = await request.json()
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


async def stats(request: Request) -> Response:
    return JSONResponse(_sim(request).stats())


async def faults(request: Request) -> Response:
    injector = _sim(request).faults
    if request.method == "POST":
        try:
            injector.update(await _body(request))
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(injector.as_json())


async def webhooks(request: Request) -> Response:
    sender = _sim(request).webhooks
    if request.method == "POST":
        try:
            sender.update(await _body(request))
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
    config = sender.config
    return JSONResponse({"url": config.url, "enabled": config.enabled,
                         "duplicate_rate": config.duplicate_rate, "shuffle": config.shuffle,
                         **sender.snapshot()})


async def wait_webhooks(request: Request) -> Response:
    timeout = float((await _body(request)).get("timeout", 10.0))
    idle = await asyncio.to_thread(_sim(request).webhooks.wait_idle, timeout)
    return JSONResponse({"idle": idle})


async def advance(request: Request) -> Response:
    try:
        return JSONResponse(_sim(request).advance(**await _body(request)))
    except (TypeError, ValueError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)


async def reset(request: Request) -> Response:
    _sim(request).reset()
    return JSONResponse({"reset": True})


ROUTES = [
    Route("/_sim/stats", stats, methods=["GET"]),
    Route("/_sim/faults", faults, methods=["GET", "POST"]),
    Route("/_sim/webhooks", webhooks, methods=["GET", "POST"]),
    Route("/_sim/webhooks/wait", wait_webhooks, methods=["POST"]),
    Route("/_sim/advance", advance, methods=["POST"]),
    Route("/_sim/reset", reset, methods=["POST"]),
]
