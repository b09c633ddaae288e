"""GoCardless's error envelope, as the official SDK parses it (gocardless_pro/api_client.py).

`{"error": {"type", "code", "message", "errors": [...], "documentation_url", "request_id"}}`;
the SDK picks its exception from the status (401, 403, 429) and then from `type`
(`validation_failed`, `invalid_api_usage`, `invalid_state`, `gocardless`), and recognises an
idempotent creation conflict by `errors[].reason` with `links.conflicting_resource_id`.
"""

from __future__ import annotations

import itertools
from typing import Any

_DOCS = "https://developer.gocardless.com/api-reference#"
_request_ids = itertools.count(1)


class SimError(Exception):
    """An API error the app renders as GoCardless would."""

    def __init__(self, status: int, type_: str, reason: str, message: str,
                 errors: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.reason = reason
        self.message = message
        self.errors = errors if errors is not None else [{"reason": reason, "message": message}]
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {
            "type": self.type,
            "code": self.status,
            "message": self.message,
            "errors": self.errors,
            "documentation_url": _DOCS + self.reason,
            "request_id": f"{next(_request_ids):08x}-0000-4000-8000-000000000000",
        }}


def not_found(resource: str) -> SimError:
    return SimError(404, "invalid_api_usage", "resource_not_found",
                    f"Resource not found: {resource}")


def validation_failed(field: str, message: str, *, resource: str) -> SimError:
    # ValidationFailedError.__str__ formats field, message and request_pointer: all three needed.
    return SimError(422, "validation_failed", "validation_failed", "Validation failed",
                    [{"field": field, "message": message,
                      "request_pointer": f"/{resource}/{field}"}])


def invalid_state(reason: str, message: str) -> SimError:
    return SimError(422, "invalid_state", reason, message)


def idempotent_creation_conflict(resource_id: str) -> SimError:
    message = "A resource has already been created with this idempotency key"
    return SimError(409, "invalid_state", "idempotent_creation_conflict", message,
                    [{"message": message, "reason": "idempotent_creation_conflict",
                      "links": {"conflicting_resource_id": resource_id}}])


def rate_limited(retry_after_seconds: int) -> SimError:
    # Same body as tests/fixtures/providers/gocardless_error_rate_limit_exceeded.json.
    return SimError(429, "invalid_api_usage", "rate_limit_exceeded", "Rate limit exceeded",
                    headers={"Retry-After": str(retry_after_seconds),
                             "RateLimit-Limit": "1000", "RateLimit-Remaining": "0"})


def internal_error() -> SimError:
    return SimError(500, "gocardless", "internal_server_error",
                    "Uh-oh! Something went wrong. We have been notified; please retry.")
