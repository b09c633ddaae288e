"""Where the tests find PostgreSQL and Redis, and what happens when they are missing.

Outside CI a missing service skips the tests that need it, saying how to start it.
With CI=true a missing service fails the run: CI must never pass by skipping.
"""

from __future__ import annotations

import os
import socket

import pytest

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

START_HINTS = {
    "postgres": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "redis": ("redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' "
              "--appendonly no"),
}


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require(service: str, host: str = "127.0.0.1") -> None:
    """Skip (or, in CI, fail) unless `service` ("postgres" or "redis") answers on loopback."""
    port = {"postgres": 5432, "redis": 6379}[service]
    if _reachable(host, port):
        return
    message = f"{service} is not running on {host}:{port}; start it with: {START_HINTS[service]}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    # Outside CI only, on a machine without the service: CI (CI=true, set by .ci/run, which
    # starts both services first) fails above instead, so it always runs these tests
    # (tests/unit/test_services.py pins both sides).
    pytest.skip(message)
