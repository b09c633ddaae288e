"""Decline classification with the codes Stripe and GoCardless really send."""

from __future__ import annotations

import pytest

from domain.declines import classify_gocardless, classify_stripe
from domain.outcomes import DeclineKind


@pytest.mark.parametrize(("code", "decline_code", "advice_code", "kind"), [
    pytest.param("card_declined", "insufficient_funds", "try_again_later", DeclineKind.SOFT,
                 id="insufficient funds is soft"),
    pytest.param("card_declined", "generic_decline", None, DeclineKind.SOFT,
                 id="a generic decline is soft"),
    pytest.param("processing_error", None, None, DeclineKind.SOFT,
                 id="a processing error is soft"),
    pytest.param("card_declined", "lost_card", None, DeclineKind.HARD,
                 id="a lost card is hard"),
    pytest.param("card_declined", "stolen_card", None, DeclineKind.HARD,
                 id="a stolen card is hard"),
    pytest.param("expired_card", "expired_card", None, DeclineKind.CUSTOMER_ACTION,
                 id="an expired card needs the customer"),
    pytest.param("authentication_required", "authentication_required", None,
                 DeclineKind.CUSTOMER_ACTION, id="authentication required needs the customer"),
    pytest.param("card_declined", "generic_decline", "do_not_try_again", DeclineKind.HARD,
                 id="stripe advising not to try again makes any decline hard"),
    pytest.param("card_declined", "generic_decline", "confirm_card_data",
                 DeclineKind.CUSTOMER_ACTION,
                 id="stripe asking to confirm card data needs the customer"),
    pytest.param("card_declined", "some_code_stripe_adds_next_year", None, DeclineKind.SOFT,
                 id="an unknown code is soft"),
])
def test_stripe_declines_are_classified_by_code_decline_code_and_advice(
        code: str, decline_code: str | None, advice_code: str | None, kind: DeclineKind) -> None:
    # Given a Stripe card error / When classified / Then
    assert classify_stripe(code=code, decline_code=decline_code, advice_code=advice_code) is kind


@pytest.mark.parametrize(("cause", "kind"), [
    pytest.param("insufficient_funds", DeclineKind.SOFT, id="insufficient funds is soft"),
    pytest.param("refer_to_payer", DeclineKind.SOFT, id="refer to payer is soft"),
    pytest.param("bank_account_closed", DeclineKind.HARD, id="a closed bank account is hard"),
    pytest.param("mandate_cancelled", DeclineKind.HARD, id="a cancelled mandate is hard"),
    pytest.param("invalid_bank_details", DeclineKind.HARD, id="invalid bank details are hard"),
    pytest.param(None, DeclineKind.SOFT, id="no cause is soft"),
])
def test_gocardless_failures_are_classified_by_cause(cause: str | None, kind: DeclineKind) -> None:
    # Given a GoCardless payments/failed cause / When classified / Then
    assert classify_gocardless(cause) is kind
