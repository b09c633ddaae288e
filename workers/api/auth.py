"""Bearer keys of the /v1 API: `Authorization: Bearer <key>`, keys from PAYCOLLECT_API_KEYS.

Several keys may be configured at once (comma-separated) so a key can be rotated without
downtime. With none configured the API refuses every call with 503 saying what to set: an
unconfigured deployment is closed, never open. Keys are compared in constant time and never
logged.
"""

from __future__ import annotations

import hmac

from fastapi import Request

from workers.api.context import api_context
from workers.api.errors import ApiError


def matching_key(keys: tuple[str, ...], authorization: str) -> str | None:
    """The configured key an `Authorization` header carries, or None."""
    scheme, _, given = authorization.partition(" ")
    given_bytes = given.strip().encode()
    if scheme.lower() != "bearer":
        return None
    # Every key is compared (no early exit), so the timing does not say which one matched.
    matched = [key for key in keys if hmac.compare_digest(given_bytes, key.encode())]
    return matched[0] if matched else None


def require_api_key(request: Request) -> None:
    """FastAPI dependency: raise unless the request carries one of the configured keys."""
    keys = api_context(request).settings.api_keys
    if not keys:
        raise ApiError(503, "not_configured",
                       "the API has no key configured: set PAYCOLLECT_API_KEYS")
    if matching_key(keys, request.headers.get("authorization", "")) is None:
        raise ApiError(401, "unauthorized", "missing or wrong API key (Authorization: Bearer)",
                       headers={"WWW-Authenticate": "Bearer"})
