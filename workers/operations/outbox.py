"""The outbox for operators: customer messages not sent yet, and sending them again.

A message the mail server kept refusing is given up after `MAX_ATTEMPTS` tries (the drains
stop offering it); after the cause is fixed (a wrong address, a mail server down for hours),
`resend` makes it new again: its tries start over, its claim is dropped, a drain is asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.records import AuditEntry, Notification
from workers.handlers.deps import Deps
from workers.handlers.notifications import MAX_ATTEMPTS
from workers.operations.errors import BadArgument, NotFoundError, Refused


def _row(notification: Notification) -> dict[str, Any]:
    return {"id": notification.id, "account": notification.account_id,
            "kind": notification.kind, "to": notification.to_address,
            "subject": notification.subject, "queued_at": notification.created_at.isoformat(),
            "tries": notification.attempts,
            "state": "given up" if notification.attempts >= MAX_ATTEMPTS else "waiting"}


def unsent(deps: Deps, *, given_up_only: bool = False, limit: int = 100) -> list[dict[str, Any]]:
    """Messages not sent yet, oldest first: waiting for a drain, or given up."""
    if limit < 1:
        raise BadArgument("--limit must be at least 1")
    with deps.uow_factory() as uow:
        found = uow.outbox.unsent(limit=limit,
                                  min_attempts=MAX_ATTEMPTS if given_up_only else None)
    return [_row(n) for n in found]


def resend(deps: Deps, *, notification_ids: Sequence[str], reason: str,
           actor: str) -> list[str]:
    """Make unsent messages new again and ask for a drain; audited. Raises NotFoundError for
    an unknown id and Refused for a message already sent (nothing is changed then)."""
    if not notification_ids:
        raise BadArgument("give the ids of the messages to send again")
    if not reason.strip():
        raise BadArgument("--reason must not be empty")
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        for notification_id in notification_ids:
            found = uow.outbox.get(notification_id=notification_id)
            if found is None:
                raise NotFoundError(f"no customer message {notification_id!r}")
            if found.sent_at is not None:
                raise Refused(f"message {notification_id} was sent at "
                              f"{found.sent_at.isoformat()}; it is not sent twice")
        uow.outbox.release(notification_ids=notification_ids)
        for notification_id in notification_ids:
            uow.audit.add(entry=AuditEntry(at=now, actor=actor, action="notification.resend",
                                           target=notification_id, reason=reason))
        uow.commit()
    for notification_id in notification_ids:
        deps.dispatch.send_notification(notification_id)
    return list(notification_ids)
