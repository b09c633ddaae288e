"""What an invoice cannot cost less than on this machine: the parts every collection must
have, each as bare as the product's fixed stack allows, measured side by side in one run with
the pipeline itself, on the same Redis broker, worker processes, simulators and PostgreSQL.

  - two message hops (route, collect): the bare no-op dramatiq actor, twice;
  - the provider calls: a card charge (official `stripe` SDK through the production gateway,
    against the Stripe simulator over HTTP), a debit's create and one status read (official
    `gocardless-pro` SDK, GoCardless simulator), weighted by the pipeline's mix;
  - the database writes no collection can skip, in raw psycopg (no SQLAlchemy, no reads, no
    re-check, no receipt): insert the attempt; claim it (compare-and-set); record the
    settlement (attempt, ledger credit, invoice) — three transactions, five statements.

CPU is read from /proc for every process (workers, this driver with the simulators,
PostgreSQL, Redis). Their sum bounds the invoices per second the machine's cores can carry
however the work is scheduled; divided by the no-op rate it bounds the ratio pipeline.py
reports. Needs PostgreSQL and Redis on loopback, like pipeline.py.

    python bench/floor.py [--calls 1000] [--invoices 3000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from psycopg.types.json import Jsonb

from adapters.db import mappers
from bench.pipeline import CPU_REPORT, CpuMeter, noop_rate, run_batch
from domain.accounts import MethodType
from domain.ledger import EntryKind, entry
from domain.money import Money
from domain.payments import AttemptStatus, PaymentAttempt
from tests.e2e.pipeline_support import fresh_postgres_schema
from workers.devtools.pipeline import Mix, Pipeline

#: The pipeline's mix as shares: 70% card, 20% direct debit, 10% wire.
CARD, DEBIT = 0.7, 0.2


def cpu_per_call(meter: CpuMeter, count: int, call: Any, sides: tuple[str, ...]) -> float:
    """CPU ms per call of `call(index)`, summed over `sides` (the processes involved)."""
    before = meter.sample()
    for index in range(count):
        call(index)
    per_item = CpuMeter.per_item(before, meter.sample(), count)
    return sum(per_item[side] for side in sides)


def stripe_charge(pipeline: Pipeline) -> Any:
    method = pipeline.provision("floor-card", "card:pm_card_visa")
    customer, card = method.provider_customer, method.provider_method
    assert customer
    assert card
    gateway = pipeline.runtime.deps.card

    def charge(index: int) -> None:
        outcome = gateway.charge(attempt_id=str(uuid.uuid4()), customer=customer,
                                 payment_method=card, amount=Money(1000 + index, "EUR"),
                                 invoice_id="floor", account_id="floor")
        assert type(outcome).__name__ == "Charged", outcome

    return charge


def gocardless_debit(pipeline: Pipeline) -> Any:
    mandate = pipeline.provision("floor-debit", "direct_debit:pays").provider_method
    assert mandate
    gateway = pipeline.runtime.deps.direct_debit

    def debit(index: int) -> None:
        created = gateway.collect(attempt_id=str(uuid.uuid4()), mandate_id=mandate,
                                  amount=Money(1000 + index, "EUR"), invoice_id="floor",
                                  account_id="floor")
        ref = getattr(created, "provider_ref", None)
        assert ref, created
        gateway.payment_status(provider_ref=ref)

    return debit


class BareWrites:
    """The three transactions of one collection, as plain prepared statements."""

    def __init__(self, pipeline: Pipeline, invoice_ids: list[str]) -> None:
        self.invoices = invoice_ids
        url = pipeline.database_url.replace("postgresql+psycopg://", "postgresql://")
        self.connection = psycopg.connect(url, prepare_threshold=0)
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT id, account_id, total_minor FROM invoices WHERE id = ANY(%s)",
                           (invoice_ids,))
            self.rows = {row[0]: (row[1], row[2]) for row in cursor}

    def collect(self, index: int) -> None:
        """One invoice: its three transactions, a statement per row."""
        self._collect(self.invoices[index:index + 1])

    def collect_batch(self, index: int, size: int = 50) -> None:
        """A batch of `size` invoices: the same three transactions, each statement sent
        once for the batch (executemany, pipelined by psycopg)."""
        self._collect(self.invoices[index * size:(index + 1) * size])

    def _collect(self, invoice_ids: list[str]) -> None:
        now = datetime.now(UTC)
        attempts, credits, paid = [], [], []
        for invoice_id in invoice_ids:
            account_id, total = self.rows[invoice_id]
            attempt = PaymentAttempt(
                id=str(uuid.uuid4()), invoice_id=invoice_id, account_id=account_id,
                method=MethodType.CARD, number=1, amount=Money(total, "EUR"),
                status=AttemptStatus.SCHEDULED, created_at=now, updated_at=now,
                scheduled_for=now, retry_schedule_days=(1, 3, 5, 7), reason="renewal")
            values = mappers.attempt_values(attempt)
            for key in ("reversal_refs", "cancelled_reversal_refs"):
                values[key] = Jsonb(values[key])
            attempts.append(values)
            credits.append(mappers.ledger_values(
                entry(EntryKind.PAYMENT_SETTLED, account_id=account_id, amount=attempt.amount,
                      on=now.date(), invoice_id=invoice_id, attempt_id=attempt.id),
                dedupe_key=f"settle:{attempt.id}", now=now))
            paid.append((total, now, invoice_id))
        columns, credit = list(attempts[0]), list(credits[0])
        with self.connection.transaction(), self.connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO payment_attempts ({', '.join(columns)}, version) "  # noqa: S608
                f"VALUES ({', '.join(f'%({key})s' for key in columns)}, 1)", attempts)
        with self.connection.transaction(), self.connection.cursor() as cursor:
            cursor.execute("UPDATE payment_attempts SET status = 'processing', updated_at = %s, "
                           "version = version + 1 WHERE id = ANY(%s) AND status = 'scheduled'",
                           (now, [a["id"] for a in attempts]))
        with self.connection.transaction(), self.connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE payment_attempts SET status = 'succeeded', provider_ref = %s, "
                "updated_at = %s, version = version + 1 "
                "WHERE id = %s AND status = 'processing'",
                [(f"pi_{a['id']}", now, a["id"]) for a in attempts])
            cursor.executemany(
                f"INSERT INTO ledger_entries ({', '.join(credit)}) "  # noqa: S608
                f"VALUES ({', '.join(f'%({key})s' for key in credit)})", credits)
            cursor.executemany("UPDATE invoices SET amount_paid_minor = %s, status = 'paid', "
                               "updated_at = %s WHERE id = %s", paid)

    def close(self) -> None:
        self.connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1000,
                        help="measured repetitions of each part (no-op: 10 times as many)")
    parser.add_argument("--invoices", type=int, default=3000,
                        help="invoices through the real pipeline at 0 ms, for comparison")
    parser.add_argument("--batch", type=int, default=50,
                        help="invoices per message and per transaction in the batched floor")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    here = ("driver (simulators, sweeper)", "PostgreSQL")  # no worker or broker involved

    with fresh_postgres_schema(args.postgres) as database_url, Pipeline(
            database_url=database_url, redis_url=args.redis, workers=args.workers,
            threads=args.threads, seconds_per_day=0.02, lost_after_seconds=3600,
            poll_after_seconds=1) as pipeline:
        pipeline.start_workers()
        time.sleep(3)  # let the worker processes boot
        meter = CpuMeter(pipeline)
        noop_count = args.calls * 10
        before = meter.sample()
        noop = noop_rate(pipeline, noop_count)
        hop = sum(CpuMeter.per_item(before, meter.sample(), noop_count).values())
        pipeline.deps()
        card = cpu_per_call(meter, args.calls, stripe_charge(pipeline), here)
        debit = cpu_per_call(meter, args.calls, gocardless_debit(pipeline), here)
        writes = BareWrites(pipeline, pipeline.seed(2 * args.calls, Mix({"wire": 1})))
        try:
            database = cpu_per_call(meter, args.calls, writes.collect, here)
            batches = args.calls // args.batch
            writes.invoices = writes.invoices[args.calls:]
            database_batched = cpu_per_call(
                meter, batches, lambda n: writes.collect_batch(n, args.batch),
                here) / args.batch
        finally:
            writes.close()
        real = run_batch(pipeline, args.invoices, "0 ms", timeout=1800, meter=meter)
        real_cpu = sum(CPU_REPORT["0 ms"].values())

    cores = os.cpu_count() or 1
    calls = {f"provider calls ({CARD:.0%} card charge)": CARD * card,
             f"provider calls ({DEBIT:.0%} debit create + status)": DEBIT * debit}
    floors = {
        "one invoice per message and transaction": {
            "two message hops (no-op actor ×2)": 2 * hop, **calls,
            "database writes (3 transactions, raw psycopg)": database},
        f"batches of {args.batch} invoices": {
            f"two message hops per {args.batch} invoices": 2 * hop / args.batch, **calls,
            f"database writes (3 transactions per {args.batch}, executemany)":
                database_batched},
    }
    print(f"machine: {cores} cores; no-op actor {noop:.0f} messages/s "
          f"({args.workers} processes × {args.threads} threads)")
    print(f"  (one card charge {card:.2f} ms, one debit create + status {debit:.2f} ms, "
          f"one no-op message {hop:.2f} ms)")
    print(f"the pipeline, same run: {real['per_second']:6.1f} invoices/s = "
          f"{real['per_second'] / noop:.1%} of the no-op rate, {real_cpu:.2f} ms CPU per "
          "invoice")
    for design, parts in floors.items():
        floor = sum(parts.values())
        print(f"\nCPU per invoice that no collection can avoid, {design}, all processes:")
        for name, ms in parts.items():
            print(f"  {name:<60} {ms:6.2f} ms")
        print(f"  {'floor':<60} {floor:6.2f} ms")
        best = cores * 1000 / floor
        print(f"best rate the cores allow at this floor: {best:6.0f} invoices/s = "
              f"{best / noop:.1%} of the no-op rate (target 15%); the pipeline costs "
              f"{real_cpu / floor:.1f} × this floor")


if __name__ == "__main__":
    main()
