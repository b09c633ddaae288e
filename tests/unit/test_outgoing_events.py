"""Outgoing events, pure: signatures, the retry schedule, payload shapes, event names."""

from __future__ import annotations

import json
from datetime import timedelta
from random import Random

import pytest

from domain.accounts import Standing
from domain.clock import at_utc
from domain.delivery_backoff import GIVE_UP_AFTER, MAX_DELAY, delay, next_attempt_at
from domain.event_payloads import invoice_object, payment_object, standing_change
from domain.outcomes import DeclineKind
from domain.outgoing_events import OutgoingEvent, UnknownEventType, parse_event_types
from domain.payments import AttemptStatus
from domain.webhook_signing import SignatureError, sign_header, signature, verify
from tests.builders import an_attempt, an_invoice, eur

BODY = b'{"id":"evt_1","type":"invoice.paid"}'
NOW = 1_780_000_000


def test_a_signature_is_the_hmac_sha256_of_the_timestamp_a_dot_and_the_body() -> None:
    # Stripe's scheme, worked by hand with hashlib: HMAC-SHA256("whsec_k", "1780000000.<body>")
    import hashlib
    import hmac

    expected = hmac.new(b"whsec_k", b"1780000000." + BODY, hashlib.sha256).hexdigest()
    assert signature("whsec_k", timestamp=NOW, body=BODY) == expected
    assert sign_header(["whsec_k"], timestamp=NOW, body=BODY) == f"t={NOW},v1={expected}"


def test_a_signed_body_verifies_and_returns_its_timestamp() -> None:
    header = sign_header(["whsec_k"], timestamp=NOW, body=BODY)
    assert verify(header, secret="whsec_k", body=BODY, now=NOW + 299) == NOW


@pytest.mark.parametrize("change", ["tampered body", "wrong secret", "stale", "malformed"])
def test_a_signature_that_does_not_fit_is_refused(change: str) -> None:
    header = sign_header(["whsec_k"], timestamp=NOW, body=BODY)
    body, secret, now = BODY, "whsec_k", NOW
    if change == "tampered body":
        body = BODY.replace(b"paid", b"void")
    elif change == "wrong secret":
        secret = "whsec_other"
    elif change == "stale":
        now = NOW + 301
    else:
        header = "v1=abc"
    with pytest.raises(SignatureError):
        verify(header, secret=secret, body=body, now=now)


def test_during_a_rotation_either_secret_verifies_the_header_signed_with_both() -> None:
    header = sign_header(["whsec_old", "whsec_new"], timestamp=NOW, body=BODY)
    assert header.count("v1=") == 2
    for secret in ("whsec_old", "whsec_new"):
        assert verify(header, secret=secret, body=BODY, now=NOW) == NOW


def test_the_retry_delay_doubles_from_30_seconds_up_to_6_hours_with_jitter_below_it() -> None:
    for failures, base in [(1, 30), (2, 60), (3, 120), (10, 15_360), (30, 21_600)]:
        waits = [delay(failures, rand=Random(seed)).total_seconds() for seed in range(50)]
        ceiling = min(base, MAX_DELAY.total_seconds())
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
        assert len(set(waits)) > 1  # jittered: endpoints that failed together spread out


def test_a_delivery_is_given_up_when_its_next_try_would_be_past_three_days() -> None:
    written = at_utc(2026, 3, 1, 9)
    near_the_end = written + GIVE_UP_AFTER - timedelta(minutes=1)
    assert next_attempt_at(failures=1, now=written, written_at=written,
                           rand=Random(1)) is not None
    assert next_attempt_at(failures=12, now=near_the_end, written_at=written,
                           rand=Random(1)) is None


def test_a_failed_payment_carries_its_decline_class_code_and_next_retry() -> None:
    invoice = an_invoice()
    retry = at_utc(2026, 3, 2, 6)
    attempt = an_attempt(status=AttemptStatus.FAILED, failure_class=DeclineKind.SOFT,
                         failure_code="insufficient_funds", amount=eur(12_345))
    body = payment_object(attempt, invoice=invoice, next_retry_at=retry)
    assert body["failure"] == {"class": "soft", "code": "insufficient_funds",
                               "message": None}
    assert body["next_retry_at"] == "2026-03-02T06:00:00+00:00"
    assert (body["amount"], body["currency"]) == (12_345, "EUR")
    assert body["invoice"] == invoice.id


def test_an_invoice_is_described_in_minor_units_with_its_currency() -> None:
    invoice = an_invoice()
    body = invoice_object(invoice)
    assert body["total"] == invoice.total.minor
    assert body["amount_due"] == invoice.amount_due.minor
    assert body["currency"] == "EUR"
    json.dumps(body)  # plain JSON


def test_a_return_to_active_is_reported_as_reinstated() -> None:
    back = standing_change(account_id="a", before=Standing.TERMINATED, after=Standing.ACTIVE,
                           reason="payment")
    worse = standing_change(account_id="a", before=Standing.ACTIVE,
                            after=Standing.RESTRICTED, reason="dunning")
    assert (back["from"], back["to"], back["standing"]) == ("terminated", "reinstated",
                                                            "active")
    assert (worse["from"], worse["to"]) == ("active", "restricted")


def test_the_envelope_is_shaped_like_a_stripe_event() -> None:
    event = OutgoingEvent(id="evt_1", account_id="acme", sequence=7, type="invoice.paid",
                          created_at=at_utc(2026, 3, 1, 9), data={"object": "invoice"})
    assert event.envelope() == {"id": "evt_1", "object": "event", "type": "invoice.paid",
                                "created": 1772355600, "account": "acme", "sequence": 7,
                                "data": {"object": {"object": "invoice"}}}


def test_event_names_are_checked_and_deduplicated() -> None:
    assert parse_event_types(["invoice.paid", " payment.failed", "invoice.paid"]) == (
        "invoice.paid", "payment.failed")
    with pytest.raises(UnknownEventType, match=r"invoice\.payed"):
        parse_event_types(["invoice.payed"])
    with pytest.raises(UnknownEventType):
        parse_event_types([""])
