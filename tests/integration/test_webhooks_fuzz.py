"""Property: whatever is posted to the webhook endpoints, never a 5xx and never a write."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from adapters.simulators.server import serve_in_thread
from domain.clock import ManualClock
from tests.integration.webhook_support import (
    GOCARDLESS_SECRET,
    STRIPE_SECRET,
    gocardless_headers,
    handler_deps,
    inbox_rows,
    stripe_headers,
)
from workers.config import Settings
from workers.webhook_app import create_webhook_app

#: Header values HTTP can carry (latin-1, no line breaks).
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=120)
header_names = st.sampled_from(["Stripe-Signature", "Webhook-Signature", "Content-Type",
                                "Content-Length-Not", "X-Anything"])
bodies = st.one_of(st.binary(max_size=2048),
                   st.text(max_size=512).map(str.encode),
                   st.sampled_from([b"{}", b"[]", b"null", b'{"events": 1}', b'{"events": [1]}',
                                    b'{"events": [{"id": 7}]}', b'{"id": "evt_1"}',
                                    b'{"id": "evt_1", "type": "x", "data": []}']))


@pytest.fixture
def http(uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> Iterator[httpx.Client]:
    settings = Settings(stripe_webhook_secrets=(STRIPE_SECRET,),
                        gocardless_webhook_secrets=(GOCARDLESS_SECRET,),
                        webhook_max_body_bytes=1024)
    app = create_webhook_app(handler_deps(uow_factory=uow_factory, clock=clock), settings,
                             enqueue=lambda provider, event_id: None)
    server = serve_in_thread(app)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client
    server.stop()


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["/webhooks/stripe", "/webhooks/gocardless"]), body=bodies,
       headers=st.dictionaries(header_names, header_text, max_size=3),
       sign_with_our_secret=st.booleans())
def test_random_bodies_and_headers_never_cause_a_5xx_or_a_write(
        http: httpx.Client, engine: Engine, path: str, body: bytes, headers: dict[str, str],
        sign_with_our_secret: bool) -> None:
    # Given a random body, random headers, and sometimes a genuine signature of that body
    if sign_with_our_secret:
        headers = {**headers, **(_stripe_signed(body) if path.endswith("stripe")
                                 else gocardless_headers(body))}
    # When it is posted
    # (HTTP strips the spaces around a header value; h11 refuses to send them.)
    raw = {name: value.strip(" \t").encode("latin-1") for name, value in headers.items()}
    response = http.post(path, content=body, headers=raw)
    # Then it is refused as a client error, and nothing is stored
    assert 400 <= response.status_code < 500
    assert inbox_rows(engine) == 0


def _stripe_signed(body: bytes) -> dict[str, str]:
    """Stripe's scheme, also over bytes that are not UTF-8 (which Stripe never sends)."""
    try:
        return stripe_headers(body)
    except UnicodeDecodeError:
        timestamp = int(time.time())
        digest = hmac.new(STRIPE_SECRET.encode(), f"{timestamp}.".encode() + body,
                          hashlib.sha256).hexdigest()
        return {"Stripe-Signature": f"t={timestamp},v1={digest}"}
