"""Provider webhook events in the domain's words: real Stripe envelopes, GoCardless events
built from the event actions catalog."""

from __future__ import annotations

from adapters import gocardless_events, stripe_events
from adapters.gocardless_events import Wait
from domain.money import Money
from domain.outcomes import (
    Charged,
    Declined,
    DeclineKind,
    Pending,
    Reversal,
    ReversalCancelled,
    ReversalKind,
)
from tests.integration.webhook_support import gocardless_event, stripe_event

EUR_100 = Money(10000, "EUR")


def test_a_failed_payment_intent_is_a_soft_decline_on_its_payment_intent() -> None:
    # Given Stripe's payment_intent.payment_failed envelope (generic_decline)
    event = stripe_event("payment_intent.payment_failed",
                         object_changes={"metadata": {"attempt_id": "att_9"}})
    # When it is mapped
    change = stripe_events.payment_change(event)
    # Then it is a soft decline for attempt att_9
    assert change is not None
    assert change.attempt_id == "att_9"
    assert isinstance(change.event, Declined)
    assert change.event.kind is DeclineKind.SOFT
    assert change.intent_id == "pi_000000000000000000000000"


def test_a_refund_reverses_only_the_amount_this_event_refunded() -> None:
    # Given charge.refunded: 100 refunded now, 0 before
    change = stripe_events.payment_change(stripe_event("charge.refunded"))
    # Then it is a refund of 1.00 USD named by the refund's id
    assert change is not None
    assert change.event == Reversal(ReversalKind.REFUND, Money(100, "USD"),
                                    "re_000000000000000000000000", "refund")


def test_a_won_dispute_cancels_the_chargeback_of_the_same_dispute() -> None:
    # Given a dispute closed as won
    event = stripe_event("charge.dispute.created", type="charge.dispute.closed",
                         object_changes={"status": "won"})
    # When it is mapped
    change = stripe_events.payment_change(event)
    # Then the dispute's amount is given back
    assert change is not None
    assert change.event == ReversalCancelled(Money(100, "USD"), "dp_000000000000000000000000",
                                             "dispute won")


def test_a_dispute_under_an_older_api_version_names_its_charge() -> None:
    # Given a dispute without its PaymentIntent (API versions before disputes carried one)
    event = stripe_event("charge.dispute.created",
                         object_changes={"payment_intent": None, "charge": "ch_old"})
    # When it is mapped
    change = stripe_events.payment_change(event)
    # Then it is a chargeback with no PaymentIntent, naming the charge to look it up by
    assert change is not None
    assert isinstance(change.event, Reversal)
    assert (change.intent_id, change.charge_id) == (None, "ch_old")


def test_a_failure_after_confirmation_is_a_late_failure_whatever_the_arrival_order() -> None:
    # Given a payment confirmed, then failed
    confirmed = gocardless_event("payments", "confirmed", link="PM1",
                                 created_at="2026-02-05T09:00:00.000Z")
    failed = gocardless_event("payments", "failed", link="PM1", cause="insufficient_funds",
                              created_at="2026-02-09T09:00:00.000Z", will_attempt_retry=False)
    history = [confirmed, failed]
    # When the failure is seen first, then the confirmation, on a pending attempt
    on_failed = gocardless_events.payment_events(failed, amount=EUR_100, settled=False,
                                                 history=history)
    on_confirmed = gocardless_events.payment_events(confirmed, amount=EUR_100, settled=False,
                                                    history=history)
    # Then both say: collected, then reversed as a late failure named by the failed event
    late = Reversal(ReversalKind.LATE_FAILURE, EUR_100, str(failed["id"]), "insufficient_funds")
    assert on_failed == [late]
    assert on_confirmed == [Charged("PM1", EUR_100), late]


def test_a_failure_before_confirmation_is_classified_and_keeps_will_attempt_retry() -> None:
    # Given a direct debit failing with a hard cause, GoCardless not retrying
    failed = gocardless_event("payments", "failed", link="PM2", cause="bank_account_closed",
                              created_at="2026-02-04T09:00:00.000Z", will_attempt_retry=True)
    # When it is mapped
    steps = gocardless_events.payment_events(failed, amount=EUR_100, settled=False,
                                             history=[failed])
    # Then it is a hard decline that remembers the provider retries
    assert isinstance(steps, list)
    assert isinstance(steps[0], Declined)
    assert (steps[0].kind, steps[0].provider_will_retry) == (DeclineKind.HARD, True)


def test_a_chargeback_cancelled_before_the_chargeback_is_seen_waits() -> None:
    # Given only the cancellation
    cancelled = gocardless_event("payments", "chargeback_cancelled", link="PM3",
                                 created_at="2026-03-04T09:00:00.000Z")
    # Then it waits for the chargeback; once seen, it cancels that chargeback
    assert isinstance(gocardless_events.payment_events(
        cancelled, amount=EUR_100, settled=True, history=[cancelled]), Wait)
    charged_back = gocardless_event("payments", "charged_back", link="PM3",
                                    created_at="2026-03-01T09:00:00.000Z")
    assert gocardless_events.payment_events(
        cancelled, amount=EUR_100, settled=True, history=[charged_back, cancelled]) == [
        ReversalCancelled(EUR_100, str(charged_back["id"]), "chargeback_cancelled")]


def test_a_submitted_payment_is_pending_and_a_mandate_event_yields_to_a_later_one() -> None:
    submitted = gocardless_event("payments", "submitted", link="PM4",
                                 created_at="2026-02-02T09:00:00.000Z")
    assert gocardless_events.payment_events(submitted, amount=EUR_100, settled=False,
                                            history=[]) == [Pending("PM4", EUR_100)]
    active = gocardless_event("mandates", "active", link="MD1",
                              created_at="2026-02-01T09:00:00.000Z")
    cancelled = gocardless_event("mandates", "cancelled", link="MD1",
                                 created_at="2026-02-03T09:00:00.000Z")
    assert not gocardless_events.mandate_is_latest(active, [active, cancelled])
    assert gocardless_events.mandate_is_latest(cancelled, [active, cancelled])
