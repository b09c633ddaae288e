"""Where the time per invoice goes: one invoice after another through the real handlers (route,
claim, provider call over HTTP, outcome) in this process, under pyinstrument.

    python bench/profile_pipeline.py [--invoices 500] [--batch 50]

`--batch N` routes N invoices per call, as a batch of the renewal fan-out does (collect
batches of up to N attempts per method); `--batch 1` one invoice after another.

Each batch's receipts are sent from the outbox as a drain does. Prints pyinstrument's call
tree (the README summarises it). Needs PostgreSQL and Redis.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyinstrument import Profiler

from tests.e2e.pipeline_support import fresh_postgres_schema
from workers.devtools.pipeline import Mix, Pipeline
from workers.handlers import collection, notifications

MIX = Mix({"card:pm_card_visa": 7, "direct_debit:pays": 2, "wire": 1})


class Inline:
    """A Dispatcher that runs collection in this thread instead of sending a message."""

    def __init__(self, deps: object) -> None:
        self.deps = deps

    def route_invoice(self, invoice_id: str) -> None:
        collection.route_invoice(self.deps, invoice_id=invoice_id)  # type: ignore[arg-type]

    def route_many(self, invoice_ids: Sequence[str]) -> None:
        collection.route_invoices(self.deps, invoice_ids=invoice_ids)  # type: ignore[arg-type]

    def collect(self, attempt_id: str, method: str) -> None:
        collection.collect_attempt(self.deps, attempt_id=attempt_id)  # type: ignore[arg-type]

    def collect_many(self, attempt_ids: Sequence[str], method: str) -> None:
        collection.collect_attempts(self.deps, attempt_ids=attempt_ids)  # type: ignore[arg-type]

    def reconcile(self, attempt_id: str) -> None: ...
    def reconcile_many(self, attempt_ids: Sequence[str]) -> None: ...
    def send_notification(self, notification_id: str) -> None: ...
    def retry_open_balances(self, account_id: str) -> None: ...


def main() -> None:
    import os

    from workers.devtools.pipeline import DEMO_WIRE_ENV

    os.environ.update(DEMO_WIRE_ENV)  # wire instructions need a beneficiary bank
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=500)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    with fresh_postgres_schema(args.postgres) as url, Pipeline(
            database_url=url, redis_url=args.redis, workers=0) as pipeline:
        invoice_ids = pipeline.seed(args.invoices, MIX)
        from dataclasses import replace

        deps = pipeline.runtime.deps
        inline = replace(deps, dispatch=Inline(None))
        inline.dispatch.deps = inline  # type: ignore[attr-defined]
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
