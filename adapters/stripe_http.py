"""The Stripe SDK's HTTP client, over urllib3 instead of `requests`.

The official SDK takes any `stripe.HTTPClient` (`http_client=`); its default goes through a
`requests.Session`, whose per-request work (merging settings, hooks, cookies, building a
`PreparedRequest` and a `Response`) cost more CPU than the rest of a charge's client side.
urllib3 is what `requests` sends with: this client keeps its connection pool (thread-safe,
kept-alive connections), its certificate checks against the SDK's CA bundle, and the
environment's proxy as it was when the gateway was built (adapters/http_sessions.py), and
answers the SDK the way its own clients do: network faults as `APIConnectionError`, retryable
unless the certificate did not verify.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any, NoReturn

import stripe
import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)

from adapters.http_sessions import provider_pool

#: What urllib3 raises when no answer came: the call may be sent again (same idempotency key).
_NO_ANSWER = (ConnectTimeoutError, ReadTimeoutError, NewConnectionError, ProtocolError,
              ProxyError, MaxRetryError, ConnectionError, TimeoutError)


class Urllib3Client(stripe.HTTPClient):
    name = "urllib3"

    def __init__(self, api_base: str, *, timeout: float, pool_size: int = 128) -> None:
        super().__init__()
        # The SDK's own CA bundle, as its clients verify Stripe with.
        self._pool = provider_pool(api_base, ca_certs=stripe.ca_bundle_path,
                                   pool_size=pool_size)
        self._timeout = urllib3.Timeout(connect=timeout, read=timeout)

    def request(self, method: str, url: str, headers: Mapping[str, str] | None,
                post_data: Any = None, *, _usage: list[str] | None = None,
                ) -> tuple[Any, int, Mapping[str, str]]:  # the body as bytes, as requests
        response = self._send(method, url, headers, post_data, preload_content=True)
        return response.data, response.status, response.headers

    def request_stream(self, method: str, url: str, headers: Mapping[str, str] | None,
                       post_data: Any = None, *, _usage: list[str] | None = None,
                       ) -> tuple[Any, int, Mapping[str, str]]:
        response = self._send(method, url, headers, post_data, preload_content=False)
        return response, response.status, response.headers

    def _send(self, method: str, url: str, headers: Mapping[str, str] | None, body: Any, *,
              preload_content: bool) -> urllib3.BaseHTTPResponse:
        try:
            return self._pool.request(
                method.upper(), url, headers=dict(headers or {}), body=body,
                timeout=self._timeout, retries=False, redirect=False,
                preload_content=preload_content)
        except Exception as error:
            self._handle_request_error(error)

    def _handle_request_error(self, error: Exception) -> NoReturn:
        if isinstance(error, SSLError):
            message, retry = ("Could not verify Stripe's SSL certificate. Please make sure "
                              "that your network is not intercepting certificates."), False
        elif isinstance(error, _NO_ANSWER):
            message, retry = "Unexpected error communicating with Stripe.", True
        else:
            message, retry = ("Unexpected error communicating with Stripe. It looks like "
                              "there's probably a configuration issue locally."), False
        detail = f"{type(error).__name__}: {error}"
        raise stripe.APIConnectionError(  # type: ignore[no-untyped-call]
            textwrap.fill(message) + f"\n\n(Network error: {detail})",
            should_retry=retry) from error

    def close(self) -> None:
        self._pool.clear()
