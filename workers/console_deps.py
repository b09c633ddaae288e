"""Handler dependencies for processes that never call a provider: the scheduler and the
operators' console (CLI and HTTP API). They read and write the database and send messages to
the workers; the workers alone talk to Stripe and GoCardless.

With REDIS_URL, messages go to the workers through Redis. Without it (a laptop, tests) there is
no worker to send to: `DeferredDispatcher` drops the message and the work stays in the database,
where the next sweep finds it (the database is the source of truth, the broker a fast path).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from adapters.composer import NoticeComposer
from adapters.db.engine import create_engine, session_factory
from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.accounts import Account
from domain.clock import Clock, SystemClock
from domain.invoices import Invoice
from domain.money import Money
from domain.outcomes import AwaitingTransfer, Outcome
from domain.ports_gateways import Dispatcher
from domain.retry_policy import RetryPolicy
from workers.api_key_purge import expired_key_purge
from workers.config import Settings
from workers.handlers.deps import Deps
from workers.invoice_page.links import invoice_links

log = logging.getLogger("paycollect.console")


class ProviderNotAvailable(RuntimeError):
    """A provider was called from a process that must not call providers."""


class NoProviders:
    """Every gateway port, refusing: the console and the scheduler only send messages."""

    def _refuse(self) -> ProviderNotAvailable:
        return ProviderNotAvailable("providers are called by the workers only")

    def charge(self, *, attempt_id: str, customer: str, payment_method: str, amount: Money,
               invoice_id: str, account_id: str) -> Outcome:
        raise self._refuse()

    def find_payment(self, *, attempt_id: str, mandate_id: str | None = None) -> Outcome:
        raise self._refuse()

    def intent_of_charge(self, *, charge_id: str) -> str | None:
        raise self._refuse()

    def collect(self, *, attempt_id: str, mandate_id: str, amount: Money, invoice_id: str,
                account_id: str, charge_date: date | None = None) -> Outcome:
        raise self._refuse()

    def payment_status(self, *, provider_ref: str) -> Outcome:
        raise self._refuse()

    def publish(self, *, invoice: Invoice, account: Account, due_days: int) -> AwaitingTransfer:
        raise self._refuse()


@dataclass
class DeferredDispatcher:
    """No broker: record what would have been sent; the sweeper re-drives it from the DB."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    def _defer(self, kind: str, ident: str) -> None:
        self.sent.append((kind, ident))
        log.info("no broker (REDIS_URL unset): %s %s left for the sweeper", kind, ident)

    def route_invoice(self, invoice_id: str) -> None:
        self._defer("route_invoice", invoice_id)

    def route_many(self, invoice_ids: Sequence[str]) -> None:
        for invoice_id in invoice_ids:
            self.route_invoice(invoice_id)

    def collect(self, attempt_id: str, method: str) -> None:
        self._defer(f"collect:{method}", attempt_id)

    def collect_many(self, attempt_ids: Sequence[str], method: str) -> None:
        for attempt_id in attempt_ids:
            self.collect(attempt_id, method)

    def reconcile(self, attempt_id: str) -> None:
        self._defer("reconcile", attempt_id)

    def reconcile_many(self, attempt_ids: Sequence[str]) -> None:
        for attempt_id in attempt_ids:
            self.reconcile(attempt_id)

    def send_notification(self, notification_id: str) -> None:
        self._defer("send_notification", notification_id)

    def retry_open_balances(self, account_id: str) -> None:
        self._defer("retry_open_balances", account_id)


def broker_dispatcher(redis_url: str) -> Dispatcher:
    """The actors' dispatcher on a Redis broker (set before the actors are imported)."""
    from adapters.broker import configure_broker, get_configured_broker

    if get_configured_broker() is None:
        configure_broker(redis_url)
    from workers.actors import ActorDispatcher

    return ActorDispatcher()


def _event_delivery_asker(settings: Settings) -> Callable[[], None] | None:
    """With a broker, commits that queue outgoing events ask the workers for a delivery
    drain (the scheduler emits them too: renewals, dunning); without one, nobody delivers."""
    if not settings.redis_url:
        return None
    broker_dispatcher(settings.redis_url)  # the broker is set before the actors are imported
    from workers.actors import ask_for_event_delivery

    return ask_for_event_delivery


@dataclass
class ConsoleDeps:
    deps: Deps
    close: Callable[[], None]


def build_console_deps(settings: Settings, *, clock: Clock | None = None,
                       dispatch: Dispatcher | None = None) -> ConsoleDeps:
    """Deps on DATABASE_URL, a dispatcher for REDIS_URL (or deferred), no providers."""
    engine = create_engine(settings.database_url, pool_size=4)
    clock = clock or SystemClock()
    if dispatch is None:
        dispatch = (broker_dispatcher(settings.redis_url) if settings.redis_url
                    else DeferredDispatcher())
    ask = _event_delivery_asker(settings)
    none = NoProviders()
    uow_factory = SqlUnitOfWorkFactory(session_factory(engine), clock=clock,
                                       on_events_committed=ask)
    deps = Deps(uow_factory=uow_factory, ask_for_event_delivery=ask,
                # `paycollect scheduler` with a broker ticks on these deps.
                forget_expired_api_keys=expired_key_purge(uow_factory),
                clock=clock, card=none, direct_debit=none, wire=none, dispatch=dispatch,
                composer=NoticeComposer(links=invoice_links(settings)),
                retry_policy=RetryPolicy(
                    schedule_days=settings.retry_schedule_days,
                    max_attempts_per_30_days=settings.max_card_attempts_per_30_days),
                wire_due_days=settings.wire_due_days, **setup_gateways(settings))
    return ConsoleDeps(deps=deps, close=engine.dispose)


def setup_gateways(settings: Settings) -> dict[str, Any]:
    """The payment-method setup gateways for the providers whose keys are configured (the API
    served by `paycollect serve` starts setups; it collects nothing)."""
    from adapters.gocardless_gateway import GoCardlessGateway
    from adapters.stripe_gateway import StripeGateway, TransientRetry

    found: dict[str, Any] = {}
    if settings.stripe_api_key:
        found["card_setup"] = StripeGateway(
            api_key=settings.stripe_api_key,
            api_base=settings.stripe_api_base or "https://api.stripe.com",
            timeout_seconds=settings.provider_timeout_seconds,
            transient_retry=TransientRetry(attempts=settings.provider_attempts))
    if settings.gocardless_access_token:
        found["direct_debit_setup"] = GoCardlessGateway(
            access_token=settings.gocardless_access_token,
            base_url=settings.gocardless_base_url or "https://api.gocardless.com",
            timeout=settings.provider_timeout_seconds, attempts=settings.provider_attempts)
    return found
