"""Renewal throughput in batches vs one by one, and how it scales with the subscriptions
that are NOT due.

    python bench/renewals.py [--totals 10000,100000,1000000] [--due-share 0.1]
                             [--single 1000] [--same 1000] [--processes 1] [--profile]
                             [--postgres URL]

For each total, on its own fresh PostgreSQL schema (dropped afterwards): `due-share` of the
subscriptions are due today, plus `single` more for the old path; the rest renew later.
Rows are made by INSERT … SELECT generate_series (a million in seconds). Each due
subscription started a month ago, so its invoice has a recurring part, a minutes line from
one call record and, for one in ten, a prorated seat added mid-month.

Then, in the same run: the single-renewal path (`renew_subscription`, one transaction per
subscription, as before batches) over `single` subscriptions, and the scheduler's batched
path (`workers.scheduler.renew_due`, RENEWAL_BATCH_SIZE per transaction) over all the
others, in `--processes` processes at once (as several renewal workers share a burst: each
claims its own batches). Printed: invoices/s of each, the time the batches took for the
first `same` due subscriptions (the same count at every total: nearly flat means the due
claim reads the `next_renewal_on` index, not the table; in one process only), and the load
average (the machine is shared).
With `--profile`, the top cProfile entries of the batched path at the last total.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing
import os
import pstats
import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.db.engine import create_engine, session_factory
from adapters.db.migrate import upgrade
from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.clock import ManualClock
from tests.handlers.doubles import make_doubles
from tests.integration.conftest import with_search_path
from tests.integration.renewal_seed import TODAY, seed, subscription_id
from workers.handlers.renewal_batches import DEFAULT_BATCH_SIZE, renew_batch
from workers.handlers.renewals import RenewalSettings, renew_subscription
from workers.scheduler import route_issued


@dataclass(frozen=True)
class Figures:
    total: int
    single_count: int
    single_seconds: float
    batch_count: int
    batch_seconds: float
    same_seconds: float
    load: float
    profile: str = ""


def _fresh_schema(server_url: str) -> tuple[str, str]:
    schema = f"paycollect_bench_{secrets.token_hex(4)}"
    engine = create_engine(server_url, pool_size=1)
    with engine.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine.dispose()
    url = with_search_path(server_url, schema)
    upgrade(url)
    return schema, url


def _drop(server_url: str, schema: str) -> None:
    engine = create_engine(server_url, pool_size=1)
    with engine.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    engine.dispose()


def measure(server_url: str, *, total: int, due: int, single: int, same: int,
            batch_size: int, processes: int = 1, profile: bool = False) -> Figures:
    schema, url = _fresh_schema(server_url)
    engine = create_engine(url, pool_size=2)
    try:
        seeding = time.perf_counter()
        seed(engine, total=total, due=due + single)
        print(f"  seeded {total:,} subscriptions ({due + single:,} due) in "
              f"{time.perf_counter() - seeding:.1f} s", flush=True)
        renewer = Renewer.on(engine)
        uow_factory, deps, clock, settings = (renewer.uow_factory, renewer.deps,
                                              renewer.clock, renewer.settings)
        load = os.getloadavg()[0]

        # Before: the single path, over the last `single` due subscriptions.
        ids = [subscription_id(n) for n in range(due + 1, due + single + 1)]
        started = time.perf_counter()
        single_count = 0
        for one in ids:
            issued = renew_subscription(uow_factory=uow_factory, subscription_id=one,
                                        as_of=TODAY, clock=clock, settings=settings)
            route_issued(deps, invoice_ids=issued)
            single_count += len(issued)
        single_seconds = time.perf_counter() - started

        # After: the scheduler's batches over everything else due.
        if processes > 1:
            batch_count, batch_seconds = _in_processes(url, processes=processes,
                                                       batch_size=batch_size)
            assert batch_count == due, f"batches issued {batch_count}, expected {due}"
            return Figures(total=total, single_count=single_count,
                           single_seconds=single_seconds, batch_count=batch_count,
                           batch_seconds=batch_seconds, same_seconds=float("nan"),
                           load=(load + os.getloadavg()[0]) / 2)
        profiler = cProfile.Profile() if profile else None
        batch_count, same_seconds = 0, 0.0
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        for in_batch in renewer.batches(batch_size):
            batch_count += in_batch
            if not same_seconds and batch_count >= same:
                same_seconds = time.perf_counter() - started
        batch_seconds = time.perf_counter() - started
        if profiler is not None:
            profiler.disable()
        assert single_count == single, f"single path issued {single_count}, expected {single}"
        assert batch_count == due, f"batches issued {batch_count}, expected {due}"
        return Figures(total=total, single_count=single_count, single_seconds=single_seconds,
                       batch_count=batch_count, batch_seconds=batch_seconds,
                       same_seconds=same_seconds, load=(load + os.getloadavg()[0]) / 2,
                       profile=_top(profiler) if profiler is not None else "")
    finally:
        engine.dispose()
        _drop(server_url, schema)


@dataclass(frozen=True)
class Renewer:
    """What renews on one engine: the scheduler's handlers with test doubles for the rest."""

    uow_factory: SqlUnitOfWorkFactory
    deps: Any
    clock: ManualClock
    settings: RenewalSettings

    @classmethod
    def on(cls, engine: Any) -> Renewer:
        clock = ManualClock(datetime(2026, 3, 1, 6, tzinfo=UTC))
        uow_factory = SqlUnitOfWorkFactory(session_factory(engine), clock=clock)
        deps = make_doubles(uow_factory=uow_factory, clock=clock).deps
        return cls(uow_factory, deps, clock, RenewalSettings(wire_due_days=deps.wire_due_days))

    def batches(self, batch_size: int) -> Iterator[int]:
        """The scheduler's pass: batch after batch until nothing is left; invoices of each."""
        last = None
        while True:
            result = renew_batch(uow_factory=self.uow_factory, as_of=TODAY, clock=self.clock,
                                 settings=self.settings, limit=batch_size, after=last)
            if not result.claimed:
                return
            last = result.last
            route_issued(self.deps, invoice_ids=result.issued)
            yield len(result.issued)


def _renew_all(url: str, batch_size: int, start: Any, done: Any) -> None:
    """One renewal worker's share of the burst (a process of its own, its own engine)."""
    engine = create_engine(url, pool_size=2)
    renewer = Renewer.on(engine)
    start.wait()
    count = sum(renewer.batches(batch_size))
    engine.dispose()
    done.put(count)


def _in_processes(url: str, *, processes: int, batch_size: int) -> tuple[int, float]:
    """The batches in `processes` renewal workers at once: invoices issued, seconds."""
    context = multiprocessing.get_context("spawn")
    start, done = context.Event(), context.Queue()
    workers = [context.Process(target=_renew_all, args=(url, batch_size, start, done))
               for _ in range(processes)]
    for worker in workers:
        worker.start()
    time.sleep(3)  # every worker imported and connected before the clock starts
    started = time.perf_counter()
    start.set()
    count = sum(done.get(timeout=3600) for _ in workers)
    seconds = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return count, seconds


def _top(profiler: cProfile.Profile, entries: int = 25) -> str:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(entries)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--totals", default="10000,100000,1000000")
    parser.add_argument("--due-share", type=float, default=0.1)
    parser.add_argument("--single", type=int, default=1000,
                        help="subscriptions renewed by the single path at each total")
    parser.add_argument("--same", type=int, default=1000,
                        help="the due count timed at every total")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--processes", type=int, default=1,
                        help="renewal workers sharing the burst (1: in this process)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    totals = [int(t) for t in args.totals.split(",")]
    measure(args.postgres, total=10_000, due=200, single=50, same=100,  # warm-up, discarded
            batch_size=args.batch_size)
    rows = []
    for total in totals:
        due = int(total * args.due_share)
        figures = measure(args.postgres, total=total, due=due, single=args.single,
                          same=min(args.same, due), batch_size=args.batch_size,
                          processes=args.processes, profile=args.profile and total == totals[-1])
        rows.append(figures)
        print(f"{total:>9,} subscriptions: single path {figures.single_count:,} in "
              f"{figures.single_seconds:.2f} s ({figures.single_count / figures.single_seconds:.0f}"
              f"/s); batches {figures.batch_count:,} in {figures.batch_seconds:.2f} s "
              f"({figures.batch_count / figures.batch_seconds:.0f}/s); first "
              f"{min(args.same, due):,} in {figures.same_seconds:.2f} s; load {figures.load:.1f}",
              flush=True)
    print()
    print("| subscriptions | due | single path (before) | batches of "
          f"{args.batch_size}, {args.processes} process(es) (after) | ratio | "
          f"batches: first {args.same:,} due | load |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for f in rows:
        before, after = f.single_count / f.single_seconds, f.batch_count / f.batch_seconds
        print(f"| {f.total:,} | {f.batch_count:,} + {f.single_count:,} | {before:.0f}/s | "
              f"{after:.0f}/s | {after / before:.1f}× | {f.same_seconds:.2f} s | {f.load:.1f} |")
    first, last = rows[0], rows[-1]
    print(f"\nfirst {args.same:,} due, {last.total:,} / {first.total:,} subscriptions: "
          f"{last.same_seconds / first.same_seconds:.2f} (nearly flat is ~1)")
    for f in rows:
        if f.profile:
            print(f"\ncProfile of the batches at {f.total:,} subscriptions (by own time):")
            print(f.profile)


if __name__ == "__main__":
    main()
