"""Setups in the domain: which scheme, how an account is masked, when a setup expires, and what
the API shows of a method."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.accounts import MethodDisplay, MethodType, PaymentMethod
from domain.clock import at_utc
from domain.setups import (
    InvalidScheme,
    PaymentMethodSetup,
    SetupStatus,
    choose_scheme,
    mask_account,
)
from workers.api.payment_methods import payment_method_view


@pytest.mark.parametrize(("currency", "scheme"), [
    ("EUR", "sepa_core"), ("USD", "ach"), ("GBP", "bacs")])
def test_without_a_scheme_the_currency_chooses_it(currency: str, scheme: str) -> None:
    assert choose_scheme(requested=None, currency=currency) == scheme


@pytest.mark.parametrize(("requested", "currency", "message"), [
    ("ach", "EUR", "ach collects USD"), ("becs", "EUR", "unknown scheme"),
    (None, "JPY", "no direct-debit scheme collects JPY")])
def test_a_scheme_that_cannot_collect_the_currency_is_refused(
        requested: str | None, currency: str, message: str) -> None:
    with pytest.raises(InvalidScheme, match=message):
        choose_scheme(requested=requested, currency=currency)


def test_an_iban_is_masked_to_its_country_and_the_digits_the_provider_shows() -> None:
    assert mask_account(country_code="fr", ending="06", iban=True) == "FR** **** **** **06"
    assert mask_account(country_code="DE", ending="1234", iban=True) == "DE** **** **** 1234"
    assert mask_account(country_code="GB", ending="11", iban=False) == "******11"


def test_an_open_setup_expires_with_its_hosted_page_but_a_completed_one_stays_completed() -> None:
    created = at_utc(2026, 3, 1, 9)
    setup = PaymentMethodSetup(id="pms_1", account_id="acc_1", method=MethodType.CARD,
                               provider="stripe", provider_ref="cs_1", provider_customer="cus_1",
                               url="https://x.example", created_at=created,
                               expires_at=created + timedelta(hours=24))
    assert setup.status_at(created + timedelta(hours=23)) is SetupStatus.OPEN
    assert setup.status_at(created + timedelta(hours=24)) is SetupStatus.EXPIRED
    done = PaymentMethodSetup(**{**{f: getattr(setup, f) for f in setup.__slots__},
                                 "status": SetupStatus.COMPLETED})
    assert done.status_at(created + timedelta(days=3)) is SetupStatus.COMPLETED


def test_the_display_survives_its_json_form_and_ignores_what_it_does_not_know() -> None:
    shown = MethodDisplay(brand="visa", last4="4242", exp_month=12, exp_year=2034)
    assert MethodDisplay.from_dict(shown.as_dict()) == shown
    assert MethodDisplay.from_dict({"last4": 4242, "exp_month": True, "pan": "4242"}) == \
        MethodDisplay()


def test_the_api_view_shows_the_masked_method_and_nothing_of_the_provider_ids() -> None:
    method = PaymentMethod(MethodType.DIRECT_DEBIT, provider_customer="CU1",
                           provider_method="MD1", scheme="sepa_core",
                           details={"behaviour": "pays"},
                           display=MethodDisplay(account_holder="Acme SAS",
                                                 account_masked="FR** **** **** **06"))
    view = payment_method_view(method).model_dump(exclude_none=True)
    assert view == {"type": "direct_debit", "usable": True, "scheme": "sepa_core",
                    "account_holder": "Acme SAS", "account": "FR** **** **** **06"}
    bare = payment_method_view(PaymentMethod(MethodType.WIRE)).model_dump(exclude_none=True)
    assert bare == {"type": "wire", "usable": True}


def test_the_served_api_gets_setup_gateways_only_for_the_configured_providers() -> None:
    from workers.config import Settings
    from workers.console_deps import setup_gateways

    assert setup_gateways(Settings()) == {}
    both = setup_gateways(Settings(stripe_api_key="sk_test_x", stripe_api_base="http://s",
                                   gocardless_access_token="t", gocardless_base_url="http://g"))
    assert set(both) == {"card_setup", "direct_debit_setup"}
