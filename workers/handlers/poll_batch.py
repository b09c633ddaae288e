"""Poll a batch of pending direct debits at the provider and record the answers together.

The sweeper finds the debits pending past the poll interval and sends their ids in batches
(`Dispatcher.reconcile_many`): one message reads them in one query, asks the provider for
each status concurrently (on the provider pool, as collection does), and records every answer
in one transaction. One poll per message held a worker thread per provider call: at 200 ms
of provider latency the polls took more worker time than all the charges. An attempt of
the batch that is not a pending debit any more (settled by a webhook meanwhile) is left
alone; one stuck or unknown is reconciled on its own (`reconcile_attempt`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import nullcontext

from domain.errors import UnknownAttempt
from domain.outcomes import TransientFailure, Unknown
from domain.payments import AttemptStatus, Event, PaymentAttempt
from workers.handlers.collect_batch import BatchSettings, Pace, record_outcomes
from workers.handlers.collection import poll, reconcile_attempt
from workers.handlers.deps import Deps
from workers.handlers.provider_pool import shared_pool

log = logging.getLogger("paycollect.collection")


def reconcile_attempts(deps: Deps, *, attempt_ids: Sequence[str], pace: Pace | None = None,
                       settings: BatchSettings = BatchSettings(),
                       ) -> dict[str, AttemptStatus | None]:
    """Reconcile each of `attempt_ids`: the pending debits polled together, the others one
    by one. Returns the status each recorded answer left (None: nothing changed)."""
    wanted = list(dict.fromkeys(attempt_ids))
    if len(wanted) == 1:
        return {wanted[0]: reconcile_attempt(deps, attempt_id=wanted[0])}
    with deps.uow_factory() as uow:
        found = uow.attempts.get_many(attempt_ids=wanted)
    if not found:
        raise UnknownAttempt(wanted[0])  # nothing of the batch exists: it never will
    for attempt_id in wanted:
        if attempt_id not in found:
            log.warning("unknown attempt in a poll batch; skipped",
                        extra={"attempt_id": attempt_id})
    pending = [found[i] for i in wanted if i in found and _pollable(found[i])]
    statuses: dict[str, AttemptStatus | None] = {}
    for attempt_id in (i for i in wanted if i in found and not _pollable(found[i])):
        statuses[attempt_id] = reconcile_attempt(deps, attempt_id=attempt_id)
    answers = _poll_all(deps, pending, pace=pace, settings=settings)
    statuses.update(record_outcomes(deps, answers, answer_unchanged=True))
    return statuses


def _pollable(attempt: PaymentAttempt) -> bool:
    return attempt.status is AttemptStatus.PENDING and attempt.provider_ref is not None


def _poll_all(deps: Deps, pending: list[PaymentAttempt], *, pace: Pace | None,
              settings: BatchSettings) -> list[tuple[str, Event]]:
    paced = pace([attempt.method for attempt in pending]) if pace is not None else None

    def ask(attempt: PaymentAttempt) -> tuple[str, Event] | None:
        try:
            # Polls share the provider's rate limit with the collections.
            with paced(attempt.method) if paced is not None else nullcontext():
                found = poll(deps, attempt)
        except Exception:  # one poll must not lose the batch's answers
            log.exception("status poll raised; asked again later",
                          extra={"attempt_id": attempt.id})
            return None
        if isinstance(found, TransientFailure | Unknown):
            return None  # provider unreachable: the sweeper asks again when it was due to
        return attempt.id, found

    answers = shared_pool(settings.pool_threads).run(ask, pending, window=settings.concurrency)
    return [answer for answer in answers if answer is not None]


__all__ = ["reconcile_attempts"]
