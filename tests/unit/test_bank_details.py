"""Our bank details are validated at startup: a typo must never reach a customer."""

from __future__ import annotations

import pytest

from adapters.bank_details import (
    DEMO_BANK_DETAILS,
    BankDetails,
    InvalidBankDetails,
    is_valid_aba_routing_number,
    load_bank_details,
)

EUR_ENV = {
    "WIRE_EUR_BENEFICIARY": "Paycollect SAS",
    "WIRE_EUR_BANK_NAME": "Commerzbank",
    "WIRE_EUR_IBAN": "DE89 3704 0044 0532 0130 00",
    "WIRE_EUR_BIC": "COBADEFFXXX",
}
USD_ENV = {
    "WIRE_USD_BENEFICIARY": "Paycollect Inc.",
    "WIRE_USD_BANK_NAME": "JPMorgan Chase",
    "WIRE_USD_ROUTING_NUMBER": "021000021",
    "WIRE_USD_ACCOUNT_NUMBER": "123456789",
}


def test_bank_details_are_loaded_per_currency_from_the_environment() -> None:
    # Given EUR and USD wire variables (and an unrelated WIRE_ setting)
    env = {**EUR_ENV, **USD_ENV, "WIRE_DUE_DAYS": "30"}
    # When they are loaded
    details = load_bank_details(env)
    # Then each currency has its account, the IBAN stored compact and printed in groups
    assert set(details) == {"EUR", "USD"}
    assert details["EUR"].iban == "DE89370400440532013000"
    assert details["EUR"].iban_printed == "DE89 3704 0044 0532 0130 00"
    assert details["USD"].uses_ach
    assert details["USD"].routing_number == "021000021"


def test_no_wire_variables_means_no_bank_details() -> None:
    assert load_bank_details({"WIRE_DUE_DAYS": "30"}) == {}


@pytest.mark.parametrize(("variable", "value"), [
    ("WIRE_EUR_IBAN", "DE89370400440532013001"),
    ("WIRE_EUR_BIC", "COBAXXFFXXX"),
    ("WIRE_EUR_BIC", ""),
    ("WIRE_EUR_BENEFICIARY", "  "),
])
def test_a_bad_eur_setting_is_refused_naming_its_variable(variable: str, value: str) -> None:
    # Given EUR settings with one wrong value
    env = {**EUR_ENV, variable: value}
    # When they are loaded / Then the error names the variable
    with pytest.raises(InvalidBankDetails) as raised:
        load_bank_details(env)
    assert raised.value.field == variable
    assert str(raised.value).startswith(f"{variable}: ")


@pytest.mark.parametrize(("variable", "value"), [
    ("WIRE_USD_ROUTING_NUMBER", "021000022"),  # checksum fails
    ("WIRE_USD_ROUTING_NUMBER", "02100002"),  # eight digits
    ("WIRE_USD_ACCOUNT_NUMBER", "12-34"),
])
def test_a_bad_usd_setting_is_refused_naming_its_variable(variable: str, value: str) -> None:
    with pytest.raises(InvalidBankDetails) as raised:
        load_bank_details({**USD_ENV, variable: value})
    assert raised.value.field == variable


def test_an_unknown_currency_is_refused() -> None:
    with pytest.raises(InvalidBankDetails, match="WIRE_XYZ_"):
        load_bank_details({"WIRE_XYZ_IBAN": "DE89370400440532013000"})


def test_details_built_in_code_name_the_attribute_at_fault() -> None:
    with pytest.raises(InvalidBankDetails) as raised:
        BankDetails(currency="GBP", beneficiary="Paycollect Ltd", bank_name="NatWest",
                    iban="GB29NWBK60161331926819", bic="NOPE")
    assert raised.value.field == "bic"


@pytest.mark.parametrize(("number", "valid"), [
    ("011000015", True),  # Federal Reserve Bank of Boston
    ("021000021", True),  # JPMorgan Chase, New York
    ("011000016", False),
    ("01100001a", False),
    ("０１１００００１５", False),  # full-width digits are digits to Python, not to the ACH
])
def test_aba_routing_numbers_are_checked_by_their_weighted_checksum(number: str,
                                                                    valid: bool) -> None:
    assert is_valid_aba_routing_number(number) is valid


def test_the_demo_accounts_are_valid() -> None:
    assert set(DEMO_BANK_DETAILS) == {"EUR", "GBP", "USD"}
