"""Pipeline benchmark: finalised invoices → settled, on Redis with worker processes.

In one run, on the same broker and the same worker processes:
  1. a bare no-op dramatiq actor's message rate (the ceiling for any actor);
  2. N invoices (mixed methods) against the simulators at 0 ms provider latency;
  3. as many invoices again at 200 ms provider latency, compared with what the configured
     concurrency allows: a collect message is a batch whose provider calls run up to
     `--pool` at once on each worker thread, and so is a batch of debit status polls (the
     sweeper's, standing in for the webhook), and with the rate at 0 ms (what the CPU
     allows): whichever of the two is lower binds.
Prints invoices/s, the ratio to the no-op rate, p50/p99 latency from finalised to settled, and
the workers' peak memory. Needs PostgreSQL and Redis on loopback (see README).

    python bench/pipeline.py [--invoices 10000] [--slow-invoices N] [--workers 2]
                             [--batch-size 50] [--pool 8]

`--invoices 0` or `--slow-invoices 0` skips that batch (a quicker look at the other).
`--webhook-endpoint URL` registers a business endpoint subscribed to every event type first;
`--dead-webhook-endpoint` one on a loopback port nothing listens on (a receiver down for the
whole run: its deliveries must not slow collection).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from domain.outgoing_events import EVENT_TYPES
from tests.e2e.event_receiver import closed_port_url
from tests.e2e.pipeline_support import fresh_postgres_schema
from workers.devtools.pipeline import Mix, Pipeline
from workers.operations import endpoints

#: 70% card, 20% direct debit, 10% wire — the mix a phone-service biller sees.
MIX = Mix({"card:pm_card_visa": 7, "direct_debit:pays": 2, "wire": 1})


class CpuMeter:
    """CPU seconds (user + system) used by each side of the system, read from /proc: the
    worker processes, this driver (the simulators and the sweeper run here), PostgreSQL and
    Redis. All share the machine's cores, so this says where an invoice's cost goes."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def _cpu(self, fields: list[str]) -> float:
        """utime + stime from the fields after the command name in /proc/<pid>/stat."""
        return (int(fields[11]) + int(fields[12])) / self.TICK

    def sample(self) -> dict[str, float]:
        workers = {p.pid for p in self.pipeline.workers}
        totals = {"workers": 0.0, "driver (simulators, sweeper)": 0.0, "PostgreSQL": 0.0,
                  "Redis": 0.0}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:
                continue
            pid = int(stat.parent.name)
            name = text[text.index("(") + 1:text.rindex(")")]
            fields = text.rsplit(")", 1)[1].split()
            ppid = int(fields[1])
            if pid in workers or ppid in workers:
                totals["workers"] += self._cpu(fields)
            elif pid == os.getpid():
                totals["driver (simulators, sweeper)"] += self._cpu(fields)
            elif name.startswith("postgres"):
                totals["PostgreSQL"] += self._cpu(fields)
            elif name.startswith("redis-server"):
                totals["Redis"] += self._cpu(fields)
        return totals

    @staticmethod
    def per_item(before: dict[str, float], after: dict[str, float],
                 count: int) -> dict[str, float]:
        """Milliseconds of CPU per item between two samples (PostgreSQL backends that ended
        in between are not counted: the pool keeps them open)."""
        return {key: max(after[key] - before[key], 0.0) * 1000 / count for key in after}


def noop_rate(pipeline: Pipeline, count: int) -> float:
    """Messages per second through the bare no-op actor."""
    started = time.perf_counter()
    for _ in range(count):
        pipeline.actors.noop.send()
    while pipeline.redis.hlen("dramatiq:noop.msgs") > 0:
        time.sleep(0.02)
    return count / (time.perf_counter() - started)


def settled_times(pipeline: Pipeline, invoice_ids: list[str]) -> list[float]:
    """Epoch seconds at which each invoice's collection settled (paid / awaiting transfer)."""
    with pipeline.runtime.deps.uow_factory() as uow:
        rows = uow.session.execute(text(  # type: ignore[attr-defined]
            "SELECT extract(epoch FROM max(updated_at)) FROM payment_attempts "
            "WHERE invoice_id = ANY(:ids) AND status IN ('succeeded', 'awaiting_transfer') "
            "GROUP BY invoice_id"), {"ids": invoice_ids}).all()
    return [float(r[0]) for r in rows]


def settled_count(pipeline: Pipeline, since: datetime) -> int:
    """How many invoices have settled through an attempt made since `since` (the batch's
    own: each run seeds a fresh schema and routes its batch after `since`): what the driver
    asks every half second while it waits. Its polling is counted in the figures as the
    system's, so it must cost little: reading every settled row of the batch's ids was a
    sixth of the driver's CPU, and matching the batch's thousands of ids (`= ANY(:ids)`) was
    most of what PostgreSQL was busy with in a long run."""
    with pipeline.runtime.deps.uow_factory() as uow:
        return int(uow.session.execute(text(  # type: ignore[attr-defined]
            "SELECT count(DISTINCT invoice_id) FROM payment_attempts "
            "WHERE created_at >= :since AND status IN ('succeeded', 'awaiting_transfer')"),
            {"since": since}).scalar_one())


def run_batch(pipeline: Pipeline, count: int, label: str, timeout: float,
              meter: CpuMeter | None = None) -> dict[str, float]:
    invoice_ids = pipeline.seed(count, MIX)
    cpu_before = meter.sample() if meter else None
    started = time.time()
    since = datetime.fromtimestamp(started, UTC)
    pipeline.route(invoice_ids)
    finished = pipeline.sweep_until(
        lambda: settled_count(pipeline, since) >= len(invoice_ids),
        timeout=timeout, every=0.5)
    times = sorted(settled_times(pipeline, invoice_ids))
    if meter and cpu_before:
        # Measured to the end of the drain, receipts and polls included.
        while any(pipeline.redis.hlen(f"dramatiq:{q}.msgs") for q in QUEUES):
            time.sleep(0.2)
        for side, ms in CpuMeter.per_item(cpu_before, meter.sample(), count).items():
            CPU_REPORT.setdefault(label, {})[side] = ms
    if not finished:
        print(f"  {label}: only {len(times)}/{count} settled within {timeout:.0f} s")
    latencies = [t - started for t in times]
    elapsed = max(times) - started
    return {"count": len(times), "per_second": len(times) / elapsed,
            "p50": statistics.median(latencies),
            "p99": latencies[int(len(latencies) * 0.99) - 1]}


#: Queues drained before the CPU used for a batch is read.
QUEUES = ("invoices", "card", "direct_debit", "wire", "maintenance", "webhooks", "webhooks_out")
CPU_REPORT: dict[str, dict[str, float]] = {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--slow-invoices", type=int, default=None,
                        help="invoices at 200 ms (default: as many as --invoices; a small "
                             "batch measures its ramp-up and tail more than its rate)")
    parser.add_argument("--noop-messages", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker process")
    parser.add_argument("--batch-size", type=int, default=50,
                        help="ids per route / collect message (COLLECT_BATCH_SIZE)")
    parser.add_argument("--pool", type=int, default=8, help="provider calls at once per "
                        "collect batch (BATCH_PROVIDER_CONCURRENCY)")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--webhook-endpoint", default=None,
                        help="register an endpoint receiving every event type")
    parser.add_argument("--dead-webhook-endpoint", action="store_true",
                        help="register an endpoint on a closed loopback port")
    args = parser.parse_args()

    with fresh_postgres_schema(args.postgres) as database_url, Pipeline(
            database_url=database_url, redis_url=args.redis, workers=args.workers,
            threads=args.threads, seconds_per_day=0.02,
            # Nothing is lost here: the sweeper must not re-send the backlog while it drains.
            lost_after_seconds=3600,
            # A debit confirms about 0.1 s after submission here: its status is polled a second
            # after submission (once: the sweeper marks what it asked), standing in for the
            # provider's webhook.
            poll_after_seconds=1, batch_size=args.batch_size,
            # Nothing is killed either: on this loaded machine a batch may take longer than
            # the fault test's 60 s, and its calls must not pass their start deadline.
            stuck_after_seconds=600,
            env={"BATCH_PROVIDER_CONCURRENCY": str(args.pool)}) as pipeline:
        endpoint = args.webhook_endpoint or (closed_port_url() if args.dead_webhook_endpoint
                                             else None)
        if endpoint:
            endpoints.add(pipeline.deps(), url=endpoint,  # type: ignore[arg-type]
                          events=sorted(EVENT_TYPES), actor="bench")
            print(f"webhook endpoint: {endpoint} (every event type)")
        pipeline.start_workers()
        time.sleep(3)  # let the worker processes boot
        meter = CpuMeter(pipeline)
        noop_before = meter.sample()
        noop = noop_rate(pipeline, args.noop_messages)
        CPU_REPORT["no-op message"] = CpuMeter.per_item(noop_before, meter.sample(),
                                                        args.noop_messages)
        fast = slow = None
        if args.invoices:
            fast = run_batch(pipeline, args.invoices, "0 ms", timeout=1800, meter=meter)
        memory = pipeline.worker_peak_memory_kib()
        slow_count = args.invoices if args.slow_invoices is None else args.slow_invoices
        if slow_count:
            pipeline.stripe_sim.faults.update({"latency_ms": 200})
            pipeline.gocardless_sim.faults.configure(
                pipeline.gocardless_sim.faults.config.__class__(latency_ms=200))
            slow = run_batch(pipeline, slow_count, "200 ms", timeout=1800, meter=meter)
        memory = max(memory, pipeline.worker_peak_memory_kib())

    threads = args.workers * args.threads
    # A card invoice makes one provider call and a direct debit two (create the payment, then
    # the status poll standing in for the webhook); a wire none. All run in batches on each
    # process's provider pool of threads times `pool` threads: the charge and the debit create in
    # collect batches, the polls in the sweeper's poll batches. A batch has `pool` calls in
    # flight and borrows the threads other batches leave idle (up to twice that), so the
    # pool's size stays the bound: `pool` calls per worker thread.
    pool = min(args.pool, args.batch_size)
    in_batches = (7 * 1 + 2 * 2) / 10
    thread_seconds = 0.2 * in_batches / pool
    allowed = threads / thread_seconds
    formula = (f"{threads} threads / (0.2 s × {in_batches:.1f} calls in batches / pool "
               f"{pool}) = {allowed:.0f} invoices/s")
    print(f"workers: {args.workers} processes × {args.threads} threads, Redis broker, PostgreSQL;"
          f" batches of {args.batch_size}, {args.pool} provider calls at once per batch")
    print(f"concurrency at 200 ms:  {formula}")
    print(f"no-op actor:            {noop:8.0f} messages/s")
    if fast:
        print(f"invoices at 0 ms:       {fast['per_second']:8.1f} invoices/s  "
              f"({fast['per_second'] / noop:.1%} of no-op; ceiling 50%)  "
              f"p50 {fast['p50']:.2f} s  p99 {fast['p99']:.2f} s  n={fast['count']:.0f}")
    if slow:
        print(f"invoices at 200 ms:     {slow['per_second']:8.1f} invoices/s  "
              f"({slow['per_second'] / allowed:.1%} of the {allowed:.0f}/s the concurrency "
              f"allows)  p50 {slow['p50']:.2f} s  p99 {slow['p99']:.2f} s  "
              f"n={slow['count']:.0f}")
        if fast:
            # The same invoices at 0 ms are as fast as the CPU goes: at 200 ms the rate is
            # bound by that or by the concurrency, whichever is lower.
            cpu_bound = fast["per_second"]
            lower = min(cpu_bound, allowed)
            binding = "the CPU's (the 0 ms rate)" if cpu_bound < allowed else "the concurrency's"
            print(f"                        {slow['per_second'] / cpu_bound:.1%} of the rate at "
                  f"0 ms; the lower bound is {binding}: {lower:.0f}/s, "
                  f"{slow['per_second'] / lower:.1%} of it")
    print(f"peak worker memory:     {memory / 1024:8.1f} MiB (VmHWM, largest process)")
    print("CPU per item (ms):      " + "  ".join(CPU_REPORT["no-op message"]))
    for label, sides in CPU_REPORT.items():
        print(f"  {label + ':':<21} " + "  ".join(f"{ms:6.2f}" for ms in sides.values())
              + f"   total {sum(sides.values()):.2f}")


if __name__ == "__main__":
    main()
