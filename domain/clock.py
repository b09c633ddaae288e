"""Time as a port: the domain and the handlers never call `datetime.now()` themselves.

Production wires `SystemClock`; tests and `paycollect simulate` wire a `ManualClock` that the
runner advances one day at a time. Every `now()` is timezone-aware UTC (naive datetimes are
billing bugs), and `today()` is the UTC date of `now()`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...

    def today(self) -> date:
        """The current UTC date."""
        ...


def _require_aware_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant!r}: pass a timezone-aware one")
    return instant.astimezone(UTC)


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().date()


class ManualClock:
    """A clock that only moves when told to: tests and the scenario simulator.

    >>> clock = ManualClock(datetime(2026, 1, 15, 9, tzinfo=UTC))
    >>> clock.advance(days=1).today()
    datetime.date(2026, 1, 16)
    """

    def __init__(self, start: datetime) -> None:
        self._now = _require_aware_utc(start)

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.date()

    def set(self, instant: datetime) -> ManualClock:
        """Jump to `instant`; time never goes backwards (events would look out of order)."""
        instant = _require_aware_utc(instant)
        if instant < self._now:
            raise ValueError(f"clock cannot go back from {self._now} to {instant}")
        self._now = instant
        return self

    def advance(self, *, days: int = 0, hours: int = 0, minutes: int = 0,
                seconds: float = 0) -> ManualClock:
        return self.set(self._now + timedelta(days=days, hours=hours, minutes=minutes,
                                              seconds=seconds))


class FixedClock(ManualClock):
    """A clock stopped at one instant (a ManualClock nobody advances)."""


def at_utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A UTC instant, for tests and fixtures: `at_utc(2026, 3, 1, 9)`."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)
