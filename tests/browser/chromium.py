"""Debian's chromium for the browser tests, driven by Playwright (its bundled driver; the
browser is the system's: nothing is downloaded).

Outside CI a missing browser skips the tests with the command that installs it; with
CI=true it fails them (`.ci/run` installs it when missing), so CI never passes by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = "install it with: apt-get install -y chromium chromium-driver"

#: The machine has no network: without these chromium stalls on background connections
#: (updates, sync, QUIC probes); --no-sandbox because CI runs as root in a container.
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]


def require_chromium(path: Path = CHROMIUM) -> Path:
    """`path` if chromium is there; else skip (outside CI) or fail (CI=true) the test."""
    if path.exists():
        return path
    message = f"chromium is not installed at {path}; {INSTALL_HINT}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    # Outside CI only, on a machine without chromium: CI (CI=true, set by .ci/run, which
    # installs chromium first) fails above instead, so it always runs the browser tests
    # (tests/unit/test_browser_guard.py pins both sides).
    pytest.skip(message)
