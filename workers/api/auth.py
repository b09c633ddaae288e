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


def require_api_key(request: Request) -> None:
    """FastAPI dependency: raise unless the request carries one of the configured keys."""
    keys = api_context(request).settings.api_keys
    if not keys:
        raise ApiError(503, "not_configured",
                       "the API has no key configured: set PAYCOLLECT_API_KEYS")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    given_bytes = given.strip().encode()
    if scheme.lower() != "bearer" or not any(
            hmac.compare_digest(given_bytes, key.encode()) for key in keys):
        raise ApiError(401, "unauthorized", "missing or wrong API key (Authorization: Bearer)",
                       headers={"WWW-Authenticate": "Bearer"})
