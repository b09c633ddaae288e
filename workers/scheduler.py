"""The scheduler: one tick every SCHEDULER_TICK_SECONDS (`paycollect scheduler`).

A tick issues every due renewal (in batches, routing each batch's invoices at once), re-drives
due work (the sweeper: due retries, lost messages, stuck attempts), relays outbox messages whose
send was lost, and advances dunning. Every step is idempotent and reads its work from the
database, so a tick that dies half-way is simply finished by the next one.

Several replicas are safe. A Redis lock (SET NX PX) lets one replica tick at a time, which
saves work; correctness never depends on it: a subscription's renewal is claimed with a lease
(`claim_renewal`) and an invoice is unique per (subscription, kind, period start) in the
database, so two schedulers racing still issue each invoice once. A scheduler that was down
catches up: invoices are dated on their anchor day, not on the day the tick ran.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from domain.dunning import DunningPolicy
from workers.handlers.cancellation import end_due_subscriptions
from workers.handlers.deps import Deps
from workers.handlers.dunning import DunningReport, advance_dunning
from workers.handlers.notifications import MAX_ATTEMPTS
from workers.handlers.renewals import RenewalSettings, renew_subscription
from workers.handlers.sweeper import SweepReport, SweepSettings, sweep
from workers.scheduler_lock import TickLock

log = logging.getLogger("paycollect.scheduler")


@dataclass(frozen=True)
class SchedulerSettings:
    tick_seconds: float = 60.0
    #: Subscriptions read per due query: memory stays bounded however many are due.
    batch_size: int = 200
    dunning: DunningPolicy = field(default_factory=DunningPolicy)
    sweep: SweepSettings = field(default_factory=SweepSettings)
    #: Outbox messages unsent for longer than this had their message lost: send them again.
    outbox_relay_after: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class TickReport:
    issued: int
    sweep: SweepReport
    relayed: int
    dunning: DunningReport
    #: Whether outgoing events were due (a delivery drain was asked for).
    events_due: bool = False


def renew_due(deps: Deps, *, as_of: date, batch_size: int = 200) -> int:
    """Issue every renewal due on or before `as_of`; route each batch's invoices as it goes.

    The due query reads the `next_renewal_on` index and returns only due rows, earliest
    first; a renewed subscription leaves the due set, so each query sees the next batch.
    Subscriptions another scheduler holds (their lease) stay due: they are skipped for the
    rest of this pass, and the loop ends when a query finds nothing new.
    """
    settings = RenewalSettings(wire_due_days=deps.wire_due_days)
    issued = 0
    skipped: set[str] = set()
    previous: set[str] = set()
    while True:
        with deps.uow_factory() as uow:
            due = uow.subscriptions.due(as_of=as_of, limit=batch_size + len(skipped))
        # Seen in the previous batch and still due: leased by another scheduler (or failing).
        skipped.update(s.id for s in due if s.id in previous)
        batch = [s.id for s in due if s.id not in skipped]
        if not batch:
            return issued
        for subscription_id in batch:
            try:
                invoice_ids = renew_subscription(uow_factory=deps.uow_factory,
                                                 subscription_id=subscription_id, as_of=as_of,
                                                 clock=deps.clock, settings=settings)
            except Exception:
                # One broken subscription must not stop everybody else's renewal.
                log.exception("renewal failed", extra={"subscription_id": subscription_id})
                skipped.add(subscription_id)
                continue
            for invoice_id in invoice_ids:
                deps.dispatch.route_invoice(invoice_id)
            issued += len(invoice_ids)
        previous = set(batch)


def relay_outbox(deps: Deps, *, older_than: timedelta, limit: int = 500) -> int:
    """Ask for a drain of the outbox messages still unsent after `older_than` (their drain
    was lost, or their sending failed and its claim has run out)."""
    cutoff = deps.clock.now() - older_than
    with deps.uow_factory() as uow:
        stale = [n.id for n in uow.outbox.unsent(limit=limit, max_attempts=MAX_ATTEMPTS)
                 if n.created_at <= cutoff]
    for notification_id in stale:
        deps.dispatch.send_notification(notification_id)
    return len(stale)


def relay_events(deps: Deps) -> bool:
    """Ask for a delivery drain when an outgoing event is due (a retry whose time has come,
    or a drain lost with its message): the database, not the broker, says what is due."""
    if deps.ask_for_event_delivery is None:
        return False
    with deps.uow_factory() as uow:
        due = uow.events.has_due(now=deps.clock.now())
    if due:
        deps.ask_for_event_delivery()
    return due


def tick(deps: Deps, *, settings: SchedulerSettings, as_of: date | None = None) -> TickReport:
    """One pass: endings, renewals, sweep, outbox relay, dunning, outgoing events (in that
    order: a subscription ending today gets its final invoice instead of a renewal; today's
    invoices are routed before the sweep looks for unrouted ones)."""
    today = as_of or deps.clock.today()
    end_due_subscriptions(deps, as_of=today, batch_size=settings.batch_size)
    issued = renew_due(deps, as_of=today, batch_size=settings.batch_size)
    swept = sweep(deps, settings=settings.sweep)
    relayed = relay_outbox(deps, older_than=settings.outbox_relay_after)
    dunning = advance_dunning(deps, today=today, policy=settings.dunning)
    events_due = relay_events(deps)
    report = TickReport(issued=issued, sweep=swept, relayed=relayed, dunning=dunning,
                        events_due=events_due)
    log.info("tick %s: %s", today, report)
    return report


def run(deps: Deps, *, settings: SchedulerSettings, stop: threading.Event,
        lock: TickLock | None = None) -> int:
    """Tick until `stop` is set; returns the number of ticks run by this replica.

    With `lock`, a tick runs only when this replica holds it; the others wait for the next
    interval. A failing tick is logged and retried on the next one.
    """
    ticks = 0
    while not stop.is_set():
        started = time.monotonic()
        try:
            if lock is None or lock.acquire():
                try:
                    tick(deps, settings=settings)
                    ticks += 1
                finally:
                    if lock is not None:
                        lock.release()
        except Exception:
            log.exception("scheduler tick failed; next tick in %.0f s", settings.tick_seconds)
        stop.wait(max(0.0, settings.tick_seconds - (time.monotonic() - started)))
    return ticks
