"""The overdue sequence: notices in order, on time, paused by a direct debit, stopped by paying."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.accounts import Standing
from domain.dunning import (
    NOTICE_ORDER,
    DunningPolicy,
    InvalidDunningSchedule,
    Notice,
    NoticeKind,
    SentNotice,
    account_standing,
    next_dunning_step,
    standing_for,
)

N = NoticeKind
OVERDUE_SINCE = date(2026, 3, 1)
POLICY = DunningPolicy()


def step(today: date, sent: list[SentNotice] | None = None, *, window: bool = False,
         paid: bool = False, policy: DunningPolicy = POLICY) -> list[Notice]:
    return next_dunning_step(overdue_since=OVERDUE_SINCE, notices_sent=sent or [], today=today,
                             policy=policy, direct_debit_in_processing_window=window, paid=paid)


def day(n: int) -> date:
    return OVERDUE_SINCE + timedelta(days=n)


def run_daily(until: int, **kwargs: bool) -> list[SentNotice]:
    """Call the step every day like the scheduler does, recording what is sent."""
    sent: list[SentNotice] = []
    for n in range(until + 1):
        sent += [SentNotice(notice.kind, day(n)) for notice in step(day(n), sent, **kwargs)]
    return sent


def test_the_default_timings_keep_the_announced_delays_true() -> None:
    # Given the default policy / When / Then third + 10 days and last + 5 days are the legal notice
    assert POLICY.day_of(N.LEGAL_NOTICE) - POLICY.day_of(N.THIRD_NOTICE) == 10
    assert POLICY.day_of(N.LEGAL_NOTICE) - POLICY.day_of(N.LAST_NOTICE) == 5


def test_an_unpaid_invoice_gets_every_notice_in_order_on_its_day() -> None:
    # Given an invoice nobody pays, checked daily / When
    sent = run_daily(40)
    # Then
    assert sent == [SentNotice(N.FIRST_NOTICE, day(3)), SentNotice(N.SECOND_NOTICE, day(10)),
                    SentNotice(N.THIRD_NOTICE, day(17)), SentNotice(N.LAST_NOTICE, day(22)),
                    SentNotice(N.LEGAL_NOTICE, day(27))]


@pytest.mark.parametrize(("kind", "standing", "terminates_after"), [
    (N.FIRST_NOTICE, Standing.RESTRICTED, 24), (N.SECOND_NOTICE, Standing.RESTRICTED, 17),
    (N.THIRD_NOTICE, Standing.SUSPENDED, 10), (N.LAST_NOTICE, Standing.SUSPENDED, 5),
    (N.LEGAL_NOTICE, Standing.TERMINATED, 0),
])
def test_each_notice_says_where_the_account_stands_and_when_it_is_terminated(
        kind: NoticeKind, standing: Standing, terminates_after: int) -> None:
    # Given the notices before `kind` sent on their days
    index = NOTICE_ORDER.index(kind)
    sent = [SentNotice(k, day(POLICY.day_of(k))) for k in NOTICE_ORDER[:index]]
    today = day(POLICY.day_of(kind))
    # When
    notices = step(today, sent)
    # Then
    assert notices == [Notice(kind=kind, standing=standing, days_overdue=POLICY.day_of(kind),
                              terminates_on=today + timedelta(days=terminates_after))]


def test_no_notice_is_sent_before_its_day() -> None:
    # Given / When / Then
    assert step(day(2)) == []
    assert step(day(9), [SentNotice(N.FIRST_NOTICE, day(3))]) == []


def test_no_notice_is_sent_while_a_direct_debit_is_in_its_processing_window() -> None:
    # Given a debit still processing on day 3 / When / Then
    assert step(day(3), window=True) == []


def test_notices_resume_after_the_window_without_a_burst() -> None:
    # Given the debit window paused the sequence for 12 days, then the debit failed
    sent: list[SentNotice] = []
    for n in range(41):
        window = n < 12
        sent += [SentNotice(x.kind, day(n)) for x in step(day(n), sent, window=window)]
    # Then one notice on day 12, and every later gap is kept from the one before
    assert sent == [SentNotice(N.FIRST_NOTICE, day(12)), SentNotice(N.SECOND_NOTICE, day(19)),
                    SentNotice(N.THIRD_NOTICE, day(26)), SentNotice(N.LAST_NOTICE, day(31)),
                    SentNotice(N.LEGAL_NOTICE, day(36))]


def test_a_late_third_notice_still_gives_ten_days_before_termination() -> None:
    # Given the third notice went out on day 25 (the system was down)
    sent = [SentNotice(N.FIRST_NOTICE, day(3)), SentNotice(N.SECOND_NOTICE, day(10)),
            SentNotice(N.THIRD_NOTICE, day(25))]
    # When / Then the last notice waits 5 days, so termination lands 10 days after the third
    assert step(day(29), sent) == []
    assert [n.kind for n in step(day(30), sent)] == [N.LAST_NOTICE]
    assert step(day(30), sent)[0].terminates_on == day(35)


def test_paying_stops_the_sequence_and_reinstates_the_account() -> None:
    # Given the third notice sent (suspended)
    sent = [N.FIRST_NOTICE, N.SECOND_NOTICE, N.THIRD_NOTICE]
    dated = [SentNotice(kind, day(POLICY.day_of(kind))) for kind in sent]
    assert standing_for(notices_sent=sent, paid=False, policy=POLICY) is Standing.SUSPENDED
    # When the invoice is paid
    # Then no more notices and the account is active again
    assert step(day(22), dated, paid=True) == []
    assert standing_for(notices_sent=sent, paid=True, policy=POLICY) is Standing.ACTIVE


def test_a_terminated_account_stays_terminated_when_the_policy_says_so() -> None:
    # Given / When / Then
    policy = DunningPolicy(reinstate_terminated=False)
    assert standing_for(notices_sent=list(NOTICE_ORDER), paid=True,
                        policy=policy) is Standing.TERMINATED
    assert standing_for(notices_sent=list(NOTICE_ORDER), paid=True,
                        policy=POLICY) is Standing.ACTIVE


def test_the_account_stands_where_its_worst_overdue_invoice_stands() -> None:
    # Given / When / Then
    assert account_standing(invoice_standings=[Standing.RESTRICTED, Standing.SUSPENDED,
                                               Standing.ACTIVE]) is Standing.SUSPENDED
    assert account_standing(invoice_standings=[]) is Standing.ACTIVE


def test_nothing_follows_the_legal_notice() -> None:
    # Given every notice sent / When / Then
    sent = [SentNotice(kind, day(POLICY.day_of(kind))) for kind in NOTICE_ORDER]
    assert step(day(90), sent) == []


def test_notices_recorded_out_of_sequence_are_refused() -> None:
    # Given a second notice without a first / When / Then
    with pytest.raises(ValueError, match="out of sequence"):
        step(day(20), [SentNotice(N.SECOND_NOTICE, day(10))])


def test_the_policy_copied_onto_an_invoice_round_trips_through_its_config_string() -> None:
    # Given / When / Then
    policy = DunningPolicy.from_config("5, 12, 19, 24, 29")
    assert policy.days_overdue == (5, 12, 19, 24, 29)
    assert DunningPolicy.from_config(policy.to_config()) == policy


@pytest.mark.parametrize("text", ["3,10,17,22", "3,10,10,22,27", "3,10,x,22,27",
                                  "3,10,17,22,27,30"])
def test_a_bad_dunning_schedule_is_rejected(text: str) -> None:
    # Given / When / Then
    with pytest.raises(InvalidDunningSchedule):
        DunningPolicy.from_config(text)
