"""Replay a scenario through the real system on a fresh embedded database, one day at a time.

Nothing here takes a separate code path from production: accounts are onboarded through the
provider gateways (over HTTP, to the simulators), invoices come from the renewal handler, money
moves through the dramatiq actors on the in-process broker, the sweeper re-drives what is due.
The runner only plays the world: the clock, the customers' actions, the bank.
"""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from domain.accounts import Account, MethodType, PaymentMethod
from domain.billing import SubscriptionTerms
from domain.clock import ManualClock
from domain.dunning import DunningPolicy
from domain.money import Money
from domain.plans import Interval, Plan, UnitKind
from domain.subscriptions import Subscription
from domain.usage import CallRecord, Direction, cutoff
from workers.bootstrap import Embedded, start_embedded
from workers.config import Settings
from workers.handlers import accounts as account_handlers
from workers.handlers import cancellation, dunning, operators, renewals, subscriptions, sweeper
from workers.handlers.usage import store_calls
from workers.scheduler import relay_events, route_issued
from workers.simulate.hosted_form import customer_completes_setup
from workers.simulate.report import build_document, render_report
from workers.simulate.scenario import AccountSpec, EventSpec, MethodSpec, Scenario

#: The simulated business day starts at 06:00 UTC: renewals and sweeps run then.
DAY_START = time(6, 0, tzinfo=UTC)


@dataclass
class Result:
    document: dict[str, Any]
    text: str


def run_scenario(scenario: Scenario, *, database_url: str | None = None,
                 settings: Settings | None = None, clock: ManualClock | None = None) -> Result:
    """Run `scenario` on a fresh SQLite database (or `database_url`) and report; `settings`
    (its database URL aside) replace the embedded defaults; `clock` (set to the start day by
    the runner) lets a test see the simulated time."""
    with tempfile.TemporaryDirectory(prefix="paycollect-sim-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'simulation.db'}"
        start = datetime.combine(scenario.start, DAY_START)
        clock = clock.set(start) if clock else ManualClock(start)
        settings = replace(settings or Settings(), database_url=url)
        embedded = start_embedded(settings, clock=clock)
        try:
            return _run(scenario, embedded, clock)
        finally:
            embedded.close()


def _run(scenario: Scenario, embedded: Embedded, clock: ManualClock) -> Result:
    deps = embedded.runtime.deps
    onboarded: set[str] = set()
    day = scenario.start
    while day <= scenario.until:
        clock.set(datetime.combine(day, DAY_START))
        embedded.advance_providers(day)
        for spec in scenario.accounts:
            if spec.started_on == day and spec.id not in onboarded:
                _onboard(embedded, spec)
                onboarded.add(spec.id)
        for event in scenario.events_on(day):
            _apply(embedded, scenario, event)
        _settle(embedded)
        cancellation.end_due_subscriptions(deps, as_of=day)
        issued = renewals.run_due_renewals(
            uow_factory=deps.uow_factory, as_of=day, clock=clock,
            settings=renewals.RenewalSettings(wire_due_days=deps.wire_due_days))
        route_issued(deps, invoice_ids=issued)
        _settle(embedded)
        sweeper.sweep(deps, settings=embedded.runtime.sweep_settings)
        _settle(embedded)
        dunning.advance_dunning(deps, today=day, policy=DunningPolicy())
        _settle(embedded)
        relay_events(deps)  # outgoing events whose retry is due, as the scheduler's tick
        _settle(embedded)
        day += timedelta(days=1)
    with deps.uow_factory() as uow:
        document = build_document(uow, account_ids=[a.id for a in scenario.accounts])
        text = render_report(uow, document, bank=embedded.bank_details,
                             period=(scenario.start, scenario.until))
    return Result(document=document, text=text)


def _settle(embedded: Embedded) -> None:
    """Wait until the day's work is done: queues empty and every webhook the providers sent
    delivered and processed (twice: processing a webhook can make a provider call that sends
    another), so a report never depends on delivery timing."""
    embedded.flush_webhooks()
    embedded.flush_webhooks()


def _plan(spec: AccountSpec) -> Plan:
    p, cur = spec.plan, spec.currency
    return Plan(interval=Interval(p.interval), currency=cur,
                user_price=Money(p.user_price, cur), number_price=Money(p.number_price, cur),
                minimum_users=p.minimum_users, minimum_numbers=p.minimum_numbers,
                outbound_per_minute=Money(p.outbound_per_minute, cur),
                toll_free_per_minute=Money(p.toll_free_per_minute, cur))


def _onboard(embedded: Embedded, spec: AccountSpec) -> None:
    account = Account(id=spec.id, name=spec.name, currency=spec.currency,
                      language=spec.language, email=spec.email or f"finance@{spec.id}.example",
                      payment_method=PaymentMethod(MethodType.WIRE))
    terms = SubscriptionTerms(plan=_plan(spec), started_on=spec.started_on, users=spec.users,
                              numbers=spec.numbers)
    with embedded.runtime.deps.uow_factory() as uow:
        uow.accounts.add(account=account)
        uow.subscriptions.add(subscription=Subscription.start(
            id=f"sub_{spec.id}", account_id=spec.id, terms=terms))
        uow.commit()
    method = _provision(embedded, account, spec.payment_method)
    with embedded.runtime.deps.uow_factory() as uow:
        uow.accounts.update_payment_method(account_id=spec.id, method=method)
        uow.commit()


def _provision(embedded: Embedded, account: Account, spec: MethodSpec) -> PaymentMethod:
    """Create the method at its provider (customer + card, or customer + mandate)."""
    if spec.type == "card":
        assert spec.card is not None
        customer, pm = embedded.stripe.ensure_customer(
            account_id=account.id, name=account.name, email=account.email,
            payment_method=spec.card)
        return PaymentMethod(MethodType.CARD, provider_customer=customer, provider_method=pm,
                             details={"card": spec.card})
    if spec.type == "direct_debit":
        assert spec.scheme is not None and spec.behaviour is not None
        customer, mandate = embedded.gocardless.setup_mandate(
            account_id=account.id, name=account.name, email=account.email or "",
            scheme=spec.scheme, behaviour=spec.behaviour, currency=account.currency)
        return PaymentMethod(MethodType.DIRECT_DEBIT, provider_customer=customer,
                             provider_method=mandate, scheme=spec.scheme,
                             details={"behaviour": spec.behaviour})
    return PaymentMethod(MethodType.WIRE)


def _apply(embedded: Embedded, scenario: Scenario, event: EventSpec) -> None:
    deps = embedded.runtime.deps
    subscription_id = f"sub_{event.account}"
    if event.kind in ("add", "remove"):
        change = (subscriptions.add_units if event.kind == "add"
                  else subscriptions.remove_units)
        for kind, quantity in event.payload.items():
            # A restricted account cannot add units: refused, audited, listed in the report.
            with contextlib.suppress(subscriptions.UnitsRefused,
                                     subscriptions.SubscriptionHasEnded):
                change(deps, subscription_id=subscription_id, kind=UnitKind(kind),
                       quantity=quantity, on=event.on, actor="scenario")
    elif event.kind == "usage":
        # A day's minutes become one synthetic call per direction, started at midnight UTC,
        # stored through the same path as the API's call records.
        calls = [(0, CallRecord(id=str(uuid.uuid4()), subscription_id=subscription_id,
                                number="", direction=direction, destination="",
                                started_at=cutoff(event.on), duration_seconds=minutes * 60))
                 for direction, minutes in (
                     (Direction.OUTBOUND, event.payload["outbound_minutes"]),
                     (Direction.INBOUND_TOLL_FREE, event.payload["toll_free_minutes"]))
                 if minutes > 0]
        with deps.uow_factory() as uow:
            store_calls(uow, records=calls, now=deps.clock.now())
            uow.commit()
    elif event.kind == "payment_method":
        assert event.method is not None
        with deps.uow_factory() as uow:
            account = uow.accounts.get(account_id=event.account)
        assert account is not None
        method = _provision(embedded, account, event.method)
        account_handlers.change_payment_method(deps, account_id=event.account, method=method)
    elif event.kind == "setup":
        assert event.method is not None
        # Through the hosted page; its webhooks arrive at the webhook app (settled below).
        customer_completes_setup(deps, account_id=event.account, spec=event.method)
    elif event.kind == "operator":
        for attempt in operators.requeueable(deps, account_id=event.account):
            try:
                operators.requeue_failed(deps, attempt_id=attempt.id, actor="scenario",
                                         reason="scenario: requeue_failed")
            except operators.RequeueRefused:
                continue  # hard declines stay refused without --force, as for an operator
    elif event.kind == "wire_received":
        _wire(embedded, event)


def _wire(embedded: Embedded, event: EventSpec) -> None:
    deps = embedded.runtime.deps
    reference = event.payload["reference"]
    with deps.uow_factory() as uow:
        account = uow.accounts.get(account_id=event.account)
        assert account is not None
        if reference == "invoice":
            open_invoices = uow.invoices.list_open_for_account(account_id=event.account)
            reference = (open_invoices[0].payment_reference if open_invoices
                         else f"UNKNOWN-{uuid.uuid4().hex[:6]}")
    # An unknown reference is kept as an unmatched transfer for review, as in production.
    with contextlib.suppress(operators.UnknownReference):
        operators.receive_wire(deps, reference=reference or "",
                               amount=Money(event.payload["amount"], account.currency),
                               received_on=event.on, actor="bank")
