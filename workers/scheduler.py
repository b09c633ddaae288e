"""The scheduler: one tick every SCHEDULER_TICK_SECONDS (`paycollect scheduler`).

A tick issues every due renewal (in batches of RENEWAL_BATCH_SIZE, one transaction each,
routing each batch's invoices as it goes), re-drives
due work (the sweeper: due retries, lost messages, stuck attempts), relays outbox messages whose
send was lost, advances dunning, and forgets the API's expired idempotency keys. Every step
is idempotent and reads its work from the database, so a tick that dies half-way is simply
finished by the next one.

Several replicas are safe. A Redis lock (SET NX PX) lets one replica tick at a time, which
saves work; correctness never depends on it: a subscription's renewal is claimed with a lease
and a row lock (`claim_due`; `claim_renewal` alone) and an invoice is unique per
(subscription, kind, period start) in the database, so two schedulers racing still issue
each invoice once. A scheduler that was down catches up: invoices are dated on their anchor
day, not on the day the tick ran.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from domain.dunning import DunningPolicy
from workers.handlers.cancellation import end_due_subscriptions
from workers.handlers.deps import Deps
from workers.handlers.dunning import DunningReport, advance_dunning
from workers.handlers.notifications import MAX_ATTEMPTS
from workers.handlers.renewal_batches import DEFAULT_BATCH_SIZE, renew_batch
from workers.handlers.renewals import RenewalSettings
from workers.handlers.sweeper import SweepReport, SweepSettings, sweep
from workers.scheduler_lock import TickLock

log = logging.getLogger("paycollect.scheduler")


@dataclass(frozen=True)
class SchedulerSettings:
    tick_seconds: float = 60.0
    #: Subscriptions per renewal batch (RENEWAL_BATCH_SIZE): one transaction each.
    batch_size: int = DEFAULT_BATCH_SIZE
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
    #: Expired /v1 idempotency keys deleted.
    forgotten_keys: int = 0


def renew_due(deps: Deps, *, as_of: date, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Issue every renewal due on or before `as_of`, in batches; route each batch's invoices
    as it goes. Returns the number of invoices issued.

    Each batch claims its own subscriptions (`renew_batch`): several schedulers or renewal
    workers share a burst. A subscription whose renewal fails is logged and left due (the
    next tick tries it again); it is skipped for the rest of this pass.
    """
    settings = RenewalSettings(wire_due_days=deps.wire_due_days)
    issued = 0
    failed: set[str] = set()
    last: tuple[date, str] | None = None
    while True:
        result = renew_batch(uow_factory=deps.uow_factory, as_of=as_of, clock=deps.clock,
                             settings=settings, limit=batch_size, exclude=failed, after=last)
        if not result.claimed:
            return issued
        route_issued(deps, invoice_ids=result.issued)
        issued += len(result.issued)
        failed.update(result.failed)
        last = result.last


def route_issued(deps: Deps, *, invoice_ids: Sequence[str]) -> None:
    """Send a batch's new invoices to collection (the one place renewals route from): one
    routing message per COLLECT_BATCH_SIZE invoices."""
    if invoice_ids:
        deps.dispatch.route_many(list(invoice_ids))


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
    forgotten = (deps.forget_expired_api_keys(deps.clock.now())
                 if deps.forget_expired_api_keys is not None else 0)
    report = TickReport(issued=issued, sweep=swept, relayed=relayed, dunning=dunning,
                        events_due=events_due, forgotten_keys=forgotten)
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
