"""Send queued customer messages from the outbox, each exactly once."""

from __future__ import annotations

import logging

from domain.ports_notify import NotificationError, Notifier
from workers.handlers.deps import Deps

log = logging.getLogger("paycollect.notifications")


def send_notification(deps: Deps, *, notifier: Notifier, notification_id: str) -> bool:
    """Send one outbox message unless already sent. Returns whether it was sent now.

    The message id comes from the notification's dedupe key, so a crash between sending and
    marking it sent produces a resend the mail system recognises as the same message.
    """
    with deps.uow_factory() as uow:
        notification = uow.outbox.get(notification_id=notification_id)
    if notification is None or notification.sent_at is not None:
        return False
    try:
        notifier.send(to=notification.to_address, subject=notification.subject,
                      text=notification.body_text, html=notification.body_html,
                      idempotency_key=notification.dedupe_key)
    except NotificationError:
        with deps.uow_factory() as uow:
            uow.outbox.record_failure(notification_id=notification_id)
            uow.commit()
        raise
    with deps.uow_factory() as uow:
        uow.outbox.mark_sent(notification_id=notification_id, at=deps.clock.now())
        uow.commit()
    return True
