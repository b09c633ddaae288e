"""Fault injection: what goes wrong between our client and "Stripe", reproducibly.

Each API request (paths under /v1/, methods in `methods`) draws at most one fault. A
`script` of fault names is consumed first, one per request, in order ("none" lets a request
through); after that the seeded random draws decide. Faults:

- `error`: 500 `api_error` before anything executes (nothing is stored).
- `rate_limit`: 429 with `Retry-After` before anything executes.
- `timeout`: the request executes and is stored under its idempotency key, then the response
  stalls for `timeout_stall_seconds` (longer than the client's timeout).
- `drop`: the request executes and is stored, then the connection is cut before the body:
  the client sees a connection error although the payment exists.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

FAULTS = ("error", "rate_limit", "timeout", "drop")


@dataclass(frozen=True)
class FaultConfig:
    latency_ms: float = 0.0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    #: Seconds sent in the 429's Retry-After header.
    retry_after_seconds: int = 1
    timeout_rate: float = 0.0
    timeout_stall_seconds: float = 30.0
    drop_rate: float = 0.0
    seed: int = 0
    #: Faults forced on the next requests, in order (names from FAULTS, or "none").
    script: tuple[str, ...] = ()
    #: HTTP methods faults apply to; ("POST",) keeps reads (reconciliation) clean.
    methods: tuple[str, ...] = ("GET", "POST")

    def __post_init__(self) -> None:
        unknown = set(self.script) - set(FAULTS) - {"none"}
        if unknown:
            raise ValueError(f"unknown faults in script: {sorted(unknown)}")
        rates = (self.error_rate, self.rate_limit_rate, self.timeout_rate, self.drop_rate)
        if any(r < 0 for r in rates) or sum(rates) > 1:
            raise ValueError("fault rates must be >= 0 and sum to at most 1")


class FaultInjector:
    """Draws faults for requests; its config can change at runtime (POST /_sim/faults)."""

    def __init__(self, config: FaultConfig) -> None:
        self._lock = threading.Lock()
        self.config = config
        self._rng = random.Random(config.seed)
        self._script: deque[str] = deque(config.script)

    def update(self, changes: dict[str, Any]) -> FaultConfig:
        """Apply a partial change; a new `seed` reseeds, a new `script` replaces the queue."""
        if "script" in changes:
            changes = {**changes, "script": tuple(changes["script"])}
        if "methods" in changes:
            changes = {**changes, "methods": tuple(m.upper() for m in changes["methods"])}
        with self._lock:
            self.config = dataclasses.replace(self.config, **changes)
            if "seed" in changes:
                self._rng = random.Random(self.config.seed)
            if "script" in changes:
                self._script = deque(self.config.script)
            return self.config

    def draw(self, method: str) -> str | None:
        with self._lock:
            config = self.config
            if method not in config.methods:
                return None
            if self._script:
                name = self._script.popleft()
                return None if name == "none" else name
            roll = self._rng.random()
            for name, rate in zip(FAULTS, (config.error_rate, config.rate_limit_rate,
                                           config.timeout_rate, config.drop_rate), strict=True):
                if roll < rate:
                    return name
                roll -= rate
            return None

    def as_json(self) -> dict[str, Any]:
        with self._lock:
            data = dataclasses.asdict(self.config)
            data["script_remaining"] = list(self._script)
            return data
