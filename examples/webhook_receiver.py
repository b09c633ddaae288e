"""A receiver of Paycollect's events (Python standard library only): verify, deduplicate, act.

    PAYCOLLECT_WEBHOOK_SECRETS=whsec_… python examples/webhook_receiver.py 8000

Verify the signature over the raw body before parsing it; refuse a timestamp more than five
minutes away (a replay); accept any `v1=` that matches any of your secrets (two during a
rotation); compare in constant time. Paycollect delivers at least once: keep the ids of the
events you processed (here a set; in production a table with a unique key, written in the
same transaction as what the event makes you do) and answer 2xx to one you already have.
Order an account's events by `sequence`, not by arrival.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_SECONDS = 300


def verified(header: str, body: bytes, secrets: list[str], now: float) -> bool:
    fields = [part.strip().split("=", 1) for part in header.split(",") if "=" in part]
    stamp = next((value for key, value in fields if key == "t"), "")
    if not stamp.isdigit() or abs(now - int(stamp)) > TOLERANCE_SECONDS:
        return False
    for secret in secrets:
        expected = hmac.new(secret.encode(), stamp.encode() + b"." + body,
                            hashlib.sha256).hexdigest()
        if any(key == "v1" and hmac.compare_digest(expected, value) for key, value in fields):
            return True
    return False


class Receiver:
    """What the HTTP handler does with one request: its status code."""

    def __init__(self, secrets: list[str], on_event: Callable[[dict[str, Any]], None],
                 now: Callable[[], float] = time.time) -> None:
        self.secrets, self.on_event, self.now = secrets, on_event, now
        self.seen: set[str] = set()
        self._lock = threading.Lock()

    def handle(self, signature: str, body: bytes) -> int:
        if not verified(signature, body, self.secrets, self.now()):
            return 400
        event = json.loads(body)
        with self._lock:  # one at a time: a duplicate arriving meanwhile waits, then is seen
            if event["id"] not in self.seen:
                self.on_event(event)
                self.seen.add(event["id"])
        return 200


def handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server's name for it
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(receiver.handle(self.headers.get("Paycollect-Signature", ""),
                                               body))
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    return Handler


if __name__ == "__main__":
    keys = os.environ["PAYCOLLECT_WEBHOOK_SECRETS"].split(",")
    app = Receiver(keys, on_event=lambda e: print(e["sequence"], e["type"], e["id"]))
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    ThreadingHTTPServer(("127.0.0.1", port), handler_for(app)).serve_forever()
