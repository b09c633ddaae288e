"""Create objects in-process exactly as their /v1 POST would, without HTTP.

For harnesses that onboard thousands of customers before a run (workers/devtools/pipeline.py):

    customer = preload.create_customer(sim, {"name": "A", "metadata": {"account_id": "a"}},
                                       api_key="sk_test_x", idempotency_key="k1")

Each call form-encodes the parameters as the SDK does and decodes them as the transport does
(so the operation sees the same strings), then runs the route's operation under the same
idempotency record the request would leave (scope, fingerprint, stored response): a later HTTP
request with the same key replays it. Skipped is what only HTTP has: injected faults and
latency, the request id, and the `requests` counter of GET /_sim/stats.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from adapters.simulators.stripe import customers, forms
from adapters.simulators.stripe.objects import Json
from adapters.simulators.stripe.simulator import StripeSimulator
from adapters.simulators.stripe.transport import _execute

__all__ = ["PreloadError", "attach_payment_method", "create_customer", "encode",
           "update_customer"]


class PreloadError(RuntimeError):
    """The operation answered with a Stripe error (the status and body HTTP would send)."""

    def __init__(self, status: int, body: Json) -> None:
        super().__init__(f"{status}: {body.get('error', body)}")
        self.status = status
        self.body = body


def encode(params: Json, prefix: str = "") -> list[tuple[str, str]]:
    """Form pairs as the SDK sends them: `a[b]` for nested dicts, `a[0]` for lists, booleans
    as `true`/`false`, None left out."""
    pairs: list[tuple[str, str]] = []

    def add(key: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, dict):
            for sub, item in value.items():
                add(f"{key}[{sub}]", item)
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                add(f"{key}[{i}]", item)
        elif isinstance(value, bool):
            pairs.append((key, str(value).lower()))
        else:
            pairs.append((key, str(value)))

    for name, value in params.items():
        add(f"{prefix}[{name}]" if prefix else name, value)
    return pairs


def _post(sim: StripeSimulator, path: str, params: Json, operation: Callable[[Json], Json],
          *, api_key: str, idempotency_key: str | None) -> Json:
    if not sim.accepts(api_key):
        raise PreloadError(401, {"error": {"type": "invalid_request_error",
                                           "message": "Invalid API Key provided"}})
    pairs = encode(params)
    decoded = forms.decode(pairs)
    fingerprint = ("POST", path, tuple(sorted(pairs)))
    scope = (api_key, idempotency_key) if idempotency_key else None
    status, body, _replayed = _execute(sim, scope, fingerprint, lambda: operation(decoded))
    answer: Json = json.loads(body)
    if status != 200:
        raise PreloadError(status, answer)
    return answer


def create_customer(sim: StripeSimulator, params: Json, *, api_key: str,
                    idempotency_key: str | None = None) -> Json:
    """POST /v1/customers."""
    return _post(sim, "/v1/customers", params,
                 lambda p: customers.create_customer(sim.store, p),
                 api_key=api_key, idempotency_key=idempotency_key)


def attach_payment_method(sim: StripeSimulator, payment_method: str, params: Json, *,
                          api_key: str, idempotency_key: str | None = None) -> Json:
    """POST /v1/payment_methods/{payment_method}/attach (a magic test id becomes a new pm_…)."""
    return _post(sim, f"/v1/payment_methods/{payment_method}/attach", params,
                 lambda p: customers.attach(sim.store, payment_method, p),
                 api_key=api_key, idempotency_key=idempotency_key)


def update_customer(sim: StripeSimulator, customer_id: str, params: Json, *, api_key: str,
                    idempotency_key: str | None = None) -> Json:
    """POST /v1/customers/{customer_id}."""
    return _post(sim, f"/v1/customers/{customer_id}", params,
                 lambda p: customers.update_customer(sim.store, customer_id, p),
                 api_key=api_key, idempotency_key=idempotency_key)
