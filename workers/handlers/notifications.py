"""Send the queued customer messages from the outbox, each once, in batches.

A drain claims a batch (a lease on the rows, so a second drain running meanwhile takes other
messages), sends it, and marks what was sent in one statement; then the next batch, until the
outbox is empty. One drain carries many messages: a receipt no longer costs a broker message
and two transactions of its own. The message id sent to the mail system comes from the
notification's dedupe key, so a crash between sending and marking produces a resend the mail
system recognises as the same message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from domain.ports_notify import NotificationError, Notifier
from workers.handlers.deps import Deps

log = logging.getLogger("paycollect.notifications")

#: Messages claimed and sent per transaction pair.
BATCH_SIZE = 100
#: How long a drain holds a batch: a drain that died mid-batch leaves it to the next one after
#: this; a message whose sending failed waits as long before it is tried again.
CLAIM_LEASE = timedelta(minutes=5)
#: A drain starts no send after this much of its lease: a slow mail server (30 s timeouts)
#: can never make a message outlive its claim and be sent by the next drain too.
SEND_WITHIN = CLAIM_LEASE / 2
#: A message tried this often is left for an operator (`paycollect` outbox reports).
MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class DrainReport:
    sent: int
    #: Messages may remain: the drain stopped after `max_batches` (ask for another drain).
    more: bool


def send_pending(deps: Deps, *, notifier: Notifier, batch_size: int = BATCH_SIZE,
                 max_batches: int = 10) -> DrainReport:
    """Send the unsent, unclaimed outbox messages, oldest first, up to `max_batches` batches.

    The first message the notifier refuses ends the drain (the mail server is probably down):
    it counts as a failed try, and it and the rest of its batch stay claimed until the lease
    ends, when the next drain (the scheduler's outbox relay asks for one) tries them again.
    """
    sent_total = 0
    for _ in range(max_batches):
        now = deps.clock.now()
        with deps.uow_factory() as uow:
            batch = uow.outbox.claim_unsent(now=now, until=now + CLAIM_LEASE, limit=batch_size,
                                            max_attempts=MAX_ATTEMPTS)
            uow.commit()
        sent: list[str] = []
        failed: str | None = None
        out_of_time = False
        for notification in batch:
            if deps.clock.now() >= now + SEND_WITHIN:
                out_of_time = True  # the rest waits for its lease to end, then a new drain
                break
            try:
                notifier.send(to=notification.to_address, subject=notification.subject,
                              text=notification.body_text, html=notification.body_html,
                              idempotency_key=notification.dedupe_key)
            except NotificationError as error:
                log.warning("notification not sent, the drain stops: %s", error,
                            extra={"notification_id": notification.id})
                failed = notification.id
                break
            sent.append(notification.id)
        if sent or failed:
            with deps.uow_factory() as uow:
                uow.outbox.mark_sent_many(notification_ids=sent, at=deps.clock.now())
                if failed is not None:
                    uow.outbox.record_failure(notification_id=failed)
                uow.commit()
        sent_total += len(sent)
        if out_of_time:
            return DrainReport(sent=sent_total, more=True)
        if failed is not None or len(batch) < batch_size:
            return DrainReport(sent=sent_total, more=False)
    return DrainReport(sent=sent_total, more=True)
