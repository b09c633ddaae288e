"""What the handlers report to the business, written in their own transactions: renewals
(invoice.issued, invoice.carried_forward) and payment outcomes (payment.failed with its
decline and next retry, payment.succeeded, invoice.paid), each once however often the
provider repeats itself. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.clock import ManualClock
from domain.outcomes import Charged, Declined, DeclineKind
from domain.outgoing_events import EVENT_TYPES, WebhookEndpoint
from tests.handlers.doubles import Doubles
from tests.handlers.world import MONTHLY, card_account, renew, subscribe
from workers.handlers.apply import record_event
from workers.handlers.collection import collect_attempt, route_invoice


def events_of(uow_factory: SqlUnitOfWorkFactory, account_id: str) -> list[tuple[str, Any]]:
    with uow_factory() as uow:
        found = uow.events.listed(account_id=account_id, limit=100)
    return [(e.type, e.data) for e in sorted(found, key=lambda e: e.sequence)]


def _first_invoice(doubles: Doubles) -> tuple[str, str]:
    uow_factory, clock = doubles.deps.uow_factory, doubles.deps.clock
    with uow_factory() as uow:  # an endpoint for everything: deliveries are written too
        uow.webhook_endpoints.add(endpoint=WebhookEndpoint(
            id="we_1", url="http://127.0.0.1:9/", events=tuple(EVENT_TYPES),
            secret="whsec_1", created_at=clock.now()))
        uow.commit()
    subscribe(uow_factory, account=card_account(), started_on=clock.today())
    [invoice_id] = renew(uow_factory, clock)
    attempt_id = route_invoice(doubles.deps, invoice_id=invoice_id)
    assert attempt_id is not None
    return invoice_id, attempt_id


def test_a_soft_decline_is_reported_once_with_its_class_code_and_next_retry(
        uow_factory: SqlUnitOfWorkFactory, doubles: Doubles) -> None:
    # Given March's invoice, declined for insufficient funds
    doubles.card.script(Declined(DeclineKind.SOFT, "insufficient_funds"))
    invoice_id, attempt_id = _first_invoice(doubles)
    collect_attempt(doubles.deps, attempt_id=attempt_id)
    # When the provider's webhook repeats the decline
    record_event(doubles.deps, attempt_id=attempt_id,
                 event=Declined(DeclineKind.SOFT, "insufficient_funds"))
    # Then the business heard of the invoice and of one failed payment, with its retry
    events = events_of(uow_factory, "acc_card")
    assert [kind for kind, _ in events] == ["invoice.issued", "payment.failed"]
    failed = events[1][1]
    assert failed["failure"]["class"] == "soft"
    assert failed["failure"]["code"] == "insufficient_funds"
    assert failed["next_retry_at"] is not None
    assert (failed["invoice"], failed["amount"], failed["currency"]) == (
        invoice_id, MONTHLY.minor, MONTHLY.currency)
    with uow_factory() as uow:
        assert all(len(uow.events.deliveries(event_id=e.id)) == 1 for e in uow.events.listed())


def test_a_payment_is_reported_then_its_paid_invoice_once(
        uow_factory: SqlUnitOfWorkFactory, doubles: Doubles) -> None:
    invoice_id, attempt_id = _first_invoice(doubles)
    collect_attempt(doubles.deps, attempt_id=attempt_id)
    record_event(doubles.deps, attempt_id=attempt_id, event=Charged(MONTHLY, "ch_dup"))
    kinds = [kind for kind, _ in events_of(uow_factory, "acc_card")]
    assert kinds == ["invoice.issued", "payment.succeeded", "invoice.paid"]
    paid = events_of(uow_factory, "acc_card")[2][1]
    assert (paid["id"], paid["status"], paid["amount_due"]) == (invoice_id, "paid", 0)


def test_the_next_renewal_reports_the_new_invoice_and_the_one_it_carries_forward(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given March unpaid (a hard decline: nothing in flight)
    doubles.card.script(Declined(DeclineKind.HARD, "lost_card"))
    march_id, attempt_id = _first_invoice(doubles)
    collect_attempt(doubles.deps, attempt_id=attempt_id)
    # When April is issued
    clock.advance(days=31)
    [april_id] = renew(uow_factory, clock)
    # Then the business hears: April issued with March's amount, March carried forward
    events = events_of(uow_factory, "acc_card")
    assert [kind for kind, _ in events] == [
        "invoice.issued", "payment.failed", "payment_method.required", "invoice.issued",
        "invoice.carried_forward"]
    issued, carried = events[3][1], events[4][1]
    assert (issued["id"], issued["previous_amount_due"]) == (april_id, MONTHLY.minor)
    assert (carried["id"], carried["status"], carried["carried_to"]) == (
        march_id, "carried_forward", april_id)
