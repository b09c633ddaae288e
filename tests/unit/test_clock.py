"""The injected clock: aware UTC, and a manual one that only moves forward."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from domain.clock import Clock, FixedClock, ManualClock, SystemClock, at_utc


def test_the_system_clock_is_timezone_aware_utc() -> None:
    # Given / When
    clock: Clock = SystemClock()
    # Then
    assert clock.now().tzinfo is UTC
    assert clock.today() == clock.now().date()


def test_a_manual_clock_advances_only_when_told() -> None:
    # Given
    clock = ManualClock(at_utc(2026, 1, 31, 23))
    # When
    clock.advance(hours=2)
    # Then
    assert clock.today() == date(2026, 2, 1)
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(at_utc(2026, 1, 1))


def test_a_clock_is_given_aware_instants_only_and_keeps_them_in_utc() -> None:
    # Given / When / Then
    with pytest.raises(ValueError, match="naive"):
        FixedClock(datetime(2026, 1, 1))  # noqa: DTZ001
    paris = timezone(timedelta(hours=1))
    assert FixedClock(datetime(2026, 1, 1, 0, 30, tzinfo=paris)).today() == date(2025, 12, 31)
