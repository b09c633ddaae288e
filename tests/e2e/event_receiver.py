"""A business's webhook receiver for tests: examples/webhook_receiver.py served on 127.0.0.1,
with faults scripted in front of it (answer 500, or answer after the sender gave up)."""

from __future__ import annotations

import importlib.util
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "webhook_receiver.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("webhook_receiver_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FlakyReceiver:
    """Serves the example receiver; `faults` are used up one per request, in order:
    "500" answers 500 before looking at the event, "slow" handles it then answers after
    `slow_seconds` (the sender has timed out by then)."""

    def __init__(self, *, secret: str, now: Callable[[], float], faults: list[str],
                 slow_seconds: float = 1.5) -> None:
        example = load_example()
        self.events: list[dict[str, Any]] = []
        self.receiver = example.Receiver([secret], on_event=self.events.append, now=now)
        self.faults, self.slow_seconds = list(faults), slow_seconds
        self.requests: list[tuple[str, int]] = []  # (event id header, status answered)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/paycollect"

    def __enter__(self) -> FlakyReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_fault(self) -> str | None:
        with self._lock:
            return self.faults.pop(0) if self.faults else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                fault = outer._next_fault()
                if fault == "500":
                    status = 500
                else:
                    status = outer.receiver.handle(
                        self.headers.get("Paycollect-Signature", ""), body)
                    if fault == "slow":
                        time.sleep(outer.slow_seconds)
                outer.requests.append((self.headers.get("Paycollect-Event-Id", ""), status))
                self.send_response(status)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        return Handler


def closed_port_url() -> str:
    """A loopback URL nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/down"
