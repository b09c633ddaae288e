"""One typed configuration object, read from the environment (12-factor)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


class ConfigError(ValueError):
    """A configuration variable is malformed; the message names it."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def _days(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = env.get(name)
    if not raw:
        return default
    try:
        days = tuple(int(part) for part in raw.split(","))
    except ValueError:
        raise ConfigError(f"{name} must be comma-separated whole days, got {raw!r}") from None
    if any(d <= 0 for d in days) or list(days) != sorted(days):
        raise ConfigError(f"{name} must be increasing positive days, got {raw!r}")
    return days


def _secrets(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    # Comma-separated so a secret can be rotated: both old and new verify during the overlap.
    return tuple(s.strip() for s in env.get(name, "").split(",") if s.strip())


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///paycollect.db"
    #: None: the embedded in-process broker (StubBroker + worker threads).
    redis_url: str | None = None
    #: None: start the built-in Stripe simulator and talk to it over HTTP.
    stripe_api_key: str | None = None
    stripe_api_base: str | None = None
    gocardless_access_token: str | None = None
    gocardless_base_url: str | None = None
    stripe_webhook_secrets: tuple[str, ...] = ()
    gocardless_webhook_secrets: tuple[str, ...] = ()
    operator_api_token: str | None = None
    #: Bearer keys of the public /v1 API (PAYCOLLECT_API_KEYS, comma-separated for rotation);
    #: none configured: the API refuses every call.
    api_keys: tuple[str, ...] = ()
    smtp_url: str | None = None
    #: Signs the customers' invoice links (INVOICE_LINK_SECRET, comma-separated for rotation:
    #: the first signs, every one verifies). None configured: no links, every page is a 404;
    #: the embedded mode generates one per start (links then change across restarts).
    invoice_link_secrets: tuple[str, ...] = ()
    #: Where customers reach the web app (PUBLIC_BASE_URL); None: the served address.
    public_base_url: str | None = None
    mail_from: str = "billing@paycollect.invalid"
    retry_schedule_days: tuple[int, ...] = (1, 3, 5, 7)
    max_card_attempts_per_30_days: int = 15
    wire_due_days: int = 30
    #: Below Stripe's 100/s live limit and GoCardless's 1,000/min.
    stripe_rate_limit_per_second: int = 80
    gocardless_rate_limit_per_second: int = 14
    #: Attempts stuck processing/unknown longer than this are reconciled by the sweeper.
    stuck_after_seconds: int = 300
    #: Direct debits pending longer than this are polled at the provider by the sweeper.
    pending_poll_after_seconds: int = 3600
    worker_threads: int = 8
    #: Ids per route / collect message (a collect message is one batch of one method).
    collect_batch_size: int = 50
    #: Provider calls in flight at once for one collect batch (each worker thread runs one
    #: batch at a time, so a process makes up to threads times this calls at once, within the
    #: shared rate limits).
    batch_provider_concurrency: int = 8
    #: Per-request provider timeout, and tries per call (same idempotency key) before Unknown.
    provider_timeout_seconds: float = 10.0
    provider_attempts: int = 4
    webhook_max_body_bytes: int = 256 * 1024
    scheduler_tick_seconds: float = 60.0
    #: Subscriptions a renewal batch claims and issues in one transaction.
    renewal_batch_size: int = 500
    #: A message unanswered this long is presumed lost; the sweeper sends it again.
    lost_message_after_seconds: int = 300
    #: Per request to a business webhook endpoint (outgoing events).
    event_delivery_timeout_seconds: float = 5.0
    #: Days overdue of the five dunning notices (domain.dunning.DunningPolicy).
    dunning_schedule_days: str = "3,10,17,22,27"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def provider_call_budget_seconds(self) -> float:
        """The longest one provider call can take with its in-attempt retries (timeouts plus
        backoff capped at 8 s). An attempt PROCESSING for longer than this is really stuck."""
        return self.provider_attempts * self.provider_timeout_seconds + \
            (self.provider_attempts - 1) * 8.0

    def check(self) -> None:
        """Raise ConfigError for settings that are individually valid but unsafe together."""
        for name, value in (("COLLECT_BATCH_SIZE", self.collect_batch_size),
                            ("BATCH_PROVIDER_CONCURRENCY", self.batch_provider_concurrency)):
            if value < 1:
                raise ConfigError(f"{name} must be at least 1, got {value}")
        if self.stuck_after_seconds <= self.provider_call_budget_seconds:
            raise ConfigError(
                f"STUCK_AFTER_SECONDS={self.stuck_after_seconds} must exceed the provider call "
                f"budget ({self.provider_call_budget_seconds:.0f} s from PROVIDER_ATTEMPTS and "
                "PROVIDER_TIMEOUT_SECONDS): reconciling a call still in progress would retry it")

    @property
    def embedded_broker(self) -> bool:
        return self.redis_url is None

    @property
    def simulated_providers(self) -> bool:
        return self.stripe_api_key is None or self.gocardless_access_token is None


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from `env` (default: os.environ); raises ConfigError naming a bad variable."""
    env = os.environ if env is None else env
    return Settings(
        database_url=env.get("DATABASE_URL") or Settings.database_url,
        redis_url=env.get("REDIS_URL") or None,
        stripe_api_key=env.get("STRIPE_API_KEY") or None,
        stripe_api_base=env.get("STRIPE_API_BASE") or None,
        gocardless_access_token=env.get("GOCARDLESS_ACCESS_TOKEN") or None,
        gocardless_base_url=env.get("GOCARDLESS_BASE_URL") or None,
        stripe_webhook_secrets=_secrets(env, "STRIPE_WEBHOOK_SECRET"),
        gocardless_webhook_secrets=_secrets(env, "GOCARDLESS_WEBHOOK_SECRET"),
        operator_api_token=env.get("OPERATOR_API_TOKEN") or None,
        api_keys=_secrets(env, "PAYCOLLECT_API_KEYS"),
        smtp_url=env.get("SMTP_URL") or None,
        invoice_link_secrets=_secrets(env, "INVOICE_LINK_SECRET"),
        public_base_url=(env.get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
        mail_from=env.get("MAIL_FROM") or Settings.mail_from,
        retry_schedule_days=_days(env, "RETRY_SCHEDULE_DAYS", Settings.retry_schedule_days),
        max_card_attempts_per_30_days=_int(env, "MAX_CARD_ATTEMPTS_PER_30_DAYS", 15),
        wire_due_days=_int(env, "WIRE_DUE_DAYS", Settings.wire_due_days),
        stripe_rate_limit_per_second=_int(env, "STRIPE_RATE_LIMIT_PER_SECOND", 80),
        gocardless_rate_limit_per_second=_int(env, "GOCARDLESS_RATE_LIMIT_PER_SECOND", 14),
        stuck_after_seconds=_int(env, "STUCK_AFTER_SECONDS", 300),
        pending_poll_after_seconds=_int(env, "PENDING_POLL_AFTER_SECONDS", 3600),
        worker_threads=_int(env, "WORKER_THREADS", 8),
        collect_batch_size=_int(env, "COLLECT_BATCH_SIZE", Settings.collect_batch_size),
        batch_provider_concurrency=_int(env, "BATCH_PROVIDER_CONCURRENCY",
                                        Settings.batch_provider_concurrency),
        provider_timeout_seconds=_float(env, "PROVIDER_TIMEOUT_SECONDS", 10.0),
        provider_attempts=_int(env, "PROVIDER_ATTEMPTS", 4),
        webhook_max_body_bytes=_int(env, "WEBHOOK_MAX_BODY_BYTES", 256 * 1024),
        scheduler_tick_seconds=_float(env, "SCHEDULER_TICK_SECONDS", 60.0),
        renewal_batch_size=_int(env, "RENEWAL_BATCH_SIZE", 500),
        lost_message_after_seconds=_int(env, "LOST_MESSAGE_AFTER_SECONDS", 300),
        event_delivery_timeout_seconds=_float(env, "EVENT_DELIVERY_TIMEOUT_SECONDS", 5.0),
        dunning_schedule_days=env.get("DUNNING_SCHEDULE_DAYS") or Settings.dunning_schedule_days,
    )
