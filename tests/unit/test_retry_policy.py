"""Retry schedule: days after the first failure, copied onto attempts, capped per method."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.retry_policy import (
    InvalidRetrySchedule,
    RetryPolicy,
    next_retry_at,
    parse_schedule,
    within_cap,
)

FIRST_FAILURE = datetime(2026, 3, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize(("failures", "expected_day"), [(1, 1), (2, 3), (3, 5), (4, 7)])
def test_each_retry_runs_its_scheduled_days_after_the_first_failure(
        failures: int, expected_day: int) -> None:
    # Given the default schedule and the time of the failure being handled
    now = FIRST_FAILURE + timedelta(days=expected_day - 1)
    # When
    at = next_retry_at(schedule_days=(1, 3, 5, 7), failures_so_far=failures,
                       first_failed_at=FIRST_FAILURE, now=now)
    # Then
    assert at == FIRST_FAILURE + timedelta(days=expected_day)


def test_no_retry_is_left_once_the_schedule_is_exhausted() -> None:
    # Given four retries already failed (five failures) / When / Then
    assert next_retry_at(schedule_days=(1, 3, 5, 7), failures_so_far=5,
                         first_failed_at=FIRST_FAILURE, now=FIRST_FAILURE) is None


def test_a_retry_computed_late_is_never_scheduled_in_the_past() -> None:
    # Given the sweeper handles a failure ten days late
    now = FIRST_FAILURE + timedelta(days=10)
    # When
    at = next_retry_at(schedule_days=(1, 3, 5, 7), failures_so_far=2,
                       first_failed_at=FIRST_FAILURE, now=now)
    # Then
    assert at == now


def test_the_copied_schedule_decides_not_the_one_in_the_configuration_now() -> None:
    # Given an attempt that carries (1, 3, 5, 7) while the configuration moved to (2, 9)
    copied = (1, 3, 5, 7)
    RetryPolicy(schedule_days=(2, 9))
    # When
    at = next_retry_at(schedule_days=copied, failures_so_far=3, first_failed_at=FIRST_FAILURE,
                       now=FIRST_FAILURE)
    # Then the third retry still runs on day 5, which (2, 9) has no slot for
    assert at == FIRST_FAILURE + timedelta(days=5)


def test_a_schedule_is_parsed_from_its_configuration_string() -> None:
    # Given / When / Then
    assert parse_schedule("1,3,5,7") == (1, 3, 5, 7)
    assert parse_schedule(" 2 , 4 ") == (2, 4)
    assert parse_schedule("") == ()
    assert RetryPolicy.from_config(schedule_days="1,2").schedule_days == (1, 2)


@pytest.mark.parametrize(("text", "message"), [
    ("1,,3", "'' is not a whole number"),
    ("1,three", "'three' is not a whole number"),
    ("1.5,3", "'1.5' is not a whole number"),
    ("-1,3", "'-1' is not a whole number"),
    ("3,1", "strictly increasing"),
    ("0,1", ">= 1"),
])
def test_a_bad_schedule_string_is_rejected_with_a_clear_message(text: str, message: str) -> None:
    # Given a bad RETRY_SCHEDULE_DAYS / When parsed / Then the error names the variable and part
    with pytest.raises(InvalidRetrySchedule, match="RETRY_SCHEDULE_DAYS") as error:
        parse_schedule(text)
    assert message in str(error.value)


def test_the_fifteenth_attempt_in_thirty_days_is_allowed_and_the_sixteenth_is_not() -> None:
    # Given a card tried 14, then 15 times over the last 29 days
    policy = RetryPolicy()
    fourteen = [FIRST_FAILURE - timedelta(days=2 * i) for i in range(14)]
    fifteen = [*fourteen, FIRST_FAILURE - timedelta(hours=1)]
    # When / Then
    assert within_cap(policy=policy, attempts_at=fourteen, at=FIRST_FAILURE)
    assert not within_cap(policy=policy, attempts_at=fifteen, at=FIRST_FAILURE)


def test_attempts_older_than_thirty_days_do_not_count_against_the_cap() -> None:
    # Given fifteen attempts, the oldest 30 days before the retry
    at = FIRST_FAILURE
    attempts = [at - timedelta(days=30), *(at - timedelta(hours=h) for h in range(1, 15))]
    # When / Then
    assert within_cap(policy=RetryPolicy(), attempts_at=attempts, at=at)


def test_the_cap_is_configurable() -> None:
    # Given a cap of 2 and two recent attempts / When / Then
    attempts = [FIRST_FAILURE, FIRST_FAILURE - timedelta(days=1)]
    assert not within_cap(policy=RetryPolicy(max_attempts_per_30_days=2), attempts_at=attempts,
                          at=FIRST_FAILURE)
