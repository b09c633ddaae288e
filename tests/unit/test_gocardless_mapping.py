"""A GoCardless payment and its events, in the domain's words (pure mapping, no HTTP)."""

from __future__ import annotations

from datetime import date
from typing import Any

from adapters.gocardless_mapping import payment_outcome
from domain.money import Money
from domain.outcomes import Charged, Declined, DeclineKind, Pending, Reversal, ReversalKind
from tests.conftest import load_provider_fixture

GBP = Money(1000, "GBP")


def payment(status: str) -> dict[str, Any]:
    # The SDK's own fixture shape (amount 1000, currency EUR in the fixture: we use GBP).
    body = load_provider_fixture("gocardless_sdk_fixture_payments.json")["get"]["body"]
    return {**body["payments"], "status": status, "currency": "GBP"}


def event(n: int, action: str, **details: Any) -> dict[str, Any]:
    return {"id": f"EV{n:012d}", "created_at": f"2026-01-{n:02d}T09:00:00.000Z",
            "action": action, "details": details}


def test_submitted_is_pending_until_the_charge_date():
    assert payment_outcome(payment("submitted")) == Pending("PM123", GBP, date(2014, 5, 21))


def test_confirmed_and_paid_out_are_charged():
    assert payment_outcome(payment("confirmed")) == Charged("PM123", GBP)
    assert payment_outcome(payment("paid_out")) == Charged("PM123", GBP)


def test_a_failure_is_classified_by_its_cause_and_says_if_gocardless_retries():
    events = [event(1, "created"), event(2, "submitted"),
              event(3, "failed", cause="refer_to_payer", will_attempt_retry=True)]
    outcome = payment_outcome(payment("failed"), reversed(events))
    assert outcome == Declined(DeclineKind.SOFT, "refer_to_payer", "", "PM123",
                               provider_will_retry=True)


def test_a_failure_after_confirmation_is_a_late_failure_reversal():
    events = [event(1, "submitted"), event(2, "confirmed"),
              event(3, "failed", cause="insufficient_funds")]
    assert payment_outcome(payment("failed"), events) == Reversal(
        ReversalKind.LATE_FAILURE, GBP, "EV000000000003", "insufficient_funds")


def test_a_retried_payment_that_fails_again_is_a_decline_not_a_late_failure():
    events = [event(1, "confirmed"), event(2, "failed", cause="insufficient_funds"),
              event(3, "resubmission_requested"), event(4, "submitted"),
              event(5, "failed", cause="bank_account_closed")]
    outcome = payment_outcome(payment("failed"), events)
    assert isinstance(outcome, Declined)
    assert (outcome.kind, outcome.code) == (DeclineKind.HARD, "bank_account_closed")


def test_a_chargeback_is_a_reversal_named_by_its_event():
    events = [event(1, "paid_out"), event(2, "charged_back", cause="authorisation_disputed")]
    assert payment_outcome(payment("charged_back"), events) == Reversal(
        ReversalKind.CHARGEBACK, GBP, "EV000000000002", "authorisation_disputed")


def test_a_cancelled_payment_is_a_hard_decline_named_by_a_hard_cause_only():
    by_bank = [event(1, "cancelled", cause="mandate_cancelled")]
    by_us = [event(1, "cancelled", cause="payment_cancelled")]
    assert payment_outcome(payment("cancelled"), by_bank) == Declined(
        DeclineKind.HARD, "mandate_cancelled", "cancelled", "PM123")
    by_api = payment_outcome(payment("cancelled"), by_us)
    assert isinstance(by_api, Declined)
    assert (by_api.kind, by_api.code) == (DeclineKind.HARD, "cancelled")
