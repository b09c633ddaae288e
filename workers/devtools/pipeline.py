"""Drive the distributed system end to end on one machine: simulators on loopback, Redis
broker, PostgreSQL, N dramatiq worker *processes*; seed accounts, finalise invoices, watch them
settle. Used by bench/pipeline.py and the fault test; everything it runs is production code,
except that seeding makes the provider-side objects in the simulators in-process (see `seed`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import redis

from adapters.bank_details import DEMO_BANK_DETAILS
from adapters.broker import configure_broker
from adapters.gocardless_gateway import SANDBOX_BANK_DETAILS as GOCARDLESS_BANK_DETAILS
from adapters.simulators.gocardless.faults import FaultConfig as GoCardlessFaults
from adapters.simulators.gocardless.simulator import GoCardlessSimulator
from adapters.simulators.gocardless.simulator import SimulatorConfig as GoCardlessConfig
from adapters.simulators.server import RunningServer, serve_in_thread
from adapters.simulators.stripe import FaultConfig as StripeFaults
from adapters.simulators.stripe import SimulatorConfig as StripeConfig
from adapters.simulators.stripe import StripeSimulator, create_app
from adapters.simulators.stripe import preload as stripe_preload
from domain.accounts import Account, MethodType, PaymentMethod
from domain.billing import SubscriptionTerms
from domain.clock import SystemClock
from domain.money import Money
from domain.plans import Interval, Plan
from domain.subscriptions import Subscription
from workers.config import Settings

ROOT = Path(__file__).resolve().parents[2]
#: The test key the workers and `deps()` use against the Stripe simulator.
STRIPE_API_KEY = "sk_test_pipeline"
#: When the sweeper (in this process) presumes an attempt stuck, told to the workers too
#: (by default: the fault test kills a worker and waits for what it stranded).
STUCK_AFTER_SECONDS = 60

#: Documentation-example bank details (not real accounts) for wire instructions.
_EUR = DEMO_BANK_DETAILS["EUR"]
DEMO_WIRE_ENV = {"WIRE_EUR_BENEFICIARY": _EUR.beneficiary, "WIRE_EUR_BANK_NAME": _EUR.bank_name,
                 "WIRE_EUR_IBAN": _EUR.iban or "", "WIRE_EUR_BIC": _EUR.bic or ""}


@dataclass(frozen=True)
class Faults:
    latency_ms: float = 0.0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    drop_rate: float = 0.0
    stall_seconds: float = 1.5
    seed: int = 7


@dataclass
class Mix:
    """Share of accounts per payment method / behaviour (weights)."""

    weights: dict[str, int] = field(default_factory=lambda: {
        "card:pm_card_visa": 5, "card:pm_card_chargeDeclinedInsufficientFunds": 1,
        "direct_debit:pays": 3, "wire": 1})

    def pick(self, index: int) -> str:
        total = sum(self.weights.values())
        slot = index % total
        for key, weight in self.weights.items():
            if slot < weight:
                return key
            slot -= weight
        raise AssertionError("unreachable")


class Pipeline:
    """The system under load. Use as a context manager; see bench/pipeline.py for a tour."""

    #: Threads issuing the seeded subscriptions' first invoices (production renewals). The
    #: renewal is CPU-bound in this process: more threads than this gain nothing on 2 cores.
    seed_renewal_threads = 4

    def __init__(self, *, database_url: str, redis_url: str, workers: int = 2,
                 threads: int = 8, faults: Faults | None = None,
                 seconds_per_day: float = 0.05, env: dict[str, str] | None = None,
                 lost_after_seconds: int = 30, poll_after_seconds: int = 1,
                 batch_size: int = 50, stuck_after_seconds: int = STUCK_AFTER_SECONDS) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        self.worker_count = workers
        self.threads = threads
        self.faults = faults or Faults()
        self.seconds_per_day = seconds_per_day
        self.extra_env = env or {}
        #: When the sweeper presumes a message lost and sends it again.
        self.lost_after_seconds = lost_after_seconds
        #: When the sweeper polls a pending direct debit (no webhooks in this harness).
        self.poll_after_seconds = poll_after_seconds
        #: Ids per route / collect message (COLLECT_BATCH_SIZE of the workers).
        self.batch_size = batch_size
        #: A batch's calls start within this minus the provider call budget of its claim.
        self.stuck_after_seconds = stuck_after_seconds
        self.workers: list[subprocess.Popen[bytes]] = []
        self.worker_logs: list[Path] = []
        self._servers: list[RunningServer] = []
        self.redis = redis.Redis.from_url(redis_url)

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Pipeline:
        self.start_simulators()
        self.redis.flushdb()
        self.broker = configure_broker(self.redis_url)
        import workers.actors as actors

        actors.rebind(self.broker)
        self.actors = actors
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_workers()
        if hasattr(self, "runtime"):
            self.runtime.close()  # disposes the engine: no connection left to the GC
        for server in self._servers:
            server.stop()
        self.gocardless_sim.stop()
        self.stripe_sim.close()

    def start_simulators(self) -> None:
        """Both simulators on loopback, without faults: seeding is not what is under test."""
        latency = self.faults.latency_ms
        self.stripe_sim = StripeSimulator(StripeConfig(faults=StripeFaults(latency_ms=latency)))
        server = serve_in_thread(create_app(simulator=self.stripe_sim))
        self._servers.append(server)
        self.stripe_url = server.url
        self.gocardless_sim = GoCardlessSimulator(GoCardlessConfig(
            seconds_per_day=self.seconds_per_day,
            faults=GoCardlessFaults(latency_ms=int(latency))))
        self.gocardless_sim.start()

    def inject_faults(self) -> None:
        """Switch the configured fault rates on in both simulators."""
        f = self.faults
        self.stripe_sim.faults.update({
            "latency_ms": f.latency_ms, "error_rate": f.error_rate,
            "timeout_rate": f.timeout_rate, "timeout_stall_seconds": f.stall_seconds,
            "drop_rate": f.drop_rate, "seed": f.seed})
        self.gocardless_sim.faults.configure(GoCardlessFaults(
            latency_ms=int(f.latency_ms), error_rate=f.error_rate, timeout_rate=f.timeout_rate,
            hang_seconds=f.stall_seconds, drop_rate=f.drop_rate, seed=f.seed))

    def worker_env(self) -> dict[str, str]:
        env = {**os.environ, "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
               "STRIPE_API_KEY": STRIPE_API_KEY, "STRIPE_API_BASE": self.stripe_url,
               "GOCARDLESS_ACCESS_TOKEN": "pipeline", "GOCARDLESS_BASE_URL":
               self.gocardless_sim.url, "PAYCOLLECT_PROMETHEUS": "0",
               "STRIPE_RATE_LIMIT_PER_SECOND": "100000",
               "GOCARDLESS_RATE_LIMIT_PER_SECOND": "100000",
               "PROVIDER_TIMEOUT_SECONDS": "1", "PROVIDER_ATTEMPTS": "6",
               "PYTHONPATH": str(ROOT), "COLLECT_BATCH_SIZE": str(self.batch_size),
               # As `paycollect worker --threads`: the provider pool is sized from it.
               "WORKER_THREADS": str(self.threads),
               # The sweeper here (in this process) presumes an attempt lost after 60 s; a
               # batch's calls must start well inside that (see collect_batch.BatchSettings).
               "STUCK_AFTER_SECONDS": str(self.stuck_after_seconds),
               **DEMO_WIRE_ENV}
        env.update(self.extra_env)
        return env

    def start_worker(self) -> subprocess.Popen[bytes]:
        # Logs go to a file, never to an unread pipe (a full pipe would block the worker).
        # In a directory of this run's own: several pipelines may run on one machine.
        if not hasattr(self, "log_dir"):
            self.log_dir = Path(tempfile.mkdtemp(prefix="paycollect-workers-"))
        log_path = self.log_dir / f"worker-{len(self.workers)}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "dramatiq", "workers.actors", "--processes", "1",
                 "--threads", str(self.threads)],
                cwd=ROOT, env=self.worker_env(), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        self.worker_logs.append(log_path)
        self.workers.append(process)
        return process

    def start_workers(self) -> None:
        for _ in range(self.worker_count):
            self.start_worker()

    def kill_worker(self, index: int = 0) -> None:
        """SIGKILL a whole worker (its process group: the dramatiq parent and its child)."""
        process = self.workers[index]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop_workers(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.workers:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.workers.clear()

    def flush_redis(self) -> None:
        """Lose every message (a Redis restart without persistence)."""
        self.redis.flushdb()

    def worker_peak_memory_kib(self) -> int:
        """The largest VmHWM among worker processes and their children."""
        pids = {p.pid for p in self.workers}
        peak = 0
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                text = status.read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
            pid, ppid = int(fields["Pid"]), int(fields["PPid"])
            if (pid in pids or ppid in pids) and "VmHWM" in fields:
                peak = max(peak, int(fields["VmHWM"].split()[0]))
        return peak

    # -- the in-process side ---------------------------------------------------------------
    def deps(self) -> object:
        from workers.bootstrap import build_runtime

        settings = Settings(database_url=self.database_url, redis_url=self.redis_url,
                            stripe_api_key=STRIPE_API_KEY, stripe_api_base=self.stripe_url,
                            gocardless_access_token="pipeline",
                            gocardless_base_url=self.gocardless_sim.url,
                            provider_timeout_seconds=1.0, provider_attempts=6,
                            stuck_after_seconds=self.stuck_after_seconds,
                            pending_poll_after_seconds=self.poll_after_seconds,
                            scheduler_tick_seconds=1.0,
                            lost_message_after_seconds=self.lost_after_seconds)
        self.runtime = build_runtime(settings, clock=SystemClock())
        return self.runtime.deps

    def seed(self, count: int, mix: Mix, *, currency: str = "EUR") -> list[str]:
        """Create `count` accounts (one subscription each) with providers, issue their first
        invoices. Returns the invoice ids (finalised, not yet routed).

        Seeding is not what is measured, so it takes the short way where that changes
        nothing: provider customers, cards and mandates are made in-process by the simulators
        (the same objects and idempotency records the gateways' HTTP onboarding leaves, see
        `provision`), accounts and subscriptions go in as two bulk inserts of the rows the
        repositories write, and the first invoices are issued by the production renewal
        (`renew_subscription`, one transaction each) on several threads, then a last
        `run_due_renewals` pass issues whatever else is due.
        """
        from workers.handlers.renewals import RenewalSettings, run_due_renewals

        self.deps()
        today = datetime.now(UTC).date()
        run = uuid.uuid4().hex[:6]
        accounts: list[Account] = []
        subscriptions: list[Subscription] = []
        for index in range(count):
            kind = mix.pick(index)
            account_id = f"acct-{run}-{index:06d}"
            method = self.provision(account_id, kind, currency)
            plan = Plan(interval=Interval.MONTHLY, currency=currency,
                        user_price=Money(1000 + index % 50, currency),
                        number_price=Money(500, currency))
            accounts.append(Account(id=account_id, name=f"Account {index}", currency=currency,
                                    payment_method=method,
                                    email=f"{account_id}@example.invalid"))
            subscriptions.append(Subscription.start(
                id=f"sub-{account_id}", account_id=account_id,
                terms=SubscriptionTerms(plan=plan, started_on=today, users=1 + index % 3,
                                        numbers=1)))
        self._insert(accounts, subscriptions)
        issued = self._renew([s.id for s in subscriptions], as_of=today)
        # Whatever else is due (nothing, unless the database held due subscriptions already).
        return issued + run_due_renewals(uow_factory=self.runtime.deps.uow_factory,
                                         as_of=today, clock=SystemClock(),
                                         settings=RenewalSettings())

    def _insert(self, accounts: list[Account], subscriptions: list[Subscription]) -> None:
        """Both tables in one transaction: the rows `uow.accounts.add` and
        `uow.subscriptions.add` write (same mappers, a fresh timestamp per row), executemany."""
        from adapters.db import mappers
        from adapters.db.tables import AccountRow, SubscriptionRow

        clock = SystemClock()
        with self.runtime.deps.uow_factory() as uow:
            connection = uow.session.connection()  # type: ignore[attr-defined]
            if accounts:
                connection.execute(AccountRow.__table__.insert(), [  # type: ignore[attr-defined]
                    mappers.account_values(a, now=clock.now()) for a in accounts])
            if subscriptions:
                connection.execute(SubscriptionRow.__table__.insert(), [  # type: ignore[attr-defined]
                    mappers.subscription_values(s, now=clock.now()) for s in subscriptions])
            uow.commit()

    def _renew(self, subscription_ids: list[str], *, as_of: date) -> list[str]:
        """Each subscription's invoices through `renew_subscription`, disjoint subscriptions on
        `seed_renewal_threads` threads (its lease and the gapless counter row make concurrent
        renewers safe); the ids come back in `subscription_ids` order."""
        from workers.handlers.renewals import RenewalSettings, renew_subscription

        uow_factory = self.runtime.deps.uow_factory
        clock, settings = SystemClock(), RenewalSettings()

        def renew(subscription_id: str) -> list[str]:
            return renew_subscription(uow_factory=uow_factory, subscription_id=subscription_id,
                                      as_of=as_of, clock=clock, settings=settings)

        with ThreadPoolExecutor(max_workers=self.seed_renewal_threads) as pool:
            return [i for issued in pool.map(renew, subscription_ids) for i in issued]

    def provision(self, account_id: str, kind: str, currency: str = "EUR") -> PaymentMethod:
        """The account's provider objects, made in the simulators in-process: the calls (and
        parameters, and idempotency keys) of `StripeGateway.ensure_customer` and
        `GoCardlessGateway.setup_mandate`, minus HTTP."""
        if kind.startswith("card:"):
            customer, pm = self._stripe_customer(account_id, kind.split(":", 1)[1])
            return PaymentMethod(MethodType.CARD, provider_customer=customer, provider_method=pm,
                                 details={"behaviour": kind})
        if kind.startswith("direct_debit:"):
            customer, mandate = self._gocardless_mandate(
                account_id, email=f"{account_id}@example.invalid", scheme="sepa_core",
                currency=currency, behaviour=kind.split(":", 1)[1])
            return PaymentMethod(MethodType.DIRECT_DEBIT, provider_customer=customer,
                                 provider_method=mandate, scheme="sepa_core",
                                 details={"behaviour": kind})
        return PaymentMethod(MethodType.WIRE)

    def _stripe_customer(self, account_id: str, payment_method: str) -> tuple[str, str]:
        """As `StripeGateway.ensure_customer(name=account_id, email=None)`."""
        sim, key = self.stripe_sim, STRIPE_API_KEY
        customer = stripe_preload.create_customer(
            sim, {"name": account_id, "email": "", "metadata": {"account_id": account_id}},
            api_key=key, idempotency_key=f"paycollect-customer-{account_id}")
        method = stripe_preload.attach_payment_method(
            sim, payment_method, {"customer": customer["id"]}, api_key=key,
            idempotency_key=f"paycollect-attach-{account_id}-{payment_method}")
        stripe_preload.update_customer(
            sim, customer["id"], {"invoice_settings": {"default_payment_method": method["id"]}},
            api_key=key, idempotency_key=f"paycollect-default-{account_id}-{method['id']}")
        return str(customer["id"]), str(method["id"])

    def _gocardless_mandate(self, account_id: str, *, email: str, scheme: str, currency: str,
                            behaviour: str) -> tuple[str, str]:
        """As `GoCardlessGateway.setup_mandate(name=account_id, …)`: each request first moves
        the simulator to its clock's date, as its API does."""
        sim, store = self.gocardless_sim, self.gocardless_sim.store
        key = uuid.uuid4().hex  # one key per onboarding, as the gateway does
        metadata = {"account_id": account_id}
        if behaviour:
            metadata["behaviour"] = behaviour
        sim.tick()
        customer = store.create_customer({
            "email": email, "company_name": account_id, "metadata": {"account_id": account_id}},
            f"{key}-customer")
        sim.tick()
        bank_account = store.create_bank_account({
            "account_holder_name": account_id, "currency": currency,
            **GOCARDLESS_BANK_DETAILS[currency], "links": {"customer": customer["id"]}},
            f"{key}-bank-account")
        sim.tick()
        mandate = store.create_mandate({
            "scheme": scheme, "metadata": metadata,
            "links": {"customer_bank_account": bank_account["id"]}}, f"{key}-mandate")
        return str(customer["id"]), str(mandate["id"])

    def route(self, invoice_ids: list[str]) -> None:
        """As renewals hand their invoices over: in batches (COLLECT_BATCH_SIZE each)."""
        self.actors.ActorDispatcher(batch_size=self.batch_size).route_many(invoice_ids)

    def sweep_until(self, done: Callable[[], bool], *, timeout: float,
                    every: float = 1.0, on_tick: Callable[[float], None] | None = None) -> bool:
        """Run the sweeper every `every` seconds until `done()`; False on timeout."""
        from workers.handlers.sweeper import sweep

        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if done():
                return True
            if on_tick is not None:
                on_tick(time.monotonic() - started)
            sweep(self.runtime.deps, settings=self.runtime.sweep_settings)
            time.sleep(every)
        return done()
