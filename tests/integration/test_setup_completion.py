"""Payment-method setups end to end in the embedded system: started by the handler, completed
by the customer on the simulator's hosted page over HTTP, reported by signed webhooks to the
served webhook app, and applied through the change-of-method path (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from adapters.db.tables import PaymentMethodSetupRow
from adapters.stripe_gateway import StripeGateway, TransientRetry
from domain.accounts import MethodDisplay, MethodType, PaymentMethod
from domain.errors import UnknownAccount
from domain.invoices import InvoiceStatus
from domain.payments import AttemptStatus
from domain.setups import InvalidScheme, ProviderUnavailable, SetupStatus
from tests.integration import setup_world
from tests.integration.setup_world import submit_hosted_page
from tests.integration.webhook_world import World
from workers.handlers.setups import get_setup, start_setup
from workers.handlers.webhooks import process_webhook

world = setup_world.world

#: The GoCardless sandbox IBAN the hosted page prefills (it must never reach a log).
SANDBOX_IBAN = "FR1420041010050500013M02606"


def _declined_invoice(world: World, card: str = "pm_card_chargeDeclined") -> tuple[str, str]:
    account = world.card_customer(card)
    [invoice_id] = world.renew()
    world.collect([invoice_id])
    [invoice] = world.invoices(account)
    assert invoice.status is InvoiceStatus.OPEN
    return account, invoice_id


def _account(world: World, account_id: str):  # type: ignore[no-untyped-def]
    with world.deps.uow_factory() as uow:
        return uow.accounts.get(account_id=account_id)


def test_a_card_set_up_on_the_hosted_page_becomes_the_method_and_pays_the_open_invoice(
        world: World) -> None:
    # Given an invoice left open by a declining card
    account, invoice_id = _declined_invoice(world)
    # When the customer sets up a new card on Stripe Checkout (setup mode)
    started = start_setup(world.deps, account_id=account, method=MethodType.CARD,
                          return_url="https://app.example/billing?done=1")
    assert (started.provider, started.method, started.status) == (
        "stripe", MethodType.CARD, SetupStatus.OPEN)
    answer = submit_hosted_page(started.url)
    world.settle()
    # Then the page sent the customer back, the card is stored with what may be shown of it,
    assert answer.status_code == 303
    assert answer.headers["location"] == "https://app.example/billing?done=1"
    method = _account(world, account).payment_method
    assert method.type is MethodType.CARD
    assert method.usable
    assert method.display == MethodDisplay(brand="visa", last4="4242", exp_month=12,
                                           exp_year=2034)
    # and the open invoice was retried at once on it, and paid
    assert get_setup(world.deps, setup_id=started.id).status is SetupStatus.COMPLETED
    [invoice] = world.invoices(account)
    assert invoice.status is InvoiceStatus.PAID
    statuses = [a.status for a in world.attempts(invoice_id)]
    assert statuses[-1] is AttemptStatus.SUCCEEDED


def test_a_card_declined_at_setup_leaves_the_setup_open_and_the_method_unchanged(
        world: World) -> None:
    # Given an open invoice on a declining card
    account, invoice_id = _declined_invoice(world)
    before = _account(world, account).payment_method
    attempts_before = len(world.attempts(invoice_id))
    started = start_setup(world.deps, account_id=account, method=MethodType.CARD)
    # When the customer types a card Stripe declines at setup (4000 0000 0000 0002)
    answer = submit_hosted_page(started.url, card_number="4000000000000002")
    world.settle()
    # Then the page says so and nothing changed on our side
    assert answer.status_code == 402
    assert "declined" in answer.text
    assert _account(world, account).payment_method == before
    assert get_setup(world.deps, setup_id=started.id).status is SetupStatus.OPEN
    assert len(world.attempts(invoice_id)) == attempts_before


def test_a_card_that_declines_when_charged_is_stored_and_its_retry_declines(
        world: World) -> None:
    # Given an open invoice
    account, invoice_id = _declined_invoice(world)
    tried_before = {a.id for a in world.attempts(invoice_id)}
    started = start_setup(world.deps, account_id=account, method=MethodType.CARD)
    # When the customer sets up Stripe's "attaches fine, charges fail" card
    submit_hosted_page(started.url, card="pm_card_chargeCustomerFail")
    world.settle()
    # Then it is on file (last 4 0341), was charged at once, declined, and the invoice is open
    method = _account(world, account).payment_method
    assert method.display is not None
    assert method.display.last4 == "0341"
    new = [a.status for a in world.attempts(invoice_id) if a.id not in tried_before]
    assert new.count(AttemptStatus.FAILED) == 1  # (then the retry policy schedules the next)
    assert world.invoices(account)[0].status is InvoiceStatus.OPEN


def test_a_mandate_set_up_on_the_billing_request_flow_stores_the_masked_account_and_collects(
        world: World) -> None:
    # Given an invoice left open by a declining card
    account, invoice_id = _declined_invoice(world)
    # When the customer sets up a SEPA mandate (scheme from the EUR currency) on the flow
    started = start_setup(world.deps, account_id=account, method=MethodType.DIRECT_DEBIT,
                          return_url="https://app.example/billing")
    assert started.provider == "gocardless"
    assert started.scheme == "sepa_core"
    answer = submit_hosted_page(started.url, behaviour="pays")
    world.settle()
    # Then the mandate is the method, shown masked (GoCardless gives the last 2 digits)
    assert answer.status_code == 303
    assert answer.headers["location"] == "https://app.example/billing"
    method = _account(world, account).payment_method
    assert method.type is MethodType.DIRECT_DEBIT
    assert method.scheme == "sepa_core"
    assert method.provider_method is not None
    assert method.provider_method.startswith("MD")
    assert method.display is not None
    assert method.display.account_masked == "FR** **** **** **06"
    assert method.display.account_holder == "Acme SAS"
    # and the open invoice was debited at once, and is paid once the debit confirms
    attempts = world.attempts(invoice_id)
    assert attempts[-1].method is MethodType.DIRECT_DEBIT
    assert attempts[-1].status is AttemptStatus.PENDING
    for _ in range(10):
        world.clock.advance(days=1)
        world.system.advance_providers(world.clock.today())
        world.settle()
    assert world.invoices(account)[0].status is InvoiceStatus.PAID
    assert get_setup(world.deps, setup_id=started.id).status is SetupStatus.COMPLETED


def test_completion_events_processed_again_in_reverse_order_retry_the_balance_once(
        world: World) -> None:
    # Given a card setup completed by its two webhooks
    account, invoice_id = _declined_invoice(world)
    started = start_setup(world.deps, account_id=account, method=MethodType.CARD)
    submit_hosted_page(started.url, card="pm_card_chargeCustomerFail")
    world.settle()
    attempts = len(world.attempts(invoice_id))
    with world.deps.uow_factory() as uow:
        events = [e for e in uow.webhook_events.list(provider="stripe")
                  if e.type in ("checkout.session.completed", "setup_intent.succeeded")]
    assert len(events) == 2
    # When both are processed again, the later one first (an operator replay)
    for event in reversed(events):
        process_webhook(world.deps, provider="stripe", event_id=event.event_id, force=True)
    world.settle()
    # Then nothing was retried a second time
    assert len(world.attempts(invoice_id)) == attempts
    with world.deps.uow_factory() as uow:
        notes = [uow.webhook_events.get(provider="stripe", event_id=e.event_id).note
                 for e in events]
    assert all("already completed" in note for note in notes)


def test_a_provider_outage_records_nothing_and_the_setup_can_be_started_again(
        world: World) -> None:
    # Given Stripe unreachable (nothing listens on the port)
    account = world.card_customer()
    down = StripeGateway(api_key="sk_test_down", api_base="http://127.0.0.1:9",
                         transient_retry=TransientRetry(attempts=1))
    # When a setup is started, then it fails clearly and leaves no setup behind
    with pytest.raises(ProviderUnavailable, match="Stripe"):
        start_setup(replace(world.deps, card_setup=down), account_id=account,
                    method=MethodType.CARD)
    with world.deps.uow_factory() as uow:
        count = uow.session.execute(select(func.count()).select_from(  # type: ignore[attr-defined]
            PaymentMethodSetupRow)).scalar_one()
    assert count == 0
    # And once Stripe answers, the same call works
    assert start_setup(world.deps, account_id=account, method=MethodType.CARD).url


def test_an_unknown_account_or_a_scheme_of_another_currency_is_refused(world: World) -> None:
    account = world.card_customer()
    with pytest.raises(UnknownAccount):
        start_setup(world.deps, account_id="acc_nobody", method=MethodType.CARD)
    with pytest.raises(InvalidScheme, match="USD"):
        start_setup(world.deps, account_id=account, method=MethodType.DIRECT_DEBIT,
                    scheme="ach")


def test_no_card_number_iban_or_api_key_is_logged_during_setups(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    # Given every logger capturing everything
    caplog.set_level(logging.DEBUG)
    account, _ = _declined_invoice(world)
    # When a card and a mandate are set up through the hosted pages
    card = start_setup(world.deps, account_id=account, method=MethodType.CARD)
    submit_hosted_page(card.url, card_number="4242 4242 4242 4242")
    world.settle()
    mandate = start_setup(world.deps, account_id=account, method=MethodType.DIRECT_DEBIT)
    submit_hosted_page(mandate.url)
    world.settle()
    # Then the logs name neither the card number, the IBAN nor a provider key
    assert "payment-method setup completed" in caplog.text  # the capture worked
    text = caplog.text.replace(" ", "")
    for secret in ("4242424242424242", SANDBOX_IBAN, "sk_test_paycollect_simulator",
                   "sandbox_paycollect_simulator", setup_world.API_KEY):
        assert secret not in text


def test_a_wire_payer_has_nothing_to_set_up_for_wire(world: World) -> None:
    from workers.handlers.setups import UnsupportedSetup

    account = world.customer(method=PaymentMethod(MethodType.WIRE))
    with pytest.raises(UnsupportedSetup):
        start_setup(world.deps, account_id=account, method=MethodType.WIRE)
