"""Provider HTTP over libcurl (pycurl): kept-alive connections, a request's work in C.

Both provider SDKs are given a client that sends through a `CurlPool`. Per request, urllib3
and `http.client` spent about 345 µs of CPU in Python (building the request, parsing the
status line and headers, the connection pool's bookkeeping) where libcurl spends about 110:
on the hot path a card charge or a debit is one request, so this is a tenth of the workers'
CPU per invoice (README, "Benchmarks").

What the pool keeps from the urllib3 one it replaces (`tests/integration/test_http_sessions.py`):
- the environment's proxy (with the credentials in its URL; SOCKS too), CA bundle or
  directory and client certificate for the base URL, read once when it is built
  (`EnvironmentSettings`, as `requests` reads them, so NO_PROXY applies); libcurl's own
  reading of the proxy variables on every request is switched off;
- connections kept alive and shared between threads: a Curl handle serves one request at a
  time and goes back to a free list, its connection with it;
- no redirects followed and nothing sent again by this layer on an error: the gateways' retry
  policies decide, with the same idempotency key. One exception is libcurl's own and cannot
  be switched off: a request on a kept-alive connection that died before a byte of answer
  came back is sent once more on a fresh connection. That is safe because both SDKs put an
  idempotency key on every POST (the rest are reads and updates), and it is not one of the
  gateway's counted tries;
- faults as three kinds: no connection made (`Unreachable`), no answer in time (`TimedOut`),
  a certificate that did not verify (`CertificateRejected`), anything else `TransportFault`.

Timeouts: `timeout` to connect, and `timeout` for the whole request (libcurl's is a total
where urllib3's was per read: stricter, and a provider that trickles an answer cannot hold a
thread longer than that).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import certifi
import pycurl
import requests
from urllib3 import HTTPHeaderDict


@dataclass(frozen=True)
class EnvironmentSettings:
    """What `requests` would take from the environment for one base URL."""

    proxies: dict[str, str]
    verify: bool | str
    cert: str | tuple[str, str] | None

    @classmethod
    def read(cls, base_url: str) -> EnvironmentSettings:
        found = requests.Session().merge_environment_settings(base_url, {}, None, None, None)
        return cls(proxies=dict(found["proxies"]), verify=found["verify"], cert=found["cert"])


class TransportFault(Exception):
    """The request failed below HTTP; `code` is libcurl's error number. `retryable`: whether
    the same request (same idempotency key) may simply be sent again."""

    retryable = False

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"curl error {code}: {message}")
        self.code = code


class Unreachable(TransportFault):
    """No connection was made (refused, no route, name or proxy not resolved): nothing was
    sent."""

    retryable = True


class TimedOut(TransportFault):
    """No answer in time, connecting or waiting for the response."""

    retryable = True


class NoAnswer(TransportFault):
    """The connection broke before a whole answer came: the request may have been acted on."""

    retryable = True


class CertificateRejected(TransportFault):
    """The TLS handshake failed or the server's certificate did not verify: never worth
    sending again."""


_KINDS: dict[int, type[TransportFault]] = {
    pycurl.E_COULDNT_CONNECT: Unreachable,
    pycurl.E_COULDNT_RESOLVE_HOST: Unreachable,
    pycurl.E_COULDNT_RESOLVE_PROXY: Unreachable,
    97: Unreachable,  # CURLE_PROXY: the proxy refused or broke the handshake
    pycurl.E_OPERATION_TIMEDOUT: TimedOut,
    pycurl.E_GOT_NOTHING: NoAnswer,
    pycurl.E_RECV_ERROR: NoAnswer,
    pycurl.E_SEND_ERROR: NoAnswer,
    pycurl.E_PARTIAL_FILE: NoAnswer,
    pycurl.E_PEER_FAILED_VERIFICATION: CertificateRejected,
    pycurl.E_SSL_CACERT_BADFILE: CertificateRejected,
    pycurl.E_SSL_CONNECT_ERROR: CertificateRejected,
}


@dataclass(frozen=True)
class Reply:
    """A whole HTTP response: status, headers (case-insensitive), body."""

    status: int
    headers: HTTPHeaderDict
    body: bytes


class _Headers:
    """Collects a response's header lines; a new status line (a proxy's CONNECT answer, a
    100 Continue) starts over."""

    __slots__ = ("lines",)

    def __init__(self) -> None:
        self.lines: list[bytes] = []

    def __call__(self, line: bytes) -> None:
        if line.startswith(b"HTTP/"):
            self.lines.clear()
        else:
            self.lines.append(line)

    def parsed(self) -> HTTPHeaderDict:
        headers = HTTPHeaderDict()
        for line in self.lines:
            name, sep, value = line.decode("latin-1").partition(":")
            if sep:
                headers.add(name.strip(), value.strip())
        return headers


class CurlPool:
    """Sends requests for one provider; safe to call from many threads at once."""

    def __init__(self, base_url: str, *, timeout: float, ca_certs: str | None = None,
                 pool_size: int = 128) -> None:
        self._timeout_ms = max(int(timeout * 1000), 1)
        self._pool_size = pool_size
        self._idle: list[pycurl.Curl] = []
        self._options = _options_for(base_url, ca_certs)

    def request(self, method: str, url: str, headers: Mapping[str, str],
                body: bytes | str | None = None) -> Reply:
        try:
            curl = self._idle.pop()  # list.pop/append are atomic: the free list needs no lock
        except IndexError:
            curl = pycurl.Curl()
        try:
            return self._perform(curl, method.upper(), url, headers, body)
        finally:
            if len(self._idle) < self._pool_size:
                self._idle.append(curl)
            else:
                curl.close()

    def _perform(self, curl: pycurl.Curl, method: str, url: str,
                 headers: Mapping[str, str], body: bytes | str | None) -> Reply:
        # reset() keeps the handle's live connection; every option is set again below.
        curl.reset()
        for option, value in self._options:
            curl.setopt(option, value)
        curl.setopt(pycurl.CONNECTTIMEOUT_MS, self._timeout_ms)
        curl.setopt(pycurl.TIMEOUT_MS, self._timeout_ms)
        curl.setopt(pycurl.URL, url)
        # "Expect:" stops libcurl waiting for a 100 Continue before a large body (over 1 KiB
        # before libcurl 8.2, 1 MiB since).
        curl.setopt(pycurl.HTTPHEADER, [f"{k}: {v}" for k, v in headers.items()] + ["Expect:"])
        if method == "GET" and body is None:
            curl.setopt(pycurl.HTTPGET, 1)
        else:
            if method != "POST":
                curl.setopt(pycurl.CUSTOMREQUEST, method)
            data = body.encode() if isinstance(body, str) else (body or b"")
            curl.setopt(pycurl.POSTFIELDSIZE, len(data))
            curl.setopt(pycurl.POSTFIELDS, data)
        received, header_lines = BytesIO(), _Headers()
        curl.setopt(pycurl.WRITEDATA, received)
        curl.setopt(pycurl.HEADERFUNCTION, header_lines)
        try:
            curl.perform()
        except pycurl.error as error:
            code, message = error.args
            raise _KINDS.get(code, TransportFault)(code, message) from None
        return Reply(status=curl.getinfo(pycurl.RESPONSE_CODE),
                     headers=header_lines.parsed(), body=received.getvalue())

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


def _options_for(base_url: str, ca_certs: str | None) -> list[tuple[int, Any]]:
    """The options every request for `base_url` carries: the environment's settings read now
    (its proxy, CA bundle or directory unless `ca_certs`, client certificate), no signals
    (threads), HTTP/1.1, no redirects."""
    settings = EnvironmentSettings.read(base_url)
    options: list[tuple[int, Any]] = [
        (pycurl.NOSIGNAL, 1),
        (pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1),
        (pycurl.FOLLOWLOCATION, 0),
    ]
    if settings.verify is False:
        options += [(pycurl.SSL_VERIFYPEER, 0), (pycurl.SSL_VERIFYHOST, 0)]
    else:
        bundle = ca_certs or (settings.verify if isinstance(settings.verify, str)
                              else certifi.where())
        options.append((pycurl.CAPATH if os.path.isdir(bundle) else pycurl.CAINFO, bundle))
    if isinstance(settings.cert, str):
        options.append((pycurl.SSLCERT, settings.cert))
    elif settings.cert:
        options += [(pycurl.SSLCERT, settings.cert[0]), (pycurl.SSLKEY, settings.cert[1])]
    scheme = urlsplit(base_url).scheme or "https"
    proxy = settings.proxies.get(scheme) or settings.proxies.get("all")
    # "" rather than nothing: libcurl would read the proxy variables itself on each request.
    options.append((pycurl.PROXY, _without_credentials(proxy) if proxy else ""))
    if proxy:
        parts = urlsplit(proxy)
        if parts.username:
            options += [(pycurl.PROXYUSERNAME, unquote(parts.username)),
                        (pycurl.PROXYPASSWORD, unquote(parts.password or ""))]
    return options


def _without_credentials(proxy: str) -> str:
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
