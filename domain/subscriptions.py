"""Subscriptions: an account's plan, anchored on its start date, and where renewals stand."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta

from domain.billing import SubscriptionTerms
from domain.plans import Plan


class SubscriptionStatus(enum.StrEnum):
    ACTIVE = "active"
    #: Ended: its final invoice is issued and it is never renewed again.
    CANCELED = "canceled"


class SubscriptionState(enum.StrEnum):
    """What the API and the console show: ACTIVE with an end day ahead is CANCELING."""

    ACTIVE = "active"
    CANCELING = "canceling"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Subscription:
    """A subscription and its renewal bookkeeping.

    `next_renewal_on` is the next billing date the scheduler must process (indexed: the
    scheduler's "due" query reads it); `billed_through` the last billing date already
    processed (None: nothing yet), i.e. the `after` of `domain.renewals.billing_dates`.
    """

    id: str
    account_id: str
    terms: SubscriptionTerms
    next_renewal_on: date
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE
    billed_through: date | None = None
    #: The business's own id for this subscription (unique when given).
    external_id: str | None = None
    #: The first day without service (exclusive end; the final invoice's issue date): set
    #: ahead of time by a cancellation at the end of the term, or on the day it ends.
    ends_on: date | None = None
    #: Why it ends: "terminated" (the legal notice), "canceled" (the customer), or an
    #: operator's reason.
    end_reason: str | None = None

    @classmethod
    def start(cls, *, id: str, account_id: str, terms: SubscriptionTerms,
              external_id: str | None = None) -> Subscription:
        """A new subscription, first billed on its start date."""
        return cls(id=id, account_id=account_id, terms=terms, next_renewal_on=terms.started_on,
                   external_id=external_id)

    @property
    def plan(self) -> Plan:
        return self.terms.plan

    @property
    def started_on(self) -> date:
        return self.terms.started_on

    @property
    def state(self) -> SubscriptionState:
        if self.status is SubscriptionStatus.CANCELED:
            return SubscriptionState.ENDED
        return SubscriptionState.ACTIVE if self.ends_on is None else SubscriptionState.CANCELING

    def renews_until(self, as_of: date) -> date:
        """The last day a renewal as of `as_of` may date an invoice: `as_of`, or for one that
        ends, the day before its end (its final invoice, the endings pass's, takes that day)."""
        return min(as_of, self.ends_on - timedelta(days=1)) if self.ends_on else as_of

    @property
    def is_live(self) -> bool:
        """Not ended (it may be canceling: it still runs until its end day)."""
        return self.status is SubscriptionStatus.ACTIVE
