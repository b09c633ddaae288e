"""Stripe's test PaymentMethods and what each does when charged.

The magic ids and their meaning come from https://docs.stripe.com/testing (declines and
disputes sections). One deliberate difference from Stripe: attaching a declining card to a
customer succeeds here, because scenarios attach the card at onboarding and expect the
decline when the invoice is charged (real Stripe only allows that for `pm_card_chargeCustomerFail`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Result(enum.Enum):
    SUCCEED = "succeed"
    DECLINE = "decline"
    #: The issuer wants 3-D Secure: off-session this is a decline, on-session `requires_action`.
    AUTHENTICATE = "authenticate"
    #: Simulator-only: the charge stays `processing` until POST /_sim/advance settles it.
    PROCESS = "process"


@dataclass(frozen=True, slots=True)
class CardBehaviour:
    """How a test card looks (for PaymentMethod objects) and behaves (when charged)."""

    number_last4: str
    brand: str = "visa"
    result: Result = Result.SUCCEED
    #: The error `code` (`card_declined`, `expired_card`, `processing_error`…).
    code: str | None = None
    decline_code: str | None = None
    message: str = ""
    #: A successful charge on this card is disputed later (charge.dispute.created).
    disputes: bool = False


_DECLINED = "Your card was declined."

#: Magic PaymentMethod ids accepted wherever a `payment_method` is expected.
TEST_CARDS: dict[str, CardBehaviour] = {
    "pm_card_visa": CardBehaviour("4242"),
    "pm_card_mastercard": CardBehaviour("4444", brand="mastercard"),
    "pm_card_chargeDeclined": CardBehaviour(
        "0002", result=Result.DECLINE, code="card_declined", decline_code="generic_decline",
        message=_DECLINED),
    #: Stripe's own id for the generic decline card (localstripe knows this one).
    "pm_card_visa_chargeDeclined": CardBehaviour(
        "0002", result=Result.DECLINE, code="card_declined", decline_code="generic_decline",
        message=_DECLINED),
    "pm_card_chargeDeclinedInsufficientFunds": CardBehaviour(
        "9995", result=Result.DECLINE, code="card_declined", decline_code="insufficient_funds",
        message="Your card has insufficient funds."),
    "pm_card_chargeDeclinedLostCard": CardBehaviour(
        "9987", result=Result.DECLINE, code="card_declined", decline_code="lost_card",
        message=_DECLINED),
    "pm_card_chargeDeclinedStolenCard": CardBehaviour(
        "9979", result=Result.DECLINE, code="card_declined", decline_code="stolen_card",
        message=_DECLINED),
    "pm_card_chargeDeclinedExpiredCard": CardBehaviour(
        "0069", result=Result.DECLINE, code="expired_card", decline_code="expired_card",
        message="Your card has expired."),
    "pm_card_chargeDeclinedProcessingError": CardBehaviour(
        "0119", result=Result.DECLINE, code="processing_error", decline_code="processing_error",
        message="An error occurred while processing your card. Try again in a little bit."),
    "pm_card_chargeCustomerFail": CardBehaviour(
        "0341", result=Result.DECLINE, code="card_declined", decline_code="generic_decline",
        message=_DECLINED),
    "pm_card_authenticationRequired": CardBehaviour(
        "3184", result=Result.AUTHENTICATE, code="authentication_required",
        decline_code="authentication_required",
        message="Your card was declined. This transaction requires authentication."),
    "pm_card_createDispute": CardBehaviour("0259", disputes=True),
    "pm_sim_processing": CardBehaviour("0000", result=Result.PROCESS),
}

#: Any other `pm_…` id (e.g. one created by a customer flow we do not model) behaves like visa.
DEFAULT_CARD = TEST_CARDS["pm_card_visa"]


def is_magic(payment_method_id: str) -> bool:
    """True for Stripe's test ids, which Stripe clones into a fresh `pm_…` on use."""
    return payment_method_id in TEST_CARDS
