"""The Stripe SDK's HTTP client, over libcurl instead of `requests`.

The official SDK takes any `stripe.HTTPClient` (`http_client=`); its default goes through a
`requests.Session`, whose per-request work (merging settings, hooks, cookies, building a
`PreparedRequest` and a `Response`) cost more CPU than the rest of a charge's client side, and
the SDK's own pycurl client keeps one handle that two threads must not share. This client
sends through a `CurlPool` (adapters/curl_transport.py: kept-alive connections shared between
threads, the environment's proxy as it was when the gateway was built), verifies certificates
against the SDK's CA bundle, and answers the SDK the way its own clients do: network faults as
`APIConnectionError`, retryable unless the TLS handshake or the certificate failed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from io import BytesIO
from typing import Any, NoReturn

import stripe

from adapters.curl_transport import CertificateRejected, CurlPool, TransportFault


class CurlClient(stripe.HTTPClient):
    name = "pycurl-pool"

    def __init__(self, api_base: str, *, timeout: float, pool_size: int = 128) -> None:
        super().__init__()
        # The SDK's own CA bundle, as its clients verify Stripe with.
        self._pool = CurlPool(api_base, timeout=timeout, ca_certs=stripe.ca_bundle_path,
                              pool_size=pool_size)

    def request(self, method: str, url: str, headers: Mapping[str, str] | None,
                post_data: Any = None, *, _usage: list[str] | None = None,
                ) -> tuple[Any, int, Mapping[str, str]]:  # the body as bytes, as requests
        try:
            reply = self._pool.request(method, url, headers or {}, post_data)
        except TransportFault as fault:
            self._handle_request_error(fault)
        return reply.body, reply.status, reply.headers

    def request_stream(self, method: str, url: str, headers: Mapping[str, str] | None,
                       post_data: Any = None, *, _usage: list[str] | None = None,
                       ) -> tuple[Any, int, Mapping[str, str]]:
        # Read whole, as the SDK's own pycurl client does: the SDK reads a stream it is given.
        body, status, received = self.request(method, url, headers, post_data)
        return BytesIO(body), status, received

    def _handle_request_error(self, error: TransportFault) -> NoReturn:
        if isinstance(error, CertificateRejected):
            message, retry = ("Could not verify Stripe's SSL certificate. Please make sure "
                              "that your network is not intercepting certificates."), False
        elif error.retryable:
            message, retry = "Unexpected error communicating with Stripe.", True
        else:
            message, retry = ("Unexpected error communicating with Stripe. It looks like "
                              "there's probably a configuration issue locally."), False
        raise stripe.APIConnectionError(  # type: ignore[no-untyped-call]
            textwrap.fill(message) + f"\n\n(Network error: {type(error).__name__}: {error})",
            should_retry=retry) from error

    def close(self) -> None:
        self._pool.close()
