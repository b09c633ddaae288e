"""examples/webhook_receiver.py, the receiver the docs show, against Paycollect's signer:
over real HTTP on 127.0.0.1, it accepts a signed event once and refuses what is not signed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from adapters.event_sender import HttpEventSender
from domain.webhook_signing import HEADER, sign_header
from tests.e2e.event_receiver import load_example

NOW = 1_780_000_000


@pytest.fixture
def served() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    example = load_example()
    received: list[dict[str, Any]] = []
    receiver = example.Receiver(["whsec_old", "whsec_new"], on_event=received.append,
                                now=lambda: NOW)
    server = ThreadingHTTPServer(("127.0.0.1", 0), example.handler_for(receiver))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", received
    server.shutdown()
    server.server_close()


def post(url: str, body: bytes, signature: str) -> int | None:
    """Through Paycollect's own sender (the adapter the delivery drain uses)."""
    return HttpEventSender().send(url=url, body=body, headers={HEADER: signature},
                                  timeout=5).status


def test_the_example_receiver_acts_on_a_signed_event_once_however_often_it_comes(
        served: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = served
    body = json.dumps({"id": "evt_1", "type": "invoice.paid", "sequence": 1}).encode()
    signature = sign_header(["whsec_new"], timestamp=NOW, body=body)
    # When the same event is delivered twice (a retry after a lost answer)
    assert post(url, body, signature) == 200
    assert post(url, body, signature) == 200
    # Then it was acted on once
    assert [event["id"] for event in received] == ["evt_1"]


def test_the_example_receiver_refuses_a_tampered_stale_or_unsigned_event(
        served: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = served
    body = json.dumps({"id": "evt_2", "type": "invoice.paid"}).encode()
    good = sign_header(["whsec_old"], timestamp=NOW, body=body)
    assert post(url, body.replace(b"paid", b"void"), good) == 400
    assert post(url, body, sign_header(["whsec_old"], timestamp=NOW - 301, body=body)) == 400
    assert post(url, body, sign_header(["whsec_unknown"], timestamp=NOW, body=body)) == 400
    assert post(url, body, "") == 400
    assert received == []
