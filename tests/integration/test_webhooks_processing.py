"""Webhooks through the embedded system: signed events posted to the served app, processed
by the worker, applied through the single transition function."""

from __future__ import annotations

from dataclasses import replace

from domain.accounts import MethodType, PaymentMethod
from domain.invoices import InvoiceStatus
from domain.ledger import EntryKind
from domain.outcomes import Declined, DeclineKind
from domain.payments import AttemptStatus
from tests.integration import webhook_world
from tests.integration.webhook_support import (
    gocardless_body,
    gocardless_event,
    gocardless_headers,
    stripe_body,
    stripe_event,
    stripe_headers,
)
from tests.integration.webhook_world import World
from workers.handlers.apply import record_event
from workers.handlers.sweeper import SweepSettings, redrive_webhooks

# The fixture these tests use: pytest finds fixtures among a module's attributes.
world = webhook_world.world


def _dispute(*, intent: str, amount: int) -> bytes:
    return stripe_body(stripe_event("charge.dispute.created", object_changes={
        "payment_intent": intent, "amount": amount, "currency": "eur"}))


def test_a_chargeback_after_payout_reopens_the_balance_and_the_next_invoice_carries_it(
        world: World) -> None:
    # Given a card invoice collected in full
    account = world.card_customer()
    world.collect(world.renew())
    [first] = world.invoices(account)
    [paid] = world.attempts(first.id)
    assert (first.status, paid.status) == (InvoiceStatus.PAID, AttemptStatus.SUCCEEDED)
    # When Stripe reports a dispute on that payment (funds withdrawn)
    body = _dispute(intent=str(paid.provider_ref), amount=paid.amount.minor)
    assert world.post_stripe(body, stripe_headers(body)).status_code == 200
    world.settle()
    # Then the amount is owed again: attempt reversed, invoice open, ledger debited
    [reopened] = world.invoices(account)
    assert world.attempts(first.id)[0].status is AttemptStatus.REVERSED
    assert reopened.status is InvoiceStatus.OPEN
    assert reopened.amount_due == first.total
    assert world.ledger_sum(account) == first.total.minor
    # And the next invoice brings it forward as the previous amount due
    world.clock.set(world.clock.now().replace(month=2, day=28))
    world.renew()
    carried, following = world.invoices(account)
    assert following.previous_amount_due == first.total
    assert carried.status is InvoiceStatus.CARRIED_FORWARD


def test_a_dispute_naming_only_the_charge_is_matched_through_stripe(world: World) -> None:
    # Given a card invoice collected in full, and the charge Stripe made for it
    account = world.card_customer()
    world.collect(world.renew())
    [invoice] = world.invoices(account)
    [paid] = world.attempts(invoice.id)
    simulator = world.system.providers.stripe_sim
    assert simulator is not None
    intent = simulator.store.table("payment_intents")[str(paid.provider_ref)]
    # When a dispute arrives under an older API version: the charge, no PaymentIntent
    body = stripe_body(stripe_event("charge.dispute.created", object_changes={
        "payment_intent": None, "charge": intent["latest_charge"],
        "amount": paid.amount.minor, "currency": "eur"}))
    assert world.post_stripe(body, stripe_headers(body)).status_code == 200
    world.settle()
    # Then Stripe is asked which payment the charge was, and the chargeback is applied
    assert world.attempts(invoice.id)[0].status is AttemptStatus.REVERSED
    assert world.ledger_sum(account) == invoice.total.minor


def test_a_dispute_on_a_charge_stripe_does_not_know_is_parked(world: World) -> None:
    # Given a collected card invoice
    account = world.card_customer()
    world.collect(world.renew())
    [invoice] = world.invoices(account)
    # When a dispute names only a charge Stripe cannot find
    body = stripe_body(stripe_event("charge.dispute.created", object_changes={
        "payment_intent": None, "charge": "ch_unknown", "amount": 100, "currency": "eur"}))
    assert world.post_stripe(body, stripe_headers(body)).status_code == 200
    world.settle()
    # Then nothing changes; the event waits to be tried again
    assert world.attempts(invoice.id)[0].status is AttemptStatus.SUCCEEDED
    assert world.ledger_sum(account) == 0
    with world.deps.uow_factory() as uow:
        stored = uow.webhook_events.list(provider="stripe", limit=100)
    assert [e.status for e in stored if e.type == "charge.dispute.created"] == ["parked"]


def test_the_same_dispute_delivered_twice_debits_once(world: World) -> None:
    # Given a collected card invoice
    account = world.card_customer()
    world.collect(world.renew())
    [invoice] = world.invoices(account)
    [paid] = world.attempts(invoice.id)
    body = _dispute(intent=str(paid.provider_ref), amount=paid.amount.minor)
    # When the same event is delivered twice
    for _ in range(2):
        assert world.post_stripe(body, stripe_headers(body)).status_code == 200
        world.settle()
    # Then it had one effect: one chargeback entry
    with world.deps.uow_factory() as uow:
        entries = uow.ledger.list_for_account(account_id=account)
    assert [e.kind for e in entries].count(EntryKind.CHARGEBACK) == 1
    assert world.ledger_sum(account) == invoice.total.minor


def _debit_account(world: World) -> tuple[str, str]:
    account = world.customer(method=PaymentMethod(
        MethodType.DIRECT_DEBIT, provider_customer="CU0001", provider_method="MD0001",
        scheme="sepa_core"))
    world.renew()
    [invoice] = world.invoices(account)
    return account, invoice.id


def _late_failure_burst(payment: str) -> list[dict[str, object]]:
    return [
        gocardless_event("payments", "submitted", link=payment,
                         created_at="2026-02-02T09:00:00.000Z"),
        gocardless_event("payments", "confirmed", link=payment,
                         created_at="2026-02-05T09:00:00.000Z"),
        gocardless_event("payments", "paid_out", link=payment,
                         created_at="2026-02-06T09:00:00.000Z"),
        gocardless_event("payments", "failed", link=payment, cause="insufficient_funds",
                         created_at="2026-02-09T09:00:00.000Z", will_attempt_retry=False),
    ]


def _outcome(world: World, account: str, invoice_id: str) -> tuple[object, ...]:
    [attempt] = [a for a in world.attempts(invoice_id) if a.number == 1]
    [invoice] = world.invoices(account)
    return (attempt.status, attempt.reversed.minor, invoice.status, invoice.amount_due.minor,
            world.ledger_sum(account))


def test_a_burst_delivered_in_reverse_order_ends_in_the_same_state_as_in_order(
        world: World) -> None:
    # Given two direct debits accepted by GoCardless, then confirmed, paid out, failed late
    outcomes = []
    for order in ("in order", "reversed"):
        account, invoice_id = _debit_account(world)
        [invoice] = world.invoices(account)
        payment = f"PM{order[:3].upper()}0001"
        world.pending_debit(invoice, payment_id=payment)
        burst = _late_failure_burst(payment)
        # When one burst arrives in order and the other backwards, each event on its own
        for event in (burst if order == "in order" else list(reversed(burst))):
            body = gocardless_body([event])
            assert world.post_gocardless(body, gocardless_headers(body)).status_code == 200
        world.settle()
        outcomes.append(_outcome(world, account, invoice_id))
    # Then both end reversed, the amount owed again, and the same ledger
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] is AttemptStatus.REVERSED
    assert outcomes[0][2] is InvoiceStatus.OPEN


def test_a_payment_event_for_an_unknown_payment_is_parked_and_redriven_by_the_sweeper(
        world: World) -> None:
    # Given a confirmation for a payment no attempt knows yet
    account, _ = _debit_account(world)
    event = gocardless_event("payments", "confirmed", link="PMLATE0001",
                             created_at="2026-02-05T09:00:00.000Z")
    body = gocardless_body([event])
    assert world.post_gocardless(body, gocardless_headers(body)).status_code == 200
    world.settle()
    with world.deps.uow_factory() as uow:
        parked = uow.webhook_events.get(provider="gocardless", event_id=event["id"])
    assert parked is not None
    assert (parked.status, parked.attempts) == ("parked", 1)
    # When the attempt is recorded and the sweeper runs after the next-try time
    [invoice] = world.invoices(account)
    world.pending_debit(invoice, payment_id="PMLATE0001")
    world.clock.advance(minutes=5)
    redriven = redrive_webhooks(world.deps, settings=SweepSettings())
    # Then the event is applied: paid, processed
    with world.deps.uow_factory() as uow:
        done = uow.webhook_events.get(provider="gocardless", event_id=event["id"])
    assert redriven == 1
    assert done is not None
    assert done.status == "processed"
    assert world.invoices(account)[0].status is InvoiceStatus.PAID


def _open_invoices_on_a_declining_card(world: World) -> tuple[str, list[str]]:
    """Two open invoices: the first was still in flight when the second was issued (so not
    carried forward), then declined; the second declined too."""
    account = world.card_customer("pm_card_chargeDeclinedInsufficientFunds")
    world.renew()
    [invoice] = world.invoices(account)
    in_flight = world.pending_debit(invoice, payment_id="pi_in_flight")
    with world.deps.uow_factory() as uow:  # a card charge still processing, not a debit
        uow.attempts.update(attempt=replace(in_flight, method=MethodType.CARD,
                                            status=AttemptStatus.PROCESSING),
                            expected_status=AttemptStatus.PENDING)
        uow.commit()
    world.clock.set(world.clock.now().replace(month=2, day=28))
    second = world.renew()
    record_event(world.deps, attempt_id=in_flight.id,
                 event=Declined(DeclineKind.SOFT, "insufficient_funds"))
    world.collect(second)
    return account, [invoice.id, *second]


def test_an_updated_card_retries_the_open_balances_within_one_worker_cycle_oldest_first(
        world: World) -> None:
    # Given two invoices left open by a card that declines
    account, invoice_ids = _open_invoices_on_a_declining_card(world)
    assert [i.status for i in world.invoices(account)] == [InvoiceStatus.OPEN] * 2
    # When Stripe says a new card was attached to the customer (a real attach at Stripe)
    stripe_sim = world.system.providers.stripe_sim
    assert stripe_sim is not None
    with world.deps.uow_factory() as uow:
        found = uow.accounts.get(account_id=account)
    assert found is not None
    customer = found.payment_method.provider_customer
    # (the gateway's SDK client: the gateway itself has no "attach another card" call)
    client = world.system.stripe._client
    new_card = client.v1.payment_methods.attach("pm_card_visa", {"customer": str(customer)})
    event = stripe_event("payment_intent.succeeded", type="payment_method.attached")
    event["data"]["object"] = {"id": new_card.id, "object": "payment_method",
                               "customer": customer, "type": "card"}
    body = stripe_body(event)
    assert world.post_stripe(body, stripe_headers(body)).status_code == 200
    world.settle()
    # Then every open balance was collected on the new card, the oldest invoice first
    assert [i.status for i in world.invoices(account)] == [InvoiceStatus.PAID] * 2
    charged = [pi["metadata"]["invoice_id"]
               for pi in stripe_sim.store.table("payment_intents").values()
               if pi["payment_method"] == new_card.id and pi["status"] == "succeeded"]
    assert charged == invoice_ids


def test_a_cancelled_mandate_makes_the_method_unusable_even_when_an_older_event_comes_last(
        world: World) -> None:
    # Given an account collecting on mandate MD0001
    account, _ = _debit_account(world)
    active = gocardless_event("mandates", "active", link="MD0001",
                              created_at="2026-02-01T09:00:00.000Z")
    cancelled = gocardless_event("mandates", "cancelled", link="MD0001",
                                 created_at="2026-02-03T09:00:00.000Z")
    # When the cancellation arrives, then the older activation
    for event in (cancelled, active):
        body = gocardless_body([event])
        assert world.post_gocardless(body, gocardless_headers(body)).status_code == 200
        world.settle()
    # Then the method is not usable, for the reason GoCardless gave
    with world.deps.uow_factory() as uow:
        found = uow.accounts.get(account_id=account)
    assert found is not None
    assert not found.payment_method.usable
    assert found.payment_method.details["unusable_reason"] == "mandate_cancelled"
    # And the customer is told, once, to set up a new method (no payment failed to say so)
    again = gocardless_event("mandates", "expired", link="MD0001",
                             created_at="2026-02-04T09:00:00.000Z")
    body = gocardless_body([again])
    assert world.post_gocardless(body, gocardless_headers(body)).status_code == 200
    world.settle()
    with world.deps.uow_factory() as uow:
        notices = [n for n in uow.outbox.list_all() if n.account_id == account]
    assert [n.kind for n in notices] == ["mandate_ended"]
    assert notices[0].sent_at is not None
    assert "nouveau moyen de paiement" in notices[0].body_text  # in the account's language
