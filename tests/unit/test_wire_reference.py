"""ISO 11649 creditor references, checked against the standard's published example."""

from __future__ import annotations

import pytest

from domain.wire_reference import (
    InvalidReferenceBase,
    format_rf_reference,
    is_valid_rf_reference,
    make_rf_reference,
)


def test_the_standard_example_base_gets_check_digits_18() -> None:
    # Given the base used as the example in ISO 11649
    base = "539007547034"
    # When a reference is made from it
    reference = make_rf_reference(base)
    # Then it is the standard's RF18 reference
    assert reference == "RF18539007547034"


@pytest.mark.parametrize("reference", [
    "RF18539007547034",
    "RF18 5390 0754 7034",
    "rf18 5390 0754 7034",
    "RF712348231",
    "RF18000000000539007547034",
])
def test_known_valid_references_are_accepted(reference: str) -> None:
    # Given a reference published as valid, in electronic or printed form
    # When it is checked / Then it is valid
    assert is_valid_rf_reference(reference)


@pytest.mark.parametrize("reference", [
    "RF19539007547034",  # wrong check digits
    "RF18539007547035",  # a mistyped base digit
    "RF1853900754703-",  # not alphanumeric
    "XX18539007547034",  # not an RF reference
    "RF18",  # no base
    "RF18" + "1" * 22,  # base longer than 21
    "",
])
def test_mistyped_or_malformed_references_are_rejected(reference: str) -> None:
    assert not is_valid_rf_reference(reference)


def test_a_non_string_is_not_a_reference() -> None:
    assert not is_valid_rf_reference(18539007547034)


@pytest.mark.parametrize("base", ["INV20250042", "A", "Z" * 21, "abc 123"])
def test_every_made_reference_validates(base: str) -> None:
    # Given any acceptable base / When a reference is made / Then it passes its own check
    assert is_valid_rf_reference(make_rf_reference(base))


def test_letters_in_the_base_are_upper_cased_and_spaces_dropped() -> None:
    assert make_rf_reference("inv 42") == make_rf_reference("INV42")


@pytest.mark.parametrize("base", ["", "   ", "Z" * 22, "INV-42", "FACTURE-É"])
def test_a_base_that_cannot_be_encoded_is_refused(base: str) -> None:
    with pytest.raises(InvalidReferenceBase):
        make_rf_reference(base)


def test_the_printed_form_groups_characters_by_four() -> None:
    assert format_rf_reference("RF18539007547034") == "RF18 5390 0754 7034"
    assert format_rf_reference("RF712348231") == "RF71 2348 231"
