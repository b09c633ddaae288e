"""The libcurl pool both provider SDKs send through, against real loopback servers: what it
sends (method, body, no `Expect: 100-continue` wait), what it answers (status, headers by any
case, body), and the three kinds of fault the gateways tell apart (nothing connected, no answer
in time, the connection broken mid-answer), after which the pool still serves."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from adapters.curl_transport import (
    CertificateRejected,
    CurlPool,
    NoAnswer,
    TimedOut,
    TransportFault,
    Unreachable,
)

#: The proxy variables are unset for each test: a test sets what it needs.
pytestmark = pytest.mark.usefixtures("without_proxy_variables")


class Echo(ThreadingHTTPServer):
    """Answers 201 with what it was sent: method, path, headers, body."""

    daemon_threads = True

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        super().__init__(("127.0.0.1", 0), _EchoHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_expect_100(self) -> bool:
        self.server.seen.append({"expect": True})  # type: ignore[attr-defined]
        return super().handle_expect_100()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append({  # type: ignore[attr-defined]
            "method": self.command, "path": self.path, "body": body,
            "headers": dict(self.headers), "port": self.client_address[1]})
        answer = b'{"ok": true}'
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Request-Id", "req_123")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:  # the base class names it format
        pass


@pytest.fixture
def echo() -> Iterator[Echo]:
    server = Echo()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def misbehaving() -> Iterator[Any]:
    """A raw TCP server whose every connection runs `behaviour(conn)`."""
    sockets: list[socket.socket] = []

    def start(behaviour: Any) -> str:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        sockets.append(listener)

        def accept() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                threading.Thread(target=behaviour, args=(conn,), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    for listener in sockets:
        listener.close()


def test_a_reply_carries_status_headers_in_any_case_and_body(echo: Echo) -> None:
    pool = CurlPool(echo.url, timeout=5)
    reply = pool.request("get", f"{echo.url}/v1/things?limit=1", {"Authorization": "Bearer k"})
    assert reply.status == 201
    assert reply.body == b'{"ok": true}'
    assert reply.headers["request-id"] == reply.headers["Request-Id"] == "req_123"
    assert echo.seen[0]["method"] == "GET"
    assert echo.seen[0]["path"] == "/v1/things?limit=1"
    assert echo.seen[0]["headers"]["Authorization"] == "Bearer k"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_a_body_goes_with_its_method_whole_and_without_waiting_to_continue(
        echo: Echo, method: str) -> None:
    # Given a body over the size past which libcurl would otherwise ask to continue first
    # (1 KiB before libcurl 8.2, 1 MiB since)
    body = "amount=1500&" + "metadata[note]=" + "x" * (1 << 20)
    pool = CurlPool(echo.url, timeout=5)
    reply = pool.request(method, f"{echo.url}/v1/payment_intents", {
        "Content-Type": "application/x-www-form-urlencoded"}, body)
    assert reply.status == 201
    seen = echo.seen[-1]
    assert seen["method"] == method
    assert seen["body"] == body.encode()
    assert "Expect" not in seen["headers"]
    assert {"expect": True} not in echo.seen
    assert seen["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


def test_one_connection_serves_one_thread_and_the_methods_do_not_leak(echo: Echo) -> None:
    # Given one pool, a DELETE then a GET on the same handle
    pool = CurlPool(echo.url, timeout=5)
    pool.request("DELETE", f"{echo.url}/a", {}, "{}")
    pool.request("GET", f"{echo.url}/b", {})
    pool.request("POST", f"{echo.url}/c", {}, b"x=1")
    # Then each went as its own method, over one kept-alive connection
    assert [s["method"] for s in echo.seen] == ["DELETE", "GET", "POST"]
    assert echo.seen[1]["body"] == b""
    assert len({s["port"] for s in echo.seen}) == 1


def test_a_proxy_set_after_the_pool_was_built_is_not_used(
        echo: Echo, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a pool built with no proxy in the environment
    pool = CurlPool(echo.url, timeout=5)
    # When one appears afterwards (libcurl would read http_proxy itself on every request)
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    # Then the request still goes straight to the server
    assert pool.request("GET", f"{echo.url}/direct", {}).status == 201


def test_nothing_listening_is_unreachable_and_may_be_sent_again() -> None:
    pool = CurlPool("http://127.0.0.1:9", timeout=2)
    with pytest.raises(Unreachable) as fault:
        pool.request("POST", "http://127.0.0.1:9/v1/payment_intents", {}, "a=1")
    assert fault.value.retryable


def test_a_server_that_never_answers_times_out_within_the_timeout(misbehaving: Any) -> None:
    # Given a server that reads the request and never answers
    url = misbehaving(lambda conn: (conn.recv(65536), time.sleep(5), conn.close()))
    pool = CurlPool(url, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(TimedOut) as fault:
        pool.request("POST", f"{url}/v1/payment_intents", {}, "a=1")
    # Then the call gave up at about its timeout, and may be sent again (same key)
    assert time.monotonic() - started < 3
    assert fault.value.retryable


def test_a_connection_broken_mid_answer_is_no_answer_and_the_pool_serves_on(
        misbehaving: Any, echo: Echo) -> None:
    # Given a server that starts an answer and hangs up before its body is whole
    def half(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"id\"")
        conn.close()

    url = misbehaving(half)
    pool = CurlPool(url, timeout=5)
    with pytest.raises(NoAnswer) as fault:
        pool.request("POST", f"{url}/v1/payment_intents", {}, "a=1")
    # Then it is a fault the request may be sent again after (it may have been acted on: the
    # idempotency key makes that safe), and the pool's handle serves the next request
    assert fault.value.retryable
    assert isinstance(fault.value, TransportFault)
    assert pool.request("GET", f"{echo.url}/after", {}).status == 201


def test_a_tls_handshake_that_fails_is_not_worth_sending_again(echo: Echo) -> None:
    pool = CurlPool(echo.url.replace("http:", "https:"), timeout=2)
    with pytest.raises(TransportFault) as fault:
        pool.request("GET", echo.url.replace("http:", "https:") + "/v1/charges", {})
    assert not fault.value.retryable


def test_threads_share_the_handles_and_each_gets_its_own_answer(echo: Echo) -> None:
    pool = CurlPool(echo.url, timeout=5, pool_size=2)
    answers: list[int] = []

    def call(n: int) -> None:
        for i in range(5):
            answers.append(pool.request("POST", f"{echo.url}/{n}/{i}", {}, f"n={n}").status)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [201] * 30
    assert sorted(s["path"] for s in echo.seen) == sorted(
        f"/{n}/{i}" for n in range(6) for i in range(5))
    # No more handles are kept than the pool's size
    assert len(pool._idle) <= 2


def test_a_kept_alive_connection_that_dies_unanswered_is_resent_once_on_a_fresh_one(
        misbehaving: Any) -> None:
    # Given a server that answers a connection's first request, keeps it alive, and closes it
    # on reading the second without a word (its idle timeout racing our reuse, or a crash)
    requests_seen: list[bytes] = []

    def answer_once_then_hang_up(conn: socket.socket) -> None:
        for answered in range(2):
            request = conn.recv(65536)
            if not request:
                break
            requests_seen.append(request)
            if answered:
                break
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        conn.close()

    url = misbehaving(answer_once_then_hang_up)
    pool = CurlPool(url, timeout=5)
    assert pool.request("POST", f"{url}/first", {"Idempotency-Key": "k1"}, "a=1").status == 200
    # When the next request goes on that connection
    reply = pool.request("POST", f"{url}/second", {"Idempotency-Key": "k2"}, "a=2")
    # Then libcurl sent it again, once, on a fresh connection (it does this for any request on
    # a reused connection that got no byte back, with no option to stop it): the same request,
    # the same idempotency key, which is why every POST the SDKs send carries one. It is not
    # one of the gateway's counted tries.
    assert reply.status == 200
    second = [r for r in requests_seen if r.startswith(b"POST /second")]
    assert len(second) == 2
    assert all(b"Idempotency-Key: k2" in r for r in second)


@pytest.fixture
def tls_echo(tmp_path: Path) -> Iterator[tuple[Echo, Path]]:
    """The echo server over TLS with a self-signed certificate for 127.0.0.1 (made by the
    openssl command), and the certificate's path: the CA a client must be told to trust."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    openssl = shutil.which("openssl")
    assert openssl, "the openssl command (Debian's openssl package) makes the test certificate"
    command = [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
               "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
               "-keyout", str(key), "-out", str(cert)]
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603  # fixed arguments
    server = Echo()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, cert
    server.shutdown()
    server.server_close()


def test_https_verifies_against_the_ca_bundle_the_environment_named_at_start(
        tls_echo: tuple[Echo, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    server, cert = tls_echo
    url = server.url.replace("http:", "https:")
    # Given a pool built while REQUESTS_CA_BUNDLE names the server's CA, as requests reads it
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    trusting = CurlPool(url, timeout=5)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    # And one built without it (the certifi bundle: the server's CA is not in it)
    default = CurlPool(url, timeout=5)
    # Then the first talks to the server over TLS, even after the variable is gone
    assert trusting.request("POST", f"{url}/v1/payment_intents", {}, "a=1").status == 201
    assert server.seen[-1]["body"] == b"a=1"
    # And the second refuses the certificate, a fault never worth sending again
    with pytest.raises(CertificateRejected) as fault:
        default.request("POST", f"{url}/v1/payment_intents", {}, "a=1")
    assert not fault.value.retryable
    # And a CA given by the caller (the Stripe SDK's own bundle) wins over the environment's
    assert CurlPool(url, timeout=5, ca_certs=str(cert)).request(
        "GET", f"{url}/v1/charges", {}).status == 201
