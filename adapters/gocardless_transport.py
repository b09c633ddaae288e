"""How the GoCardless gateway talks HTTP: the SDK's services without their own sleeps, which
errors are transient, and a tenacity wait that honours `Retry-After`.

The official SDK retries timeouts and connection errors itself, sleeping 0.5 s between tries
(gocardless_pro/services/base_service.py). We build its services with one try each so that
tenacity owns every retry: one policy, injectable waits, no sleeping in tests.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from gocardless_pro import errors, services
from gocardless_pro.api_client import ApiClient
from gocardless_pro.rate_limit import update_rate_limit
from tenacity import RetryCallState
from tenacity.wait import wait_base

from adapters.http_sessions import ThreadSessions

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


class RetryAfterApiClient(ApiClient):  # type: ignore[misc]  # the SDK is untyped
    """The SDK's client, keeping a 429's `Retry-After` on the exception it raises, and
    sending on a kept-alive session per thread.

    The SDK drops the response once it has built the exception; the header is the only place
    GoCardless says how long to back off. Its own get/post/put/delete call `requests.get`
    and the like, which open a new connection for every request (adapters/http_sessions.py);
    these are the same requests, built the SDK's way, on one session per thread.
    """

    def __init__(self, base_url: str, access_token: str, timeout: float) -> None:
        super().__init__(base_url, access_token, timeout=timeout)
        self._sessions = ThreadSessions(base_url)

    def _send(self, method: str, path: str, headers: dict[str, str] | None,
              **kwargs: Any) -> requests.Response:
        response = self._sessions.get().request(
            method, self._url_for(path), headers=self._headers(headers), timeout=self.timeout,
            **kwargs)
        self._handle_errors(response)
        return response

    @update_rate_limit  # type: ignore[untyped-decorator]
    def get(self, path: str, params: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None) -> requests.Response:
        return self._send("GET", path, headers, params=params)

    @update_rate_limit  # type: ignore[untyped-decorator]
    def post(self, path: str, body: Any, headers: dict[str, str] | None = None,
             ) -> requests.Response:
        return self._send("POST", path, headers, data=json.dumps(body))

    @update_rate_limit  # type: ignore[untyped-decorator]
    def put(self, path: str, body: Any, headers: dict[str, str] | None = None,
            ) -> requests.Response:
        return self._send("PUT", path, headers, data=json.dumps(body))

    @update_rate_limit  # type: ignore[untyped-decorator]
    def delete(self, path: str, body: Any, headers: dict[str, str] | None = None,
               ) -> requests.Response:
        return self._send("DELETE", path, headers, data=json.dumps(body))

    def _handle_errors(self, response: requests.Response) -> None:
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
