"""Fault injection for the API routes (never `/_sim/*`): a raw ASGI middleware.

Faults, per request, in this order of precedence: the `script` (a list consumed one request at
a time, for deterministic tests), then the seeded random rates. Kinds:

- `error`: 500 `{"error": {"type": "gocardless", ...}}`, nothing committed.
- `rate_limit`: 429 with `Retry-After` (body as the rate_limit_exceeded fixture), nothing
  committed.
- `timeout`: the request hangs `hang_seconds` and is then served (and committed) anyway: a slow
  server; the client has given up long before.
- `drop`: the request is served and committed, then the connection is closed without a
  response ("commit then drop the connection").
- `none`: (script only) no fault for this request.

`latency_ms` is added to every API request (asyncio.sleep, the loop keeps serving).
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.simulators.gocardless import errors

KINDS = ("error", "rate_limit", "timeout", "drop", "none")


@dataclass(frozen=True)
class FaultConfig:
    latency_ms: int = 0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    retry_after_seconds: int = 1
    timeout_rate: float = 0.0
    hang_seconds: float = 2.0
    drop_rate: float = 0.0
    #: Faults for the next matching requests, in order, before the rates apply.
    script: tuple[str, ...] = ()
    #: Only requests with these methods / path prefixes are faulted (empty: all API requests).
    methods: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.script) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; use {KINDS}")

    @classmethod
    def from_json(cls, payload: dict[str, Any], base: FaultConfig | None = None) -> FaultConfig:
        names = {f.name for f in fields(cls)}
        unknown = set(payload) - names
        if unknown:
            raise ValueError(f"unknown fault settings {sorted(unknown)}")
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                                  for k, v in payload.items()}
        return replace(base or cls(), **values)

    def as_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


@dataclass
class FaultInjector:
    """Chooses the fault for each request; thread-safe, seeded, counts what it did."""

    config: FaultConfig = field(default_factory=FaultConfig)
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.config.seed)
        self._script = list(self.config.script)

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)
            self._script = list(config.script)

    def choose(self, method: str, path: str) -> str | None:
        with self._lock:
            self.counts["requests"] += 1
            cfg = self.config
            if (cfg.methods and method not in cfg.methods) or (
                    cfg.paths and not any(path.startswith(p) for p in cfg.paths)):
                return None
            kind: str | None = self._script.pop(0) if self._script else None
            if kind is None:
                roll = self._rng.random()
                for name, rate in (("error", cfg.error_rate), ("rate_limit", cfg.rate_limit_rate),
                                   ("timeout", cfg.timeout_rate), ("drop", cfg.drop_rate)):
                    if roll < rate:
                        kind = name
                        break
                    roll -= rate
            if kind in (None, "none"):
                return None
            self.counts[kind] += 1
            return kind


async def _send_error(send: Send, error: errors.SimError) -> None:
    body = json.dumps(error.body()).encode()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _drop_connection(send: Send) -> None:
    # uvicorn's `send` is bound to the request cycle that owns the socket: closing it sends no
    # response at all, so the client sees "connection closed" (requests.ConnectionError).
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionAbortedError("simulated dropped connection")
    transport.close()
    for _ in range(3):  # let connection_lost run, so uvicorn knows nobody is listening
        await asyncio.sleep(0)


class FaultMiddleware:
    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sim"):
            await self.app(scope, receive, send)
            return
        kind = self.injector.choose(scope["method"], scope["path"])
        cfg = self.injector.config
        if cfg.latency_ms:
            await asyncio.sleep(cfg.latency_ms / 1000)
        if kind == "error":
            await _send_error(send, errors.internal_error())
        elif kind == "rate_limit":
            await _send_error(send, errors.rate_limited(cfg.retry_after_seconds))
        elif kind == "drop":
            async def discard(message: Message) -> None:
                return None
            await self.app(scope, receive, discard)
            await _drop_connection(send)
        else:
            if kind == "timeout":
                await asyncio.sleep(cfg.hang_seconds)
            await self.app(scope, receive, send)
