"""The single transition function: every outcome, in order, late, twice and out of order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.accounts import MethodType
from domain.declines import classify_gocardless, classify_stripe
from domain.events import (
    AdjustInvoicePaid,
    CancelScheduledRetries,
    CreditLedger,
    CustomerMessage,
    DebitLedger,
    FlagMethodUnusable,
    NotifyCustomer,
    ReconcileWithProvider,
    RetryInAttempt,
    ScheduleRetry,
    ledger_delta,
)
from domain.ledger import EntryKind
from domain.money import Money
from domain.outcomes import (
    AwaitingTransfer,
    CancelRequested,
    Charged,
    Declined,
    DeclineKind,
    NotFound,
    Pending,
    Reversal,
    ReversalCancelled,
    ReversalKind,
    TransientFailure,
    Unknown,
)
from domain.payments import (
    NOT_FOUND_CODE,
    AttemptStatus,
    Decision,
    Event,
    PaymentAttempt,
    apply_outcome,
)
from domain.retry_policy import RetryPolicy

S = AttemptStatus
NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)
AMOUNT = Money(10000, "EUR")
POLICY = RetryPolicy()


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def an_attempt(status: AttemptStatus = S.PROCESSING, **changes: Any) -> PaymentAttempt:
    attempt = PaymentAttempt(id="att_1", invoice_id="inv_1", account_id="acc_1",
                             method=MethodType.CARD, number=1, amount=AMOUNT, status=status,
                             created_at=NOW - timedelta(minutes=5),
                             updated_at=NOW - timedelta(minutes=5))
    return replace(attempt, **changes)


def apply(attempt: PaymentAttempt, outcome: Event, *, due: Money = AMOUNT,
          policy: RetryPolicy = POLICY, now: datetime = NOW,
          attempts_so_far: Sequence[datetime] = ()) -> Decision:
    return apply_outcome(attempt=attempt, outcome=outcome, invoice_due=due, policy=policy,
                         now=now, attempts_so_far=attempts_so_far or [attempt.created_at])


CHARGED = Charged(provider_ref="pi_1", amount=AMOUNT)
PENDING = Pending(provider_ref="PM001", amount=AMOUNT, expected_on=date(2026, 3, 5))
WIRE = AwaitingTransfer(reference="RF18539007547034", amount=AMOUNT, due_on=date(2026, 3, 31))
SOFT = Declined(kind=DeclineKind.SOFT, code="insufficient_funds")
HARD = Declined(kind=DeclineKind.HARD, code="lost_card")
ACTION = Declined(kind=DeclineKind.CUSTOMER_ACTION, code="authentication_required")
GC_RETRIES = Declined(kind=DeclineKind.SOFT, code="refer_to_payer", provider_will_retry=True)
UNKNOWN = Unknown(reason="read timeout after 3 tries")
TRANSIENT = TransientFailure(reason="HTTP 503", retry_after_seconds=2.0)


def kinds(decision: Decision) -> list[type]:
    return [type(effect) for effect in decision.effects]


CREDIT = [CreditLedger, AdjustInvoicePaid, NotifyCustomer]

TRANSITIONS = [
    # (from, outcome, to, effect types)
    pytest.param(S.PROCESSING, CHARGED, S.SUCCEEDED, CREDIT, id="a charge succeeds"),
    pytest.param(S.PROCESSING, PENDING, S.PENDING, [], id="a direct debit is pending"),
    pytest.param(S.PROCESSING, WIRE, S.AWAITING_TRANSFER, [], id="a wire awaits its transfer"),
    pytest.param(S.PROCESSING, SOFT, S.FAILED, [ScheduleRetry, NotifyCustomer],
                 id="a soft decline fails and schedules a retry"),
    pytest.param(S.PROCESSING, HARD, S.FAILED, [FlagMethodUnusable, NotifyCustomer],
                 id="a hard decline fails and asks for a new method"),
    pytest.param(S.PROCESSING, ACTION, S.REQUIRES_ACTION, [NotifyCustomer],
                 id="a customer action decline waits for the customer"),
    pytest.param(S.PROCESSING, GC_RETRIES, S.PENDING, [],
                 id="a failure the provider retries itself stays pending"),
    pytest.param(S.PROCESSING, UNKNOWN, S.UNKNOWN, [ReconcileWithProvider],
                 id="an unknown outcome asks for reconciliation"),
    pytest.param(S.PROCESSING, NotFound(), S.FAILED, [ScheduleRetry],
                 id="a stuck attempt the provider never saw fails and retries"),
    pytest.param(S.UNKNOWN, NotFound(), S.FAILED, [ScheduleRetry],
                 id="an unknown attempt the provider never saw fails and retries"),
    pytest.param(S.UNKNOWN, CHARGED, S.SUCCEEDED, CREDIT,
                 id="reconciliation finding the charge succeeds"),
    pytest.param(S.UNKNOWN, PENDING, S.PENDING, [], id="reconciliation finding it pending"),
    pytest.param(S.UNKNOWN, SOFT, S.FAILED, [ScheduleRetry, NotifyCustomer],
                 id="reconciliation finding a decline applies it"),
    pytest.param(S.PENDING, CHARGED, S.SUCCEEDED, CREDIT, id="a pending debit confirms"),
    pytest.param(S.PENDING, Declined(kind=DeclineKind.HARD, code="mandate_cancelled"), S.FAILED,
                 [FlagMethodUnusable, NotifyCustomer], id="a pending debit fails hard"),
    pytest.param(S.AWAITING_TRANSFER, CHARGED, S.SUCCEEDED, CREDIT, id="a wire is received"),
    pytest.param(S.REQUIRES_ACTION, SOFT, S.FAILED, [ScheduleRetry, NotifyCustomer],
                 id="the customer authenticates and the charge is then declined"),
    pytest.param(S.REQUIRES_ACTION, CHARGED, S.SUCCEEDED,
                 [CreditLedger, AdjustInvoicePaid, CancelScheduledRetries, NotifyCustomer],
                 id="the customer authenticates and the charge succeeds"),
    pytest.param(S.FAILED, CHARGED, S.SUCCEEDED,
                 [CreditLedger, AdjustInvoicePaid, CancelScheduledRetries, NotifyCustomer],
                 id="money arriving after a failure is credited and stops the retries"),
    pytest.param(S.CANCELED, CHARGED, S.SUCCEEDED,
                 [CreditLedger, AdjustInvoicePaid, CancelScheduledRetries, NotifyCustomer],
                 id="a wire paid after its instructions were withdrawn is still credited"),
]


@pytest.mark.parametrize(("start", "outcome", "to", "effects"), TRANSITIONS)
def test_an_outcome_moves_the_attempt_forward_with_its_effects(
        start: AttemptStatus, outcome: Event, to: AttemptStatus, effects: list[type]) -> None:
    # Given an attempt in `start`
    attempt = an_attempt(start)
    # When
    decision = apply(attempt, outcome)
    # Then
    assert decision.status is to
    assert kinds(decision) == effects
    assert decision.attempt is not None
    assert decision.attempt.status is to
    assert decision.attempt.updated_at == NOW
    assert decision.note


STALE = [
    pytest.param(S.SUCCEEDED, CHARGED, id="a duplicate charge after success"),
    pytest.param(S.SUCCEEDED, PENDING, id="pending after success"),
    pytest.param(S.SUCCEEDED, SOFT, id="a decline after success"),
    pytest.param(S.SUCCEEDED, UNKNOWN, id="unknown after success"),
    pytest.param(S.REVERSED, CHARGED, id="a charge after a reversal"),
    pytest.param(S.FAILED, PENDING, id="pending after a failure"),
    pytest.param(S.FAILED, SOFT, id="a duplicate decline"),
    pytest.param(S.FAILED, NotFound(), id="not found after a failure"),
    pytest.param(S.REQUIRES_ACTION, PENDING, id="pending after requires action"),
    pytest.param(S.REQUIRES_ACTION, ACTION, id="a duplicate requires action"),
    pytest.param(S.FAILED, ACTION, id="requires action after a failure"),
    pytest.param(S.CANCELED, SOFT, id="a decline after a cancel"),
    pytest.param(S.PENDING, PENDING, id="a duplicate pending"),
    pytest.param(S.PENDING, UNKNOWN, id="unknown after pending"),
    pytest.param(S.PENDING, NotFound(), id="not found after the provider said pending"),
    pytest.param(S.UNKNOWN, UNKNOWN, id="a duplicate unknown"),
    pytest.param(S.AWAITING_TRANSFER, WIRE, id="duplicate wire instructions"),
    pytest.param(S.PENDING, TRANSIENT, id="a transient failure outside processing"),
    pytest.param(S.SCHEDULED, NotFound(), id="not found for an attempt never sent"),
]


@pytest.mark.parametrize(("start", "outcome"), STALE)
def test_an_event_that_would_move_backwards_is_ignored(start: AttemptStatus,
                                                       outcome: Event) -> None:
    # Given / When
    decision = apply(an_attempt(start), outcome)
    # Then
    assert decision.ignored
    assert decision.status is None
    assert decision.attempt is None
    assert decision.note.startswith("stale")


@pytest.mark.parametrize("outcome", [CHARGED, PENDING, WIRE, SOFT, HARD, ACTION, GC_RETRIES,
                                     UNKNOWN, NotFound()])
def test_applying_the_same_outcome_twice_has_no_second_effect(outcome: Event) -> None:
    # Given the outcome applied once
    first = apply(an_attempt(), outcome)
    assert first.attempt is not None
    # When it arrives again
    second = apply(first.attempt, outcome)
    # Then
    assert second.ignored


def test_a_transient_failure_is_retried_inside_the_attempt_without_touching_it() -> None:
    # Given / When
    decision = apply(an_attempt(S.PROCESSING), TRANSIENT)
    # Then
    assert decision.status is None
    assert decision.attempt is None
    assert decision.effects == (RetryInAttempt(after_seconds=2.0),)


def test_a_charge_credits_the_ledger_by_the_charged_amount_and_pays_the_invoice() -> None:
    # Given / When
    decision = apply(an_attempt(), CHARGED)
    # Then
    assert decision.effects[:2] == (CreditLedger(AMOUNT, memo="payment pi_1"),
                                    AdjustInvoicePaid(AMOUNT))
    assert NotifyCustomer(CustomerMessage.PAYMENT_RECEIVED) in decision.effects
    assert decision.attempt is not None
    assert decision.attempt.provider_ref == "pi_1"
    assert "invoice paid" in decision.note


def test_a_charge_smaller_than_the_amount_due_leaves_the_rest_due() -> None:
    # Given an invoice with 150.00 due, charged 100.00 after its attempt had failed
    attempt = an_attempt(S.FAILED)
    # When
    decision = apply(attempt, CHARGED, due=eur(15000))
    # Then the retry still waiting for the rest is kept
    assert CancelScheduledRetries not in kinds(decision)
    assert "50.00 EUR still due" in decision.note


def test_pending_adds_nothing_to_the_ledger() -> None:
    # Given / When
    decision = apply(an_attempt(), PENDING)
    # Then
    assert ledger_delta(decision.effects, "EUR") == eur(0)
    assert decision.attempt is not None
    assert decision.attempt.provider_ref == "PM001"


def test_the_first_soft_decline_schedules_retry_two_a_day_later_with_the_schedule_copied() -> None:
    # Given a first attempt, policy (1, 3, 5, 7)
    # When it is declined for insufficient funds
    decision = apply(an_attempt(), SOFT)
    # Then
    assert ScheduleRetry(at=NOW + timedelta(days=1), schedule_days=(1, 3, 5, 7),
                         first_failed_at=NOW, number=2) in decision.effects
    assert NotifyCustomer(CustomerMessage.PAYMENT_FAILED) in decision.effects
    assert decision.attempt is not None
    assert decision.attempt.failure_code == "insufficient_funds"
    assert decision.attempt.failure_class is DeclineKind.SOFT
    assert decision.attempt.first_failed_at == NOW


def test_a_retry_follows_the_schedule_copied_onto_it_not_the_new_configuration() -> None:
    # Given retry 2 carrying (1, 3, 5, 7), first failure two days ago; configuration now (2, 9)
    first = NOW - timedelta(days=2)
    attempt = an_attempt(number=2, retry_schedule_days=(1, 3, 5, 7), first_failed_at=first)
    # When it is declined
    decision = apply(attempt, SOFT, policy=RetryPolicy(schedule_days=(2, 9)))
    # Then retry 3 runs on day 3 of the copied schedule, still anchored on the first failure
    assert ScheduleRetry(at=first + timedelta(days=3), schedule_days=(1, 3, 5, 7),
                         first_failed_at=first, number=3) in decision.effects


def test_no_retry_is_scheduled_once_the_schedule_is_exhausted() -> None:
    # Given the fourth retry (attempt 5)
    attempt = an_attempt(number=5, retry_schedule_days=(1, 3, 5, 7),
                         first_failed_at=NOW - timedelta(days=7))
    # When it is declined
    decision = apply(attempt, SOFT)
    # Then
    assert decision.status is S.FAILED
    assert ScheduleRetry not in kinds(decision)
    assert "exhausted" in decision.note


def test_no_retry_is_scheduled_when_the_card_had_fifteen_attempts_in_thirty_days() -> None:
    # Given fifteen attempts on this card over the last 28 days, this one included
    attempts = [NOW - timedelta(days=2 * i) for i in range(15)]
    # When it is declined
    decision = apply(an_attempt(), SOFT, attempts_so_far=attempts)
    # Then
    assert ScheduleRetry not in kinds(decision)
    assert "15 attempts in 30 days" in decision.note


def test_a_retry_is_scheduled_when_old_attempts_have_left_the_thirty_day_window() -> None:
    # Given fifteen attempts, but the retry would run when three are over 30 days old
    attempts = [NOW - timedelta(days=2 * i) for i in range(15)]
    # When
    decision = apply(an_attempt(), SOFT, attempts_so_far=attempts)
    decision_later = apply(an_attempt(), SOFT, attempts_so_far=attempts[:-1])
    # Then
    assert ScheduleRetry not in kinds(decision)
    assert ScheduleRetry in kinds(decision_later)


def test_a_failure_the_provider_retries_itself_is_not_retried_by_us() -> None:
    # Given a pending direct debit
    # When GoCardless says it failed and will attempt a retry
    decision = apply(an_attempt(S.PENDING), GC_RETRIES)
    # Then it stays in flight (pending), with the failure recorded, and nothing scheduled
    assert decision.status is S.PENDING
    assert decision.effects == ()
    assert decision.attempt is not None
    assert decision.attempt.failure_code == "refer_to_payer"


def test_a_hard_decline_flags_the_method_and_asks_for_a_new_one_without_retry() -> None:
    # Given / When
    decision = apply(an_attempt(), HARD)
    # Then
    assert decision.effects == (FlagMethodUnusable(reason="lost_card"),
                                NotifyCustomer(CustomerMessage.NEW_METHOD_NEEDED))


def test_an_unknown_outcome_never_schedules_a_new_charge() -> None:
    # Given / When
    decision = apply(an_attempt(), UNKNOWN)
    # Then
    assert decision.effects == (ReconcileWithProvider(),)
    assert ledger_delta(decision.effects, "EUR") == eur(0)


def test_not_found_at_provider_fails_the_attempt_and_retries_soon() -> None:
    # Given an unknown attempt
    # When reconciliation finds nothing at the provider
    decision = apply(an_attempt(S.UNKNOWN), NotFound())
    # Then
    assert decision.attempt is not None
    assert decision.attempt.failure_code == NOT_FOUND_CODE
    assert decision.effects == (ScheduleRetry(at=NOW + timedelta(minutes=15),
                                              schedule_days=(1, 3, 5, 7), first_failed_at=NOW,
                                              number=2),)


@pytest.mark.parametrize(("decline", "status", "effects"), [
    pytest.param(classify_stripe(code="card_declined", decline_code="insufficient_funds"),
                 S.FAILED, [ScheduleRetry, NotifyCustomer], id="stripe insufficient funds"),
    pytest.param(classify_stripe(code="card_declined", decline_code="generic_decline"),
                 S.FAILED, [ScheduleRetry, NotifyCustomer], id="stripe generic decline"),
    pytest.param(classify_stripe(code="processing_error", decline_code=None),
                 S.FAILED, [ScheduleRetry, NotifyCustomer], id="stripe processing error"),
    pytest.param(classify_stripe(code="card_declined", decline_code="stolen_card"),
                 S.FAILED, [FlagMethodUnusable, NotifyCustomer], id="stripe stolen card"),
    pytest.param(classify_stripe(code="expired_card", decline_code="expired_card"),
                 S.REQUIRES_ACTION, [NotifyCustomer], id="stripe expired card"),
    pytest.param(classify_gocardless("bank_account_closed"),
                 S.FAILED, [FlagMethodUnusable, NotifyCustomer], id="gocardless account closed"),
    pytest.param(classify_gocardless("insufficient_funds"),
                 S.FAILED, [ScheduleRetry, NotifyCustomer], id="gocardless insufficient funds"),
])
def test_classified_provider_declines_lead_to_their_status(
        decline: DeclineKind, status: AttemptStatus, effects: list[type]) -> None:
    # Given / When
    decision = apply(an_attempt(), Declined(kind=decline, code="x"))
    # Then
    assert decision.status is status
    assert kinds(decision) == effects


# --- Reversals ------------------------------------------------------------------------------

CHARGEBACK = Reversal(kind=ReversalKind.CHARGEBACK, amount=AMOUNT, provider_ref="dp_1",
                      code="fraudulent")
DISPUTE_WON = ReversalCancelled(amount=AMOUNT, provider_ref="dp_1", code="won")


@pytest.mark.parametrize(("kind", "entry", "message"), [
    (ReversalKind.LATE_FAILURE, EntryKind.PAYMENT_REVERSED, CustomerMessage.PAYMENT_REVERSED),
    (ReversalKind.CHARGEBACK, EntryKind.CHARGEBACK, CustomerMessage.PAYMENT_REVERSED),
    (ReversalKind.REFUND, EntryKind.REFUND, CustomerMessage.REFUND_ISSUED),
])
def test_a_full_reversal_after_success_reverses_the_attempt_and_the_amount_is_owed_again(
        kind: ReversalKind, entry: EntryKind, message: CustomerMessage) -> None:
    # Given a succeeded attempt
    # When the whole amount is taken back
    decision = apply(an_attempt(S.SUCCEEDED),
                     Reversal(kind=kind, amount=AMOUNT, provider_ref="r_1"))
    # Then
    assert decision.status is S.REVERSED
    assert decision.effects == (DebitLedger(entry, AMOUNT, memo=f"{kind} r_1"),
                                AdjustInvoicePaid(-AMOUNT), NotifyCustomer(message))


def test_a_partial_refund_keeps_the_attempt_succeeded() -> None:
    # Given / When
    decision = apply(an_attempt(S.SUCCEEDED),
                     Reversal(kind=ReversalKind.REFUND, amount=eur(2500), provider_ref="re_1"))
    # Then
    assert decision.status is S.SUCCEEDED
    assert ledger_delta(decision.effects, "EUR") == eur(2500)
    assert decision.attempt is not None
    assert decision.attempt.reversed == eur(2500)


def test_the_same_reversal_twice_debits_once() -> None:
    # Given a chargeback applied
    first = apply(an_attempt(S.SUCCEEDED), CHARGEBACK)
    assert first.attempt is not None
    # When it arrives again
    second = apply(first.attempt, CHARGEBACK)
    # Then
    assert second.ignored


def test_a_won_dispute_credits_the_amount_back_and_the_attempt_succeeds_again() -> None:
    # Given a charged-back attempt
    reversed_ = apply(an_attempt(S.SUCCEEDED), CHARGEBACK).attempt
    assert reversed_ is not None
    # When the dispute is won, twice
    won = apply(reversed_, DISPUTE_WON)
    assert won.attempt is not None
    again = apply(won.attempt, DISPUTE_WON)
    # Then
    assert won.status is S.SUCCEEDED
    assert won.effects == (CreditLedger(AMOUNT, kind=EntryKind.CHARGEBACK_REVERSED,
                                        memo="reversal dp_1 cancelled"),
                           AdjustInvoicePaid(AMOUNT))
    assert again.ignored


def test_a_chargeback_seen_before_the_charge_implies_the_charge() -> None:
    # Given an attempt still processing
    # When the chargeback arrives first, then the charge
    first = apply(an_attempt(S.PROCESSING), CHARGEBACK)
    assert first.attempt is not None
    then = apply(first.attempt, CHARGED)
    # Then the ledger nets to zero (owed again) and the late charge is stale
    assert first.status is S.REVERSED
    assert kinds(first)[:2] == [CreditLedger, DebitLedger]
    assert ledger_delta(first.effects, "EUR") == eur(0)
    assert AdjustInvoicePaid not in kinds(first)
    assert then.ignored


def test_a_late_failure_reported_as_a_decline_after_success_is_stale() -> None:
    # Given a confirmed debit; late failures must come as Reversal(LATE_FAILURE)
    # When / Then
    assert apply(an_attempt(S.SUCCEEDED), Declined(kind=DeclineKind.SOFT, code="x")).ignored


# --- Cancellation ---------------------------------------------------------------------------

@pytest.mark.parametrize(("start", "to"), [
    (S.SCHEDULED, S.CANCELED), (S.REQUIRES_ACTION, S.CANCELED),
    (S.AWAITING_TRANSFER, S.CANCELED), (S.PROCESSING, None), (S.PENDING, None),
    (S.UNKNOWN, None), (S.FAILED, None), (S.SUCCEEDED, None), (S.CANCELED, None),
])
def test_only_attempts_with_no_money_moving_can_be_canceled(
        start: AttemptStatus, to: AttemptStatus | None) -> None:
    # Given / When
    decision = apply(an_attempt(start), CancelRequested(reason="carried forward to inv_2"))
    # Then
    assert decision.status is to
    assert decision.effects == ()
    if to is not None:
        assert decision.attempt is not None
        assert decision.attempt.reason == "carried forward to inv_2"


def test_a_naive_now_is_refused() -> None:
    # Given / When / Then
    with pytest.raises(ValueError, match="timezone-aware"):
        apply(an_attempt(), CHARGED, now=datetime(2026, 3, 1))  # noqa: DTZ001


# --- Order independence ---------------------------------------------------------------------

REFUND_1 = Reversal(kind=ReversalKind.REFUND, amount=eur(3000), provider_ref="re_1")
REFUND_2 = Reversal(kind=ReversalKind.REFUND, amount=eur(2000), provider_ref="re_2")
LATE_FAILURE = Reversal(kind=ReversalKind.LATE_FAILURE, amount=AMOUNT, provider_ref="EV123")

#: Event sets one attempt can really receive, in the order they happened, and where they end:
#: (events, final status, ledger change in cents: credit < 0).
STORIES: list[tuple[list[Event], AttemptStatus, int]] = [
    ([PENDING, CHARGED], S.SUCCEEDED, -10000),
    ([UNKNOWN, PENDING, CHARGED], S.SUCCEEDED, -10000),
    ([WIRE, CHARGED], S.SUCCEEDED, -10000),
    ([CHARGED, CHARGEBACK], S.REVERSED, 0),
    ([CHARGED, CHARGEBACK, DISPUTE_WON], S.SUCCEEDED, -10000),
    ([PENDING, CHARGED, REFUND_1, REFUND_2], S.SUCCEEDED, -5000),
    ([PENDING, GC_RETRIES, CHARGED], S.SUCCEEDED, -10000),
    ([PENDING, GC_RETRIES], S.PENDING, 0),
    ([PENDING, SOFT], S.FAILED, 0),
    ([PENDING, CHARGED, LATE_FAILURE], S.REVERSED, 0),
    ([UNKNOWN, NotFound()], S.FAILED, 0),
    ([UNKNOWN, NotFound(), CHARGED], S.SUCCEEDED, -10000),
    ([UNKNOWN, ACTION, CHARGED], S.SUCCEEDED, -10000),
    ([ACTION, SOFT], S.FAILED, 0),
    ([ACTION, HARD], S.FAILED, 0),
    ([ACTION, CHARGED, CHARGEBACK, DISPUTE_WON, REFUND_1], S.SUCCEEDED, -7000),
    ([HARD], S.FAILED, 0),
    ([SOFT, CHARGED], S.SUCCEEDED, -10000),
]
SCENARIOS = [events for events, _, _ in STORIES]


def replay(events: Sequence[Event]) -> tuple[AttemptStatus, Money, Money]:
    """Final status, ledger change and invoice paid change after applying `events` in order."""
    attempt, ledger, paid = an_attempt(S.PROCESSING), eur(0), eur(0)
    for event in events:
        decision = apply(attempt, event)
        attempt = decision.attempt or attempt
        ledger = ledger + ledger_delta(decision.effects, "EUR")
        for effect in decision.effects:
            if isinstance(effect, AdjustInvoicePaid):
                paid = paid + effect.delta
    return attempt.status, ledger, paid


@pytest.mark.parametrize(("events", "status", "ledger"), STORIES)
def test_an_attempts_events_in_their_real_order_end_in_the_expected_status_and_ledger(
        events: list[Event], status: AttemptStatus, ledger: int) -> None:
    # Given / When
    final, ledger_change, paid = replay(events)
    # Then the invoice's amount paid moves exactly opposite to the ledger
    assert (final, ledger_change, paid) == (status, eur(ledger), eur(-ledger))


@given(data=st.data(), scenario=st.sampled_from(SCENARIOS))
def test_any_order_of_an_attempts_events_ends_where_the_real_order_ends(
        data: st.DataObject, scenario: list[Event]) -> None:
    # Given the events one attempt received, some delivered twice, in any order
    duplicates = data.draw(st.lists(st.sampled_from(scenario), max_size=3))
    shuffled = data.draw(st.permutations([*scenario, *duplicates]))
    # When
    expected = replay(scenario)
    actual = replay(shuffled)
    # Then same final status, same ledger sum, same amount paid on the invoice
    assert actual == expected
