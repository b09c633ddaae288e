"""The sweeper: the database is the source of truth, the broker only a fast path.

Each pass re-drives whatever the database says is due and has not progressed, so losing every
message in Redis (or a worker killed mid-call) delays work and never loses or doubles it:
- open invoices with something due and no attempt at all → routed;
- SCHEDULED attempts whose time has come → sent to their worker;
- attempts stuck PROCESSING / UNKNOWN past a threshold → reconciled with the provider;
- direct debits PENDING past the poll interval → their status polled at the provider;
- webhook inbox rows parked (due again) or stalled (never processed) → processed here.
Every message it sends is idempotent, so a sweep racing the normal path is harmless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from domain.payments import AttemptStatus
from workers.handlers.collection import send_collect
from workers.handlers.deps import Deps

log = logging.getLogger("paycollect.sweeper")


@dataclass(frozen=True)
class SweepSettings:
    stuck_after: timedelta = timedelta(minutes=5)
    pending_poll_after: timedelta = timedelta(hours=1)
    batch_size: int = 500
    #: Inbox rows never processed this long after receipt lost their message: re-driven.
    webhook_stalled_after: timedelta = timedelta(minutes=2)
    #: How often the sweep runs (the scheduler tick). A retry that fell due within the last
    #: two periods is sent now; the normal path already sent everything else once.
    period: timedelta = timedelta(seconds=60)
    #: A message still unanswered after this is presumed lost (Redis flushed, worker killed)
    #: and sent again. Shorter would flood a busy queue with duplicates (harmless, costly).
    lost_after: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class SweepReport:
    routed: int
    due_retries: int
    reconciled: int
    polled: int
    webhooks: int = 0


def sweep(deps: Deps, *, settings: SweepSettings) -> SweepReport:
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        unrouted = uow.invoices.open_without_attempts(limit=settings.batch_size,
                                                      created_before=now - settings.lost_after,
                                                      asked_by=now)
        newly_due = uow.attempts.due_scheduled(now=now, limit=settings.batch_size,
                                               since=now - 2 * settings.period, asked_by=now)
        lost = uow.attempts.due_scheduled(now=now - settings.lost_after,
                                          limit=settings.batch_size, asked_by=now)
        # An attempt created to run at once was sent when it was created; only one scheduled
        # for later (a retry) needs the sweep to send it when its time comes.
        retries = [a for a in newly_due
                   if a.scheduled_for is not None and a.scheduled_for > a.created_at]
        due = list({attempt.id: attempt for attempt in (*retries, *lost)}.values())
        stuck = uow.attempts.stuck(statuses=(AttemptStatus.PROCESSING, AttemptStatus.UNKNOWN),
                                   older_than=now - settings.stuck_after,
                                   limit=settings.batch_size, now=now)
        pending = uow.attempts.stuck(statuses=(AttemptStatus.PENDING,),
                                     older_than=now - settings.pending_poll_after,
                                     limit=settings.batch_size, now=now)
        # Sent once, however long the message waits in a busy queue: sent again only if it
        # is presumed lost, or (a poll) a threshold after an answer that changed nothing.
        # Without this every pass re-sent all of them (a debit is pending for days).
        uow.attempts.ask_again_at(attempt_ids=[a.id for a in (*due, *stuck, *pending)],
                                  at=now + settings.lost_after)
        # Likewise an invoice routed again (one whose routing collects nothing, e.g. its
        # method is unusable, stays without an attempt: asked once per lost_after, not on
        # every pass).
        uow.invoices.ask_route_again_at(invoice_ids=unrouted, at=now + settings.lost_after)
        uow.commit()
    if unrouted:
        deps.dispatch.route_many(unrouted)
    send_collect(deps, due)  # in batches per method, like routing
    for attempt in stuck:
        deps.dispatch.reconcile(attempt.id)
    if pending:
        deps.dispatch.reconcile_many([attempt.id for attempt in pending])
    report = SweepReport(routed=len(unrouted), due_retries=len(due), reconciled=len(stuck),
                         polled=len(pending), webhooks=redrive_webhooks(deps, settings=settings))
    if any((report.routed, report.due_retries, report.reconciled, report.polled,
            report.webhooks)):
        log.info("sweep: %s", report)
    return report


def redrive_webhooks(deps: Deps, *, settings: SweepSettings) -> int:
    """Process parked inbox rows that are due again, and rows whose message was lost."""
    from workers.handlers.webhooks import redrive  # webhooks imports the collection handlers

    now = deps.clock.now()
    return redrive(deps, now=now, received_before=now - settings.webhook_stalled_after,
                   limit=settings.batch_size)
