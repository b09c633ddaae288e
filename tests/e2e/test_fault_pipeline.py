"""Chaos: 2,000 invoices through two worker processes while the providers fail 20% of calls,
one worker is SIGKILLed and Redis loses every message. Nothing may be lost or charged twice.

Run with collect batches of 50 attempts (the default) and of 1 (every message a batch of
one, as a requeue or a sweeper's retry is); the second with 1,000 invoices, to keep CI short.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
from sqlalchemy import text

from tests.e2e.pipeline_support import fresh_postgres_schema
from workers.devtools.pipeline import Faults, Mix, Pipeline

#: Behaviours across every method: paid cards, soft-declined cards, paying direct debits,
#: failing direct debits, wires.
MIX = Mix({"card:pm_card_visa": 8, "card:pm_card_chargeDeclinedInsufficientFunds": 2,
           "direct_debit:pays": 5, "direct_debit:fails_insufficient_funds": 1, "wire": 2})


def attempt_counts(pipeline: Pipeline) -> Counter[str]:
    with pipeline.runtime.deps.uow_factory() as uow:
        rows = uow.session.execute(text(  # type: ignore[attr-defined]
            "SELECT status, count(*) FROM payment_attempts GROUP BY status")).all()
    return Counter({status: count for status, count in rows})


def settled_as_behaviour_says(pipeline: Pipeline) -> bool:
    """Every invoice is paid, awaiting its wire, or failed with its retry scheduled."""
    with pipeline.runtime.deps.uow_factory() as uow:
        unsettled = uow.session.execute(text(  # type: ignore[attr-defined]
            """
            SELECT count(*) FROM invoices i
            WHERE NOT (
              i.status = 'paid'
              OR EXISTS (SELECT 1 FROM payment_attempts a WHERE a.invoice_id = i.id
                         AND a.status IN ('awaiting_transfer', 'scheduled'))
            )
            """)).scalar_one()
    return unsettled == 0


def unsettled(pipeline: Pipeline) -> list[tuple[object, ...]]:
    """The attempts of invoices not settled yet (what a failure shows)."""
    with pipeline.runtime.deps.uow_factory() as uow:
        return list(uow.session.execute(text(  # type: ignore[attr-defined]
            """
            SELECT a.id, a.invoice_id, a.method, a.status, a.reason, a.failure_code,
                   a.updated_at, a.recheck_at FROM payment_attempts a JOIN invoices i
              ON i.id = a.invoice_id
            WHERE i.status <> 'paid' AND NOT EXISTS (
              SELECT 1 FROM payment_attempts b WHERE b.invoice_id = i.id
                AND b.status IN ('awaiting_transfer', 'scheduled'))
            ORDER BY a.invoice_id, a.number LIMIT 20
            """)).all())


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.parametrize(("batch_size", "invoices"), [(50, 2_000), (1, 1_000)],
                         ids=["batches of 50", "batches of 1"])
def test_thousands_of_invoices_survive_faults_a_killed_worker_and_a_flushed_redis(
        postgres_url: str, redis_url: str, batch_size: int, invoices: int) -> None:
    # A Redis database of its own (the worker processes consume every queue in it, and it is
    # flushed): the one TEST_REDIS_URL names, or 12 of the default server.
    own_redis = redis_url if "TEST_REDIS_URL" in os.environ \
        else redis_url.rsplit("/", 1)[0] + "/12"
    with fresh_postgres_schema(postgres_url) as database_url, Pipeline(
            database_url=database_url, redis_url=own_redis, workers=2, threads=8,
            faults=Faults(error_rate=0.1, timeout_rate=0.1, stall_seconds=1.5),
            seconds_per_day=0.05, batch_size=batch_size) as pipeline:
        # Given thousands of finalised invoices across every method, providers failing 20%
        # of calls, collected in batches of `batch_size`
        invoice_ids = pipeline.seed(invoices, MIX)
        assert len(invoice_ids) == invoices
        pipeline.inject_faults()
        pipeline.start_workers()
        pipeline.route(invoice_ids)

        # When a worker is SIGKILLed a third of the way and Redis is flushed at two thirds
        chaos = {"killed": False, "flushed": False}

        def chaos_monkey(_elapsed: float) -> None:
            done = sum(attempt_counts(pipeline)[s] for s in
                       ("succeeded", "awaiting_transfer", "failed", "pending"))
            if not chaos["killed"] and done >= invoices // 3:
                pipeline.kill_worker(0)
                pipeline.start_worker()  # the orchestrator restarts it, as in production
                chaos["killed"] = True
            elif chaos["killed"] and not chaos["flushed"] and done >= 2 * invoices // 3:
                pipeline.flush_redis()
                chaos["flushed"] = True

        finished = pipeline.sweep_until(lambda: settled_as_behaviour_says(pipeline),
                                        timeout=420, every=1.0, on_tick=chaos_monkey)

        # Then every invoice ends as its behaviour says
        assert chaos == {"killed": True, "flushed": True}
        assert finished, (f"unsettled after the time limit: {attempt_counts(pipeline)}; "
                          f"{unsettled(pipeline)}; worker logs in {pipeline.log_dir}")
        stripe = pipeline.stripe_sim.stats()
        gocardless = pipeline.gocardless_sim.stats()
        assert stripe["faults"], "the Stripe simulator injected no faults"
        with pipeline.runtime.deps.uow_factory() as uow:
            session = uow.session  # type: ignore[attr-defined]
            paid = session.execute(text(
                "SELECT id, payment_method FROM invoices WHERE status = 'paid'")).all()
            ledger = session.execute(text("SELECT coalesce(sum(amount_minor), 0) "
                                          "FROM ledger_entries")).scalar_one()
            owed = session.execute(text(
                "SELECT coalesce(sum(total_minor - coalesce(amount_paid_minor, 0) "
                "- coalesce(amount_carried_minor, 0)), 0) "
                "FROM invoices WHERE status = 'open'")).scalar_one()
        # ...the providers saw exactly one successful charge per paid invoice...
        assert stripe["duplicate_invoices"] == []
        for invoice_id, method in paid:
            if method == "card":
                assert stripe["succeeded_by_invoice"].get(invoice_id) == 1, invoice_id
            else:
                assert gocardless["invoices"][invoice_id].get("confirmed") == 1, invoice_id
        assert not [i for i, c in gocardless["invoices"].items() if c.get("confirmed", 0) > 1]
        # ...and the ledger balances: what it sums is exactly what open invoices still ask
        assert ledger == owed
        # ...and an invoice whose method pays is paid, unless a charge provably never reached
        # the provider (killed mid-call, every try failed): then its retry is scheduled.
        with pipeline.runtime.deps.uow_factory() as uow:
            stray = uow.session.execute(text(  # type: ignore[attr-defined]
                """
                SELECT a.failure_code, count(*) FROM invoices i
                JOIN accounts c ON c.id = i.account_id
                JOIN payment_attempts a ON a.invoice_id = i.id AND a.status = 'failed'
                WHERE i.status <> 'paid'
                  AND c.method_details::text SIMILAR TO '%(pm_card_visa|direct_debit:pays)%'

                GROUP BY a.failure_code
                """)).all()
        assert dict(stray).keys() <= {"not_found_at_provider"}, stray
        assert sum(n for _, n in stray) < invoices // 20, stray
