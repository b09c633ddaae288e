"""When a soft-declined payment is tried again.

The schedule counts days after the *first* failure on the invoice: with (1, 3, 5, 7) an invoice
whose first attempt failed on the 1st is retried on the 2nd, 4th, 6th and 8th, then no more
(dunning carries on). The schedule in force when the first retry is scheduled is copied onto
every retry attempt (`PaymentAttempt.retry_schedule_days`), with the first failure's time
(`PaymentAttempt.first_failed_at`), so a configuration change never reshuffles retries in flight.

Card networks penalise merchants that hammer a card (Visa: 15 retries in 30 days), so no payment
method is tried more than `max_attempts_per_30_days` times in any 30-day window, all invoices
together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from domain.events import ScheduleRetry

#: What `RETRY_SCHEDULE_DAYS` defaults to.
DEFAULT_SCHEDULE_DAYS: tuple[int, ...] = (1, 3, 5, 7)

#: The window the per-method attempt cap is counted over.
CAP_WINDOW = timedelta(days=30)


class InvalidRetrySchedule(ValueError):
    """A retry schedule that is not a strictly increasing list of positive whole days."""


def validate_schedule(days: Iterable[int]) -> tuple[int, ...]:
    schedule = tuple(days)
    for day in schedule:
        if type(day) is not int or day < 1:
            raise InvalidRetrySchedule(f"retry days must be whole days >= 1, got {day!r}")
    if any(later <= earlier for earlier, later in pairwise(schedule)):
        raise InvalidRetrySchedule(f"retry days must be strictly increasing, got {schedule}")
    return schedule


def parse_schedule(text: str) -> tuple[int, ...]:
    """Parse a configuration string such as `"1,3,5,7"` (spaces allowed; `""` means never retry).

    Raises: InvalidRetrySchedule naming the offending part.
    """
    if not text.strip():
        return ()
    days: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit():  # rejects "", "-1", "1.5", "2d"
            raise InvalidRetrySchedule(
                f"RETRY_SCHEDULE_DAYS={text!r}: {part!r} is not a whole number of days "
                "(expected e.g. '1,3,5,7')")
        days.append(int(part))
    try:
        return validate_schedule(days)
    except InvalidRetrySchedule as error:
        raise InvalidRetrySchedule(f"RETRY_SCHEDULE_DAYS={text!r}: {error}") from None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    #: Days after the first failure at which retry 1, 2, … run.
    schedule_days: tuple[int, ...] = DEFAULT_SCHEDULE_DAYS
    #: Never more attempts than this on one payment method in any 30 days.
    max_attempts_per_30_days: int = 15
    #: After reconciliation proved the provider never saw an attempt, retry this soon.
    not_found_retry_minutes: int = 15

    def __post_init__(self) -> None:
        validate_schedule(self.schedule_days)
        if self.max_attempts_per_30_days < 1:
            raise ValueError("max_attempts_per_30_days must be >= 1")
        if self.not_found_retry_minutes < 0:
            raise ValueError("not_found_retry_minutes must be >= 0")

    @classmethod
    def from_config(cls, *, schedule_days: str, max_attempts_per_30_days: int = 15) -> RetryPolicy:
        return cls(schedule_days=parse_schedule(schedule_days),
                   max_attempts_per_30_days=max_attempts_per_30_days)


def next_retry_at(*, schedule_days: tuple[int, ...], failures_so_far: int,
                  first_failed_at: datetime, now: datetime) -> datetime | None:
    """When to try again after the `failures_so_far`-th failure, or None when exhausted.

    Parameters: `schedule_days` as copied onto the attempt; `failures_so_far` counts the failure
    being handled (1 after the first attempt failed); `first_failed_at` anchors the schedule.
    Returns: `first_failed_at + schedule_days[failures_so_far - 1]` days, never before `now`
    (a late sweeper must not schedule into the past and fire twice in a burst).
    """
    if failures_so_far < 1:
        raise ValueError("failures_so_far counts the failure being handled: >= 1")
    if failures_so_far > len(schedule_days):
        return None
    return max(first_failed_at + timedelta(days=schedule_days[failures_so_far - 1]), now)


def attempts_in_window(*, attempts_at: Iterable[datetime], at: datetime) -> int:
    """How many of `attempts_at` fall in the 30 days up to and including `at`."""
    return sum(1 for created in attempts_at if at - CAP_WINDOW < created <= at)


def within_cap(*, policy: RetryPolicy, attempts_at: Iterable[datetime], at: datetime) -> bool:
    """May one more attempt on this payment method be made at `at`?

    `attempts_at`: creation times of the method's attempts (every invoice), the current one
    included. Earlier ones still count when `at` is in the future (a scheduled retry).
    """
    return attempts_in_window(attempts_at=attempts_at, at=at) < policy.max_attempts_per_30_days


def plan_retry(*, policy: RetryPolicy, schedule_days: tuple[int, ...], failed_number: int,
               first_failed_at: datetime, now: datetime, attempts_at: Iterable[datetime],
               soon: bool = False) -> tuple[ScheduleRetry | None, str]:
    """The retry after attempt `failed_number` failed, or None, with the reason for the log.

    `soon`: the provider never saw the attempt (reconciliation: not found), so retry after
    `not_found_retry_minutes` instead of waiting for the schedule.
    """
    if soon:
        at: datetime | None = now + timedelta(minutes=policy.not_found_retry_minutes)
    else:
        at = next_retry_at(schedule_days=schedule_days, failures_so_far=failed_number,
                           first_failed_at=first_failed_at, now=now)
    if at is None:
        return None, f"retry schedule {schedule_days} exhausted after attempt {failed_number}"
    if not within_cap(policy=policy, attempts_at=attempts_at, at=at):
        return None, (f"no retry: {policy.max_attempts_per_30_days} attempts in 30 days "
                      "on this payment method")
    retry = ScheduleRetry(at=at, schedule_days=schedule_days, first_failed_at=first_failed_at,
                          number=failed_number + 1)
    return retry, f"retry {retry.number} at {at.isoformat()}"
