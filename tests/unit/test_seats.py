"""Seats: what is in use on a day, and what a term has not billed yet."""

from __future__ import annotations

from datetime import date

import pytest

from domain.invoices import Period
from domain.plans import UnitKind
from domain.seats import SeatChange, SeatIncrement, increments_in_term, units_at

USERS = UnitKind.USERS
MONTH = Period(date(2026, 1, 15), date(2026, 2, 15))


def test_a_change_takes_effect_on_its_day_so_it_is_not_in_use_at_the_start_of_that_day() -> None:
    changes = [SeatChange(USERS, 2, date(2026, 1, 20))]
    assert units_at(initial=1, changes=changes, kind=USERS, day=date(2026, 1, 20)) == 1
    assert units_at(initial=1, changes=changes, kind=USERS, day=date(2026, 1, 21)) == 3


def test_changes_of_the_other_kind_are_ignored() -> None:
    changes = [SeatChange(UnitKind.NUMBERS, 5, date(2026, 1, 20))]
    assert units_at(initial=1, changes=changes, kind=USERS, day=date(2026, 2, 1)) == 1


def test_the_minimum_commitment_absorbs_the_first_added_units() -> None:
    # Given minimum 2 users with 1 in use: the term billed 2
    changes = [SeatChange(USERS, 2, date(2026, 1, 25))]
    # When 2 users are added (3 in use)
    increments = increments_in_term(initial=1, changes=changes, kind=USERS, minimum=2,
                                    term=MONTH)
    # Then only 1 is above what was billed
    assert increments == [SeatIncrement(USERS, 1, date(2026, 1, 25))]


def test_a_unit_removed_and_re_added_within_the_term_is_not_billed_again() -> None:
    # Given 3 users billed; +1 (peak 4), -1, +1 (back to 4, not above the peak)
    changes = [SeatChange(USERS, 1, date(2026, 1, 20)), SeatChange(USERS, -1, date(2026, 1, 25)),
               SeatChange(USERS, 1, date(2026, 2, 1))]
    # When
    increments = increments_in_term(initial=3, changes=changes, kind=USERS, minimum=0,
                                    term=MONTH)
    # Then
    assert increments == [SeatIncrement(USERS, 1, date(2026, 1, 20))]


def test_a_swap_removes_then_adds_without_billing_anything() -> None:
    changes = [SeatChange(USERS, -1, date(2026, 1, 20)), SeatChange(USERS, 1, date(2026, 1, 22))]
    assert increments_in_term(initial=3, changes=changes, kind=USERS, minimum=0, term=MONTH) == []


def test_several_adds_on_one_day_make_one_increment() -> None:
    changes = [SeatChange(USERS, 1, date(2026, 1, 20)), SeatChange(USERS, 2, date(2026, 1, 20))]
    assert increments_in_term(initial=1, changes=changes, kind=USERS, minimum=0, term=MONTH) == [
        SeatIncrement(USERS, 3, date(2026, 1, 20))]


def test_changes_outside_the_term_do_not_count_in_it() -> None:
    # Given an add before the term (billed by the term's recurring) and one on its end day
    changes = [SeatChange(USERS, 1, date(2026, 1, 10)), SeatChange(USERS, 1, date(2026, 2, 15))]
    assert increments_in_term(initial=1, changes=changes, kind=USERS, minimum=0, term=MONTH) == []


def test_removing_more_units_than_exist_is_refused() -> None:
    changes = [SeatChange(USERS, -2, date(2026, 1, 20))]
    with pytest.raises(ValueError, match="drop to -1"):
        units_at(initial=1, changes=changes, kind=USERS, day=date(2026, 2, 1))
