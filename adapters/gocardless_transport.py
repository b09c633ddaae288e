"""How the GoCardless gateway talks HTTP: the SDK's services without their own sleeps, which
errors are transient, and a tenacity wait that honours `Retry-After`.

The official SDK retries timeouts and connection errors itself, sleeping 0.5 s between tries
(gocardless_pro/services/base_service.py). We build its services with one try each so that
tenacity owns every retry: one policy, injectable waits, no sleeping in tests.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import requests
from gocardless_pro import errors, services
from gocardless_pro.api_client import ApiClient
from gocardless_pro.rate_limit import update_rate_limit
from tenacity import RetryCallState
from tenacity.wait import wait_base

from adapters.curl_transport import CurlPool, Reply, TimedOut, TransportFault, Unreachable

#: Errors after which the same request (same idempotency key) may simply be sent again.
TRANSIENT: tuple[type[BaseException], ...] = (
    requests.RequestException,  # timeouts, connection refused/dropped, truncated bodies
    errors.MalformedResponseError,  # a proxy's HTML 502/503
    errors.GoCardlessInternalError,  # 5xx with GoCardless's envelope
    errors.RateLimitError,  # 429
)


def _seconds(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare, and the fallback backoff is fine for it


class PoolResponse:
    """What the SDK reads of a `requests.Response` (status, headers, body), of a reply."""

    def __init__(self, reply: Reply) -> None:
        self.status_code = reply.status
        self.headers = reply.headers  # case-insensitive, as requests' are
        self.content: bytes = reply.body

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)  # a ValueError when it is not JSON, as requests'


class RetryAfterApiClient(ApiClient):  # type: ignore[misc]  # the SDK is untyped
    """The SDK's client, keeping a 429's `Retry-After` on the exception it raises, and
    sending through a kept-alive pool of connections (adapters/curl_transport.py).

    The SDK drops the response once it has built the exception; the header is the only place
    GoCardless says how long to back off. Its own get/post/put/delete call `requests.get`
    and the like, which open a new connection for every request; these are the same
    requests, built the SDK's way (its URL, headers and JSON body), sent on the pool, and
    network faults are raised as the `requests` errors the SDK and our retry policy know.
    """

    def __init__(self, base_url: str, access_token: str, timeout: float) -> None:
        super().__init__(base_url, access_token, timeout=timeout)
        self._pool = CurlPool(base_url, timeout=timeout)

    def _send(self, method: str, path: str, headers: dict[str, str] | None, *,
              params: dict[str, Any] | None = None, data: str | None = None) -> PoolResponse:
        url = self._url_for(path)
        if params:  # as requests encodes them: None values left out
            query = urlencode([(k, v) for k, v in params.items() if v is not None], doseq=True)
            url = f"{url}{'&' if '?' in url else '?'}{query}"
        try:
            reply = self._pool.request(method, url, self._headers(headers), data)
        except Unreachable as fault:  # refused, unreachable, proxy not resolved
            raise requests.exceptions.ConnectionError(str(fault)) from fault
        except TimedOut as fault:
            raise requests.exceptions.Timeout(str(fault)) from fault
        except TransportFault as fault:  # dropped, TLS: as requests raises them
            raise requests.exceptions.ConnectionError(str(fault)) from fault
        response = PoolResponse(reply)
        self._handle_errors(response)
        return response

    @update_rate_limit  # type: ignore[untyped-decorator]
    def get(self, path: str, params: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None) -> PoolResponse:
        return self._send("GET", path, headers, params=params)

    @update_rate_limit  # type: ignore[untyped-decorator]
    def post(self, path: str, body: Any, headers: dict[str, str] | None = None,
             ) -> PoolResponse:
        return self._send("POST", path, headers, data=json.dumps(body))

    @update_rate_limit  # type: ignore[untyped-decorator]
    def put(self, path: str, body: Any, headers: dict[str, str] | None = None,
            ) -> PoolResponse:
        return self._send("PUT", path, headers, data=json.dumps(body))

    @update_rate_limit  # type: ignore[untyped-decorator]
    def delete(self, path: str, body: Any, headers: dict[str, str] | None = None,
               ) -> PoolResponse:
        return self._send("DELETE", path, headers, data=json.dumps(body))

    def _handle_errors(self, response: PoolResponse) -> None:
        try:
            super()._handle_errors(response)
        except errors.RateLimitError as exc:
            exc.retry_after = _seconds(response.headers.get("Retry-After"))
            raise


class wait_retry_after(wait_base):  # tenacity's naming
    """Wait what the server's `Retry-After` says, else what `fallback` says."""

    def __init__(self, fallback: wait_base) -> None:
        self.fallback = fallback

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        hint = getattr(outcome.exception(), "retry_after", None) if outcome else None
        return float(hint) if hint is not None else float(self.fallback(retry_state))


def build_services(*, access_token: str, base_url: str, timeout: float) -> dict[str, Any]:
    """The SDK services we use, one network try each (tenacity retries)."""
    api = RetryAfterApiClient(base_url, access_token, timeout=timeout)
    return {
        "customers": services.CustomersService(api, 1, 0),
        "customer_bank_accounts": services.CustomerBankAccountsService(api, 1, 0),
        "mandates": services.MandatesService(api, 1, 0),
        "payments": services.PaymentsService(api, 1, 0),
        "events": services.EventsService(api, 1, 0),
        "billing_requests": services.BillingRequestsService(api, 1, 0),
        "billing_request_flows": services.BillingRequestFlowsService(api, 1, 0),
    }
