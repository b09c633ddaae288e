"""Where the time per invoice goes: one invoice after another through the real handlers (route,
claim, provider call over HTTP, outcome) in this process, under pyinstrument.

    python bench/profile_pipeline.py [--invoices 500] [--batch 50] [--cpu]

`--batch N` routes N invoices per call, as a batch of the renewal fan-out does (collect
batches of up to N attempts per method); `--batch 1` one invoice after another.

Each batch's receipts are sent from the outbox as a drain does. Prints pyinstrument's call
tree (the README summarises it). `--cpu`: no profiler; the CPU this thread spends per
invoice, with the provider calls on this thread and the debits' status polls included (the
workers' share of an invoice without the rest of a loaded process; steadier than
bench/pipeline.py for comparing two versions). Needs PostgreSQL and Redis.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyinstrument import Profiler
from sqlalchemy import text

from domain.payments import AttemptStatus
from tests.e2e.pipeline_support import fresh_postgres_schema
from workers.devtools.pipeline import Mix, Pipeline
from workers.handlers import collect_batch, collection, notifications, poll_batch
from workers.handlers.collect_batch import BatchSettings

MIX = Mix({"card:pm_card_visa": 7, "direct_debit:pays": 2, "wire": 1})


class Inline:
    """A Dispatcher that runs collection in this thread instead of sending a message."""

    def __init__(self, deps: object, settings: BatchSettings = BatchSettings()) -> None:
        self.deps = deps
        self.settings = settings

    def route_invoice(self, invoice_id: str) -> None:
        collection.route_invoice(self.deps, invoice_id=invoice_id)  # type: ignore[arg-type]

    def route_many(self, invoice_ids: Sequence[str]) -> None:
        collection.route_invoices(self.deps, invoice_ids=invoice_ids)  # type: ignore[arg-type]

    def collect(self, attempt_id: str, method: str) -> None:
        collection.collect_attempt(self.deps, attempt_id=attempt_id)  # type: ignore[arg-type]

    def collect_many(self, attempt_ids: Sequence[str], method: str) -> None:
        collect_batch.collect_attempts(self.deps, attempt_ids=attempt_ids,  # type: ignore[arg-type]
                                       settings=self.settings)

    def reconcile(self, attempt_id: str) -> None: ...
    def reconcile_many(self, attempt_ids: Sequence[str]) -> None: ...
    def send_notification(self, notification_id: str) -> None: ...
    def retry_open_balances(self, account_id: str) -> None: ...


def cpu_per_invoice(pipeline: Pipeline, inline: Any, invoice_ids: list[str], *,
                    batch: int) -> None:
    """Route and collect batch after batch, then poll the debits (confirmed about 0.1 s
    after submission) and drain the outbox, counting this thread's CPU only: steadier than
    the pipeline's figure, which shares the cores with everything else."""
    deps, cpu = pipeline.runtime.deps, 0.0
    for start in range(0, len(invoice_ids), batch):
        began = time.thread_time()
        collection.route_invoices(inline, invoice_ids=invoice_ids[start:start + batch])
        notifications.send_pending(inline, notifier=pipeline.runtime.notifier)
        cpu += time.thread_time() - began
        time.sleep(0.15)
        with deps.uow_factory() as uow:
            pending = [str(row[0]) for row in uow.session.execute(  # type: ignore[attr-defined]
                text("SELECT id FROM payment_attempts WHERE status = :status"),
                {"status": AttemptStatus.PENDING.value})]
        began = time.thread_time()
        if pending:
            poll_batch.reconcile_attempts(inline, attempt_ids=pending,
                                          settings=BatchSettings(concurrency=1))
        notifications.send_pending(inline, notifier=pipeline.runtime.notifier)
        cpu += time.thread_time() - began
    print(f"{len(invoice_ids)} invoices, batches of {batch}: {cpu / len(invoice_ids) * 1000:.3f} "
          "ms of this thread's CPU per invoice (provider calls on this thread)")


def main() -> None:
    import os

    from workers.devtools.pipeline import DEMO_WIRE_ENV

    os.environ.update(DEMO_WIRE_ENV)  # wire instructions need a beneficiary bank
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=500)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--cpu", action="store_true",
                        help="no profiler: the CPU this thread spends per invoice, provider "
                             "calls on this thread (none on the pool), debit polls included")
    args = parser.parse_args()
    with fresh_postgres_schema(args.postgres) as url, Pipeline(
            database_url=url, redis_url=args.redis, workers=0) as pipeline:
        invoice_ids = pipeline.seed(args.invoices, MIX)
        from dataclasses import replace

        deps = pipeline.runtime.deps
        inline = replace(deps, dispatch=Inline(
            None, BatchSettings(concurrency=1) if args.cpu else BatchSettings()))
        inline.dispatch.deps = inline  # type: ignore[attr-defined]
        if args.cpu:
            cpu_per_invoice(pipeline, inline, invoice_ids, batch=args.batch)
            return
        profiler = Profiler(interval=0.0005)
        started = time.perf_counter()
        profiler.start()
        for start in range(0, len(invoice_ids), args.batch):
            collection.route_invoices(inline,
                                      invoice_ids=invoice_ids[start:start + args.batch])
            # The receipts the outcomes queued, as a drain sends them.
            notifications.send_pending(inline, notifier=pipeline.runtime.notifier)
        profiler.stop()
        elapsed = time.perf_counter() - started
        print(f"{len(invoice_ids)} invoices routed and collected in {elapsed:.1f} s: "
              f"{elapsed / len(invoice_ids) * 1000:.1f} ms each, one thread, no broker, "
              f"batches of {args.batch}")
        print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main()
