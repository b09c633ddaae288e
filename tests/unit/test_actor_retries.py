"""A rate-limit wait is not a failure: it never uses up a message's retries."""

from __future__ import annotations

from dramatiq import Retry

from adapters.broker import configure_broker
from domain.errors import UnknownAttempt

configure_broker(None)  # the actors bind to a broker at import; an in-process one here

from workers.actors import PERMANENT, _retry_when  # noqa: E402


def test_a_rate_limit_retry_is_allowed_however_many_times_it_happened() -> None:
    # Given a message already re-enqueued 10,000 times for the rate limit
    # When it is asked whether to retry once more
    # Then it may: waiting for a rate-limit slot does not count towards exhaustion
    assert _retry_when(10_000, Retry(delay=250))


def test_a_real_failure_is_retried_a_bounded_number_of_times() -> None:
    assert _retry_when(19, RuntimeError("provider down"))
    assert not _retry_when(20, RuntimeError("provider down"))


def test_a_message_about_a_row_that_does_not_exist_is_not_retried() -> None:
    # The actors' `throws` option fails these at once instead of retrying for hours.
    assert issubclass(UnknownAttempt, PERMANENT)
