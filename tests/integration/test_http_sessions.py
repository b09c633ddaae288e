"""The provider gateways' HTTP over a real loopback server: requests reuse kept-alive
connections (the GoCardless SDK alone opens one per request), both gateways honour the proxy
the environment named when they were built (read once, not on every request), and the Stripe
SDK's client answers network faults as the SDK's own clients do."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from adapters.gocardless_gateway import GoCardlessGateway
from adapters.stripe_gateway import StripeGateway
from adapters.stripe_http import CurlClient
from domain.outcomes import NotFound, Pending

PAYMENT = {"payments": {"id": "PM123", "status": "pending_submission", "amount": 1500,
                        "currency": "EUR", "metadata": {}, "links": {"mandate": "MD1"}}}
SEARCH = {"object": "search_result", "data": [], "has_more": False, "next_page": None,
          "url": "/v1/payment_intents/search"}

#: The proxy variables are unset for each test: a test sets what it needs.
pytestmark = pytest.mark.usefixtures("without_proxy_variables")


class Recorder(ThreadingHTTPServer):
    """Answers every request with `body`, recording (client port, request line) of each."""

    daemon_threads = True

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = json.dumps(body).encode()
        self.seen: list[tuple[int, str]] = []
        self.proxy_credentials: list[str | None] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the providers' servers

    def do_GET(self) -> None:
        server: Recorder = self.server  # type: ignore[assignment]
        server.seen.append((self.client_address[1], self.requestline))
        server.proxy_credentials.append(self.headers.get("Proxy-Authorization"))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(server.body)))
        self.end_headers()
        self.wfile.write(server.body)

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:  # the base class names it format
        pass


@pytest.fixture
def serve() -> Iterator[Any]:
    started: list[Recorder] = []

    def start(body: dict[str, Any]) -> Recorder:
        server = Recorder(body)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def _gocardless(url: str) -> GoCardlessGateway:
    return GoCardlessGateway(access_token="t", base_url=url, timeout=5, attempts=1)


def _stripe(url: str) -> StripeGateway:
    return StripeGateway(api_key="sk_test_sessions", api_base=url, timeout_seconds=5)


def _ask(gateway: GoCardlessGateway | StripeGateway) -> object:
    """One read of either gateway, answered by what `_body_for` serves."""
    if isinstance(gateway, GoCardlessGateway):
        return gateway.payment_status(provider_ref="PM123")
    return gateway.find_payment(attempt_id="att_1")


def _body_for(gateway_for: Any) -> dict[str, Any]:
    return PAYMENT if gateway_for is _gocardless else SEARCH


@pytest.mark.parametrize("gateway_for", [_gocardless, _stripe], ids=["gocardless", "stripe"])
def test_requests_of_one_thread_share_one_connection(serve: Any, gateway_for: Any) -> None:
    # Given a gateway (the GoCardless SDK alone opens a connection per request)
    server = serve(_body_for(gateway_for))
    gateway = gateway_for(server.url)
    # When one thread makes three calls
    answers = [_ask(gateway) for _ in range(3)]
    # Then each got its answer, over a single kept-alive connection
    assert all(isinstance(answer, Pending | NotFound) for answer in answers)
    assert len(server.seen) == 3
    assert len({port for port, _ in server.seen}) == 1


@pytest.mark.parametrize("gateway_for", [_gocardless, _stripe], ids=["gocardless", "stripe"])
def test_threads_calling_at_once_share_the_pool_safely(serve: Any, gateway_for: Any) -> None:
    # Given one gateway called by four threads at once, three calls each
    server = serve(_body_for(gateway_for))
    gateway = gateway_for(server.url)
    start = threading.Barrier(4)

    def three(_: int) -> list[object]:
        start.wait()
        return [_ask(gateway) for _ in range(3)]

    with ThreadPoolExecutor(4) as pool:
        answers = [answer for some in pool.map(three, range(4)) for answer in some]
    # Then every call was answered, on at most one connection per thread
    assert len(answers) == len(server.seen) == 12
    assert all(isinstance(answer, Pending | NotFound) for answer in answers)
    assert len({port for port, _ in server.seen}) <= 4


@pytest.mark.parametrize("gateway_for", [_gocardless, _stripe], ids=["gocardless", "stripe"])
def test_the_proxy_named_at_start_is_used_and_later_changes_are_not(
        serve: Any, monkeypatch: pytest.MonkeyPatch, gateway_for: Any) -> None:
    # Given a proxy in the environment when the gateway is built
    proxy, provider = serve(_body_for(gateway_for)), serve(_body_for(gateway_for))
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    gateway = gateway_for(provider.url)
    # When the environment changes afterwards and the gateway makes a call
    monkeypatch.delenv("HTTP_PROXY")
    answer = _ask(gateway)
    # Then the call went through the proxy named at start (an absolute URL on its request
    # line), and nothing reached the provider directly
    assert isinstance(answer, Pending | NotFound)
    assert [line.split()[1].startswith(provider.url) for _, line in proxy.seen] == [True]
    assert provider.seen == []


@pytest.mark.parametrize("gateway_for", [_gocardless, _stripe], ids=["gocardless", "stripe"])
def test_a_proxys_credentials_in_its_url_are_sent_to_it(
        serve: Any, monkeypatch: pytest.MonkeyPatch, gateway_for: Any) -> None:
    # Given a proxy URL with a user and an escaped password, as requests reads it
    proxy, provider = serve(_body_for(gateway_for)), serve(_body_for(gateway_for))
    monkeypatch.setenv("HTTP_PROXY", proxy.url.replace("http://", "http://ops:s%40cret@"))
    # When the gateway calls the provider
    _ask(gateway_for(provider.url))
    # Then the proxy was given them (basic auth, unescaped), and the call went through it
    assert proxy.proxy_credentials == ["Basic " + base64.b64encode(b"ops:s@cret").decode()]


@pytest.mark.parametrize("gateway_for", [_gocardless, _stripe], ids=["gocardless", "stripe"])
def test_no_proxy_at_start_exempts_the_providers_host(
        serve: Any, monkeypatch: pytest.MonkeyPatch, gateway_for: Any) -> None:
    # Given a proxy, and NO_PROXY naming the provider's host, when the gateway is built
    proxy, provider = serve(_body_for(gateway_for)), serve(_body_for(gateway_for))
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    gateway = gateway_for(provider.url)
    # When it calls the provider
    _ask(gateway)
    # Then the call went straight to the provider
    assert proxy.seen == []
    assert len(provider.seen) == 1


def test_the_stripe_client_reports_network_faults_as_the_sdks_own_clients_do(
        serve: Any) -> None:
    client = CurlClient("http://127.0.0.1:9", timeout=2)
    # Nothing listening: no answer, so the same request may be sent again
    with pytest.raises(stripe.APIConnectionError) as refused:
        client.request("get", "http://127.0.0.1:9/v1/payment_intents", {})
    assert refused.value.should_retry
    # A certificate that does not verify (here: no TLS at all): never sent again
    server = serve(SEARCH)
    with pytest.raises(stripe.APIConnectionError) as untrusted:
        client.request("get", server.url.replace("http:", "https:") + "/v1/charges", {})
    assert not untrusted.value.should_retry
    assert "SSL" in str(untrusted.value)
