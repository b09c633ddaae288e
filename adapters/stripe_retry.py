"""Re-sending Stripe calls that failed transiently, with the same idempotency key.

Timeouts, connection errors, 409 (a concurrent request with the same key), 5xx and 429 are
retried with exponential backoff and full jitter; a 429's Retry-After is a floor for the wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import stripe
import tenacity
from tenacity.wait import wait_base

T = TypeVar("T")


def is_transient(exc: BaseException) -> bool:
    """Worth re-sending with the same key: no answer, rate limited, 409 or a server error."""
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError):
        return True
    if isinstance(exc, stripe.APIError):
        return exc.http_status is None or exc.http_status == 409 or exc.http_status >= 500
    return False


def _retry_after(exc: BaseException | None) -> float | None:
    if not isinstance(exc, stripe.RateLimitError) or not exc.headers:
        return None
    value = exc.headers.get("Retry-After") or exc.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class _HonourRetryAfter(wait_base):
    """The base backoff, but never less than a 429's Retry-After (capped)."""

    def __init__(self, base: wait_base, cap: float) -> None:
        self.base, self.cap = base, cap

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        waited = self.base(retry_state)
        outcome = retry_state.outcome
        hint = _retry_after(outcome.exception() if outcome is not None else None)
        return waited if hint is None else max(waited, min(hint, self.cap))


@dataclass(frozen=True)
class TransientRetry:
    """How many times and how patiently to re-send a call that failed transiently.

    Tests inject `wait=tenacity.wait_none()` and a recording `sleep`: nothing really sleeps.
    """

    attempts: int = 4
    #: Exponential backoff with full jitter (0.5 s, 1 s, 2 s… up to 8 s).
    wait: wait_base = field(
        default_factory=lambda: tenacity.wait_random_exponential(multiplier=0.5, max=8))
    sleep: Callable[[float], None] = time.sleep
    max_retry_after_seconds: float = 30.0

    def run(self, call: Callable[[], T]) -> T:
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=_HonourRetryAfter(self.wait, self.max_retry_after_seconds),
            retry=tenacity.retry_if_exception(is_transient), sleep=self.sleep, reraise=True)
        return retrying(call)
