"""Decline classification: provider codes to soft / hard / customer action.

Stripe: https://docs.stripe.com/declines/codes (decline_code) and advice_code
(`try_again_later`, `do_not_try_again`, `confirm_card_data`).
GoCardless: payments/failed `details.cause` values from the event actions reference.
"""

from __future__ import annotations

from domain.outcomes import DeclineKind

#: Stripe decline codes after which retrying the same card can never succeed.
STRIPE_HARD = frozenset({
    "lost_card", "stolen_card", "pickup_card", "fraudulent", "merchant_blacklist",
    "restricted_card", "security_violation", "invalid_account", "new_account_information_available",
    "card_not_supported", "currency_not_supported", "do_not_honor_permanently",
    "revocation_of_all_authorizations", "revocation_of_authorization", "stop_payment_order",
    "transaction_not_allowed", "invalid_number", "incorrect_number", "do_not_try_again",
})

#: Stripe codes where only the customer can fix things (authenticate, new expiry date, CVC).
STRIPE_CUSTOMER_ACTION = frozenset({
    "authentication_required", "expired_card", "incorrect_cvc", "invalid_cvc",
    "invalid_expiry_month", "invalid_expiry_year", "incorrect_zip", "offline_pin_required",
    "online_or_offline_pin_required", "pin_try_exceeded", "card_velocity_exceeded",
    "confirm_card_data", "payment_intent_authentication_failure",
})

#: GoCardless payment failure causes that end the mandate's usefulness.
GOCARDLESS_HARD = frozenset({
    "bank_account_closed", "bank_account_transferred", "mandate_cancelled", "mandate_expired",
    "mandate_suspended_by_payer", "authorisation_disputed", "direct_debit_not_enabled",
    "invalid_bank_details", "account_closed", "mandate_failed", "refer_to_payer_hard",
    "return_on_odfi_request",
})


def classify_stripe(*, code: str | None, decline_code: str | None,
                    advice_code: str | None = None) -> DeclineKind:
    """Classify a Stripe card error.

    Parameters: `code` is the error code (`card_declined`, `expired_card`,
    `authentication_required`…), `decline_code` the issuer's reason, `advice_code` Stripe's
    advice (`try_again_later`, `do_not_try_again`, `confirm_card_data`).
    Returns: the kind of decline; anything unrecognised is soft (retry on schedule).
    """
    if advice_code == "do_not_try_again":
        return DeclineKind.HARD
    if advice_code == "confirm_card_data":
        return DeclineKind.CUSTOMER_ACTION
    for candidate in (decline_code, code):
        if candidate in STRIPE_CUSTOMER_ACTION:
            return DeclineKind.CUSTOMER_ACTION
        if candidate in STRIPE_HARD:
            return DeclineKind.HARD
    return DeclineKind.SOFT


def classify_gocardless(cause: str | None) -> DeclineKind:
    """Classify a GoCardless payment failure `details.cause`; unknown causes are soft."""
    if cause in GOCARDLESS_HARD:
        return DeclineKind.HARD
    return DeclineKind.SOFT
