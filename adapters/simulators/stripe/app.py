"""The Starlette app factory: `create_app(SimulatorConfig(...))`, served with serve_in_thread.

Stats (GET /_sim/stats):
    {"requests": int, "faults": {"error"|"rate_limit"|"timeout"|"drop": int},
     "counters": {"idempotent_replays": int, "idempotency_conflicts": int},
     "payment_intents": {"total": int, "by_status": {status: int}},
     "succeeded_by_invoice": {invoice_id: distinct succeeded PaymentIntents},
     "succeeded_by_attempt": {attempt_id: distinct succeeded PaymentIntents},
     "duplicate_invoices": [invoice ids with more than one succeeded PaymentIntent],
     "charges": int, "refunds": int, "disputes": int, "events": int,
     "webhooks": {"delivered", "failed", "duplicated", "attempts", "pending": int}}
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.simulators.stripe import admin, hosted, objects, routes
from adapters.simulators.stripe.simulator import SimulatorConfig, StripeSimulator


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse(objects.error("invalid_request_error",
                                      f"Unrecognized request URL ({request.method}: "
                                      f"{request.url.path})."), status_code=404)


def create_app(config: SimulatorConfig | None = None, *,
               simulator: StripeSimulator | None = None) -> Starlette:
    """A Stripe API simulator app; `app.state.simulator` is the StripeSimulator behind it."""
    app = Starlette(routes=[*routes.ROUTES, *admin.ROUTES, *hosted.ROUTES],
                    exception_handlers={404: _not_found, 405: _not_found})
    app.state.simulator = simulator or StripeSimulator(config)
    return app
