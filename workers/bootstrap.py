"""Composition root: the one place that picks concrete adapters from the configuration.

- `build_runtime(settings)`: a worker process's runtime (real providers when their keys are
  configured, else the built-in simulators started in this process on loopback).
- `start_embedded(settings, clock=...)`: the embedded mode used by `paycollect simulate`,
  `make demo` and tests: SQLite (or any URL), dramatiq's in-process broker with worker threads,
  simulators driven by the given clock.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from adapters.bank_details import DEMO_BANK_DETAILS, BankDetails, load_bank_details
from adapters.broker import configure_broker, make_rate_limiters
from adapters.composer import NoticeComposer
from adapters.db.engine import create_engine, session_factory
from adapters.db.migrate import upgrade
from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from adapters.gocardless_gateway import GoCardlessGateway
from adapters.notifier import RecordingNotifier, SmtpNotifier
from adapters.redis_stream import RedisStreamPublisher
from adapters.simulators.gocardless.simulator import GoCardlessSimulator
from adapters.simulators.gocardless.simulator import SimulatorConfig as GoCardlessSimConfig
from adapters.simulators.gocardless.webhooks import WebhookConfig as GoCardlessWebhookConfig
from adapters.simulators.server import serve_in_thread
from adapters.simulators.stripe import SimulatorConfig as StripeSimConfig
from adapters.simulators.stripe import StripeSimulator, create_app
from adapters.simulators.stripe import WebhookConfig as StripeWebhookConfig
from adapters.stripe_gateway import StripeGateway, TransientRetry
from adapters.wire_publisher import WirePublisher
from domain.clock import Clock, SystemClock
from domain.ports_notify import Notifier
from domain.retry_policy import RetryPolicy
from workers.api_key_purge import expired_key_purge
from workers.config import ConfigError, Settings
from workers.embedded import EmbeddedWorker
from workers.handlers.collect_batch import BatchSettings
from workers.handlers.deps import Deps
from workers.handlers.event_delivery import DeliverySettings
from workers.handlers.sweeper import SweepSettings
from workers.invoice_page.links import invoice_links, with_invoice_links
from workers.runtime import Runtime
from workers.webhook_serving import LateApp, WebhookDelivery, with_webhook_secrets

log = logging.getLogger("paycollect.bootstrap")

#: The simulators accept any sk_test_ key; this one names itself in logs.
SIMULATOR_STRIPE_KEY = "sk_test_paycollect_simulator"
SIMULATOR_GOCARDLESS_TOKEN = "sandbox_paycollect_simulator"  # noqa: S105 (not a secret)


@dataclass
class Providers:
    stripe: StripeGateway
    gocardless: GoCardlessGateway
    stripe_sim: StripeSimulator | None
    gocardless_sim: GoCardlessSimulator | None
    closers: list[Callable[[], None]]


def start_providers(settings: Settings, *, today: Callable[[], date] | None,
                    webhooks: WebhookDelivery | None = None) -> Providers:
    """Gateways to the configured providers, or to simulators started here on 127.0.0.1.

    In-process simulators exist only in the embedded mode: worker processes that each ran
    their own would disagree about what was charged, and reconciliation would then re-charge.
    """
    if settings.redis_url and settings.simulated_providers:
        raise ConfigError(
            "REDIS_URL is set (distributed mode) but STRIPE_API_KEY / GOCARDLESS_ACCESS_TOKEN "
            "are not: configure the providers, or run `paycollect simulators` and point "
            "STRIPE_API_BASE / GOCARDLESS_BASE_URL at it with any test key")
    closers: list[Callable[[], None]] = []
    stripe_sim = None
    if settings.stripe_api_key:
        stripe_key, stripe_base = settings.stripe_api_key, (
            settings.stripe_api_base or "https://api.stripe.com")
    else:
        stripe_sim = StripeSimulator(StripeSimConfig(webhooks=StripeWebhookConfig(
            url=f"{webhooks.url}/webhooks/stripe", secret=webhooks.stripe_secret,
            duplicate_rate=webhooks.duplicate_rate, shuffle=webhooks.shuffle,
            retry_delay_seconds=0.05)) if webhooks else StripeSimConfig())
        server = serve_in_thread(create_app(simulator=stripe_sim))
        closers += [server.stop, stripe_sim.close]
        stripe_key, stripe_base = SIMULATOR_STRIPE_KEY, server.url
    gocardless_sim = None
    if settings.gocardless_access_token:
        gc_token = settings.gocardless_access_token
        gc_base = settings.gocardless_base_url or "https://api.gocardless.com"
    else:
        gocardless_sim = GoCardlessSimulator(GoCardlessSimConfig(
            clock=today, webhook=GoCardlessWebhookConfig(
                url=f"{webhooks.url}/webhooks/gocardless", secret=webhooks.gocardless_secret,
                duplicate_rate=webhooks.duplicate_rate, shuffle=webhooks.shuffle,
                retry_pause_seconds=0.05) if webhooks else None)).start()
        closers.append(gocardless_sim.stop)
        gc_token, gc_base = SIMULATOR_GOCARDLESS_TOKEN, gocardless_sim.url
    # The SDKs' own network retries are off: tenacity retries inside the attempt with the
    # same idempotency key, with backoff and jitter, and answers Unknown when it gives up.
    stripe_gateway = StripeGateway(
        api_key=stripe_key, api_base=stripe_base, max_network_retries=0,
        timeout_seconds=settings.provider_timeout_seconds,
        transient_retry=TransientRetry(attempts=settings.provider_attempts))
    return Providers(
        stripe=stripe_gateway,
        gocardless=GoCardlessGateway(access_token=gc_token, base_url=gc_base,
                                     timeout=settings.provider_timeout_seconds,
                                     attempts=settings.provider_attempts),
        stripe_sim=stripe_sim, gocardless_sim=gocardless_sim, closers=closers)


def _notifier(settings: Settings) -> Notifier:
    if settings.smtp_url:
        return SmtpNotifier(smtp_url=settings.smtp_url, sender=settings.mail_from)
    return RecordingNotifier()


def _bank_details(embedded_defaults: bool) -> dict[str, BankDetails]:
    configured = load_bank_details(os.environ)
    if configured or not embedded_defaults:
        return configured
    return dict(DEMO_BANK_DETAILS)


def build_runtime(settings: Settings, *, clock: Clock | None = None,
                  today: Callable[[], date] | None = None,
                  providers: Providers | None = None) -> Runtime:
    """Everything the actors need, from `settings`."""
    from workers.actors import ActorDispatcher, ask_for_event_delivery  # broker set by now

    settings.check()
    clock = clock or SystemClock()
    engine = create_engine(settings.database_url)
    # A commit that queued outgoing events asks for a delivery drain, whoever emitted them.
    uow_factory = SqlUnitOfWorkFactory(session_factory(engine), clock=clock,
                                       on_events_committed=ask_for_event_delivery)
    providers = providers or start_providers(settings, today=today)
    notifier = _notifier(settings)
    stream = RedisStreamPublisher.from_url(settings.redis_url) if settings.redis_url else None
    bank = _bank_details(embedded_defaults=settings.simulated_providers)
    links = invoice_links(settings)
    if links is None:
        log.warning("INVOICE_LINK_SECRET is not set: customer e-mails carry no link to the "
                    "invoice page")
    wire = WirePublisher(notifier=notifier, stream=stream, bank_details_by_currency=bank,
                         links=links)
    deps = Deps(
        uow_factory=uow_factory, clock=clock, card=providers.stripe,
        direct_debit=providers.gocardless, wire=wire,
        dispatch=ActorDispatcher(batch_size=settings.collect_batch_size),
        composer=NoticeComposer(links=links),
        retry_policy=RetryPolicy(schedule_days=settings.retry_schedule_days,
                                 max_attempts_per_30_days=settings.max_card_attempts_per_30_days),
        wire_due_days=settings.wire_due_days, card_setup=providers.stripe,
        direct_debit_setup=providers.gocardless, ask_for_event_delivery=ask_for_event_delivery,
        forget_expired_api_keys=expired_key_purge(uow_factory))
    rate_limits = make_rate_limiters(
        redis_url=settings.redis_url, card_per_second=settings.stripe_rate_limit_per_second,
        direct_debit_per_second=settings.gocardless_rate_limit_per_second)
    sweep = SweepSettings(
        stuck_after=timedelta(seconds=settings.stuck_after_seconds),
        pending_poll_after=timedelta(seconds=settings.pending_poll_after_seconds),
        period=timedelta(seconds=settings.scheduler_tick_seconds),
        lost_after=timedelta(seconds=settings.lost_message_after_seconds))
    runtime = Runtime(deps=deps, notifier=notifier, rate_limits=rate_limits,
                      sweep_settings=sweep, bank_details=bank,
                      closers=[*providers.closers, engine.dispose],
                      event_delivery=DeliverySettings(
                          timeout_seconds=settings.event_delivery_timeout_seconds),
                      collect_batch=BatchSettings(
                          concurrency=settings.batch_provider_concurrency,
                          pool_threads=settings.worker_threads
                          * settings.batch_provider_concurrency,
                          start_within=timedelta(seconds=settings.stuck_after_seconds
                                                 - settings.provider_call_budget_seconds)))
    return runtime


@dataclass
class Embedded:
    """The whole system in one process, for simulation, the demo and tests."""

    runtime: Runtime
    worker: EmbeddedWorker
    providers: Providers
    bank_details: dict[str, BankDetails]
    #: The webhook app the simulators deliver to (None: webhooks off).
    webhook_url: str | None = None

    @property
    def stripe(self) -> StripeGateway:
        return self.providers.stripe

    @property
    def gocardless(self) -> GoCardlessGateway:
        return self.providers.gocardless

    def advance_providers(self, day: date) -> None:
        """Let the providers' "later" happen: direct debits move along, disputes open."""
        if self.providers.gocardless_sim is not None:
            self.providers.gocardless_sim.advance_to(day)
        if self.providers.stripe_sim is not None:
            self.providers.stripe_sim.advance()

    def flush_webhooks(self, timeout: float = 10.0) -> None:
        """Wait until the simulators delivered every queued webhook and the workers ran."""
        if self.providers.stripe_sim is not None:
            self.providers.stripe_sim.webhooks.wait_idle(timeout)
        if self.providers.gocardless_sim is not None and self.providers.gocardless_sim.webhooks:
            self.providers.gocardless_sim.webhooks.flush(timeout)
        self.worker.drain()

    def close(self) -> None:
        from workers import runtime as runtime_module

        self.worker.stop()
        self.runtime.close()
        runtime_module.install(None)


def start_embedded(settings: Settings, *, clock: Clock, threads: int = 4,
                   migrate: bool = True, webhooks: bool = True,
                   webhook_duplicate_rate: float = 0.0,
                   webhook_shuffle: bool = False) -> Embedded:
    """Start the embedded system: stub broker + worker threads, simulators on `clock`.

    With `webhooks`, the webhook app is served on 127.0.0.1 and the simulators deliver their
    signed events to it (secrets from `settings`, else generated), duplicated and shuffled
    on request. The app also serves the invoice pages; their links are signed with
    INVOICE_LINK_SECRET, else a secret generated here (links change on every start).
    """
    from workers import runtime as runtime_module

    if settings.redis_url is not None:
        raise ValueError("the embedded mode runs without REDIS_URL")
    broker = configure_broker(None)
    import workers.actors as actors

    actors.rebind(broker)
    if migrate:
        upgrade(settings.database_url)
    late, delivery, server = LateApp(), None, None
    if webhooks:
        from workers.webhook_app import create_webhook_app

        settings = with_webhook_secrets(settings)
        server = serve_in_thread(late)
        delivery = WebhookDelivery(url=server.url,
                                   stripe_secret=settings.stripe_webhook_secrets[0],
                                   gocardless_secret=settings.gocardless_webhook_secrets[0],
                                   duplicate_rate=webhook_duplicate_rate, shuffle=webhook_shuffle)
    settings = with_invoice_links(settings, served_url=server.url if server else None)
    providers = start_providers(settings, today=clock.today, webhooks=delivery)
    runtime = build_runtime(settings, clock=clock, providers=providers)
    if server is not None:
        late.app = create_webhook_app(runtime, settings)
        runtime.closers.append(server.stop)
    runtime_module.install(runtime)
    worker = EmbeddedWorker(broker, threads=threads)
    worker.start()
    return Embedded(runtime=runtime, worker=worker, providers=providers,
                    bank_details=runtime.bank_details,
                    webhook_url=server.url if server else None)
