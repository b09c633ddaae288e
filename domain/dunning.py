"""The overdue sequence (dunning): which notice to send, and where the account then stands.

Notices go in order: first, second, third (termination in 10 days), last (5 days), legal
(account terminated), on days overdue from `DunningPolicy.days_overdue`. The defaults
(3, 10, 17, 22, 27) keep the announced delays true: third + 10 = legal = last + 5.

A notice that went out late (the system was down, a direct debit window paused the sequence)
pushes the following ones back by the same gaps, so "termination in 10 days" always gives the
customer at least 10 days. One notice at most per call: a daily tick never fires a burst.

Standing, per invoice, by the last notice sent: first → RESTRICTED (cannot add units: the
customer is warned and loses nothing they already have), third → SUSPENDED (as the third notice
announces), legal → TERMINATED. Paying stops the sequence and reinstates ACTIVE. The account
stands where its worst overdue invoice stands (`account_standing`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from domain.accounts import Standing


class NoticeKind(enum.StrEnum):
    FIRST_NOTICE = "first_notice"
    SECOND_NOTICE = "second_notice"
    THIRD_NOTICE = "third_notice"  # termination in 10 days
    LAST_NOTICE = "last_notice"  # termination in 5 days
    LEGAL_NOTICE = "legal_notice"  # account terminated


NOTICE_ORDER: tuple[NoticeKind, ...] = tuple(NoticeKind)

#: The standing an invoice puts its account in once this notice is sent.
STANDING_AFTER: dict[NoticeKind, Standing] = {
    NoticeKind.FIRST_NOTICE: Standing.RESTRICTED,
    NoticeKind.SECOND_NOTICE: Standing.RESTRICTED,
    NoticeKind.THIRD_NOTICE: Standing.SUSPENDED,
    NoticeKind.LAST_NOTICE: Standing.SUSPENDED,
    NoticeKind.LEGAL_NOTICE: Standing.TERMINATED,
}

_SEVERITY = {Standing.ACTIVE: 0, Standing.RESTRICTED: 1, Standing.SUSPENDED: 2,
             Standing.TERMINATED: 3}


class InvalidDunningSchedule(ValueError):
    """Not five strictly increasing whole days overdue."""


@dataclass(frozen=True, slots=True)
class DunningPolicy:
    """Copied onto the invoice when it becomes overdue (`to_config()` into its metadata), so a
    configuration change never reshuffles a sequence already running."""

    #: Days overdue for each notice, in NOTICE_ORDER.
    days_overdue: tuple[int, ...] = (3, 10, 17, 22, 27)
    #: Does paying reinstate an account already terminated by the legal notice?
    reinstate_terminated: bool = True

    def __post_init__(self) -> None:
        days = self.days_overdue
        if len(days) != len(NOTICE_ORDER) or any(type(d) is not int or d < 0 for d in days):
            raise InvalidDunningSchedule(
                f"expected {len(NOTICE_ORDER)} whole days overdue, got {days!r}")
        if any(later <= earlier for earlier, later in pairwise(days)):
            raise InvalidDunningSchedule(f"days overdue must strictly increase, got {days}")

    def day_of(self, kind: NoticeKind) -> int:
        return self.days_overdue[NOTICE_ORDER.index(kind)]

    def to_config(self) -> str:
        return ",".join(str(day) for day in self.days_overdue)

    @classmethod
    def from_config(cls, text: str, *, reinstate_terminated: bool = True) -> DunningPolicy:
        """Parse `"3,10,17,22,27"`; raises InvalidDunningSchedule naming the bad part."""
        parts = [part.strip() for part in text.split(",")]
        for part in parts:
            if not part.isdigit():
                raise InvalidDunningSchedule(
                    f"dunning days {text!r}: {part!r} is not a whole number of days")
        return cls(days_overdue=tuple(int(part) for part in parts),
                   reinstate_terminated=reinstate_terminated)


@dataclass(frozen=True, slots=True)
class SentNotice:
    kind: NoticeKind
    on: date


@dataclass(frozen=True, slots=True)
class Notice:
    """A notice to send today."""

    kind: NoticeKind
    #: Where the account stands once it is sent (for this invoice).
    standing: Standing
    days_overdue: int
    #: The earliest day the legal notice (termination) can follow, given this notice today.
    terminates_on: date


def _in_order(notices_sent: Sequence[SentNotice]) -> list[SentNotice]:
    ordered = sorted(notices_sent, key=lambda sent: NOTICE_ORDER.index(sent.kind))
    if [sent.kind for sent in ordered] != list(NOTICE_ORDER[:len(ordered)]):
        raise ValueError(f"notices sent out of sequence: {[s.kind.value for s in ordered]}")
    return ordered


def next_dunning_step(*, overdue_since: date, notices_sent: Sequence[SentNotice], today: date,
                      policy: DunningPolicy, direct_debit_in_processing_window: bool,
                      paid: bool) -> list[Notice]:
    """The notice due today for one overdue invoice: an empty list or exactly one.

    Parameters: `overdue_since` the invoice's due date; `notices_sent` what went out already,
    with dates; `direct_debit_in_processing_window` True while a debit may still confirm (no
    notice then); `paid` nothing is due any more (the sequence stops).
    """
    sent = _in_order(notices_sent)
    if paid or direct_debit_in_processing_window or len(sent) == len(NOTICE_ORDER):
        return []
    index = len(sent)
    kind = NOTICE_ORDER[index]
    due_on = overdue_since + timedelta(days=policy.days_overdue[index])
    if sent:
        # Keep each announced gap even when the previous notice went out late.
        gap = policy.days_overdue[index] - policy.days_overdue[index - 1]
        due_on = max(due_on, sent[-1].on + timedelta(days=gap))
    if today < due_on:
        return []
    to_legal = policy.days_overdue[-1] - policy.days_overdue[index]
    return [Notice(kind=kind, standing=STANDING_AFTER[kind],
                   days_overdue=(today - overdue_since).days,
                   terminates_on=today + timedelta(days=to_legal))]


def standing_for(*, notices_sent: Iterable[NoticeKind], paid: bool,
                 policy: DunningPolicy) -> Standing:
    """Where one invoice puts its account: by its last notice; ACTIVE once paid."""
    kinds = set(notices_sent)
    if paid and (policy.reinstate_terminated or NoticeKind.LEGAL_NOTICE not in kinds):
        return Standing.ACTIVE
    reached = [kind for kind in NOTICE_ORDER if kind in kinds]
    return STANDING_AFTER[reached[-1]] if reached else Standing.ACTIVE


def account_standing(*, invoice_standings: Iterable[Standing]) -> Standing:
    """The account stands where its worst invoice stands (ACTIVE when none is overdue)."""
    return max(invoice_standings, key=_SEVERITY.__getitem__, default=Standing.ACTIVE)
