"""Reactivating a terminated account: an operator's decision, never automatic.

Paying everything owed after termination reinstates the account's standing, but its service
stays ended (workers/handlers/ending.py). An operator starts it again with
`paycollect accounts reactivate ID --reason TEXT`: a NEW subscription, on the same plan, with
a new anchor (today, or `--on`), and the units in use when the old one ended (or those given).
Its first invoice is issued by the next renewal pass, on its anchor day. Audited: who, when,
why, and what was started.

Refused (exit 4) when the account was not terminated (its subscription ended another way, or
it still has one running) or still owes money, unless `--force`; a second live subscription
is refused even then (it would bill the same seats twice).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from domain.billing import SubscriptionTerms
from domain.plans import UnitKind
from domain.ports import UnitOfWork
from domain.records import AuditEntry
from domain.seats import units_at
from domain.subscriptions import Subscription
from workers.handlers.deps import Deps
from workers.handlers.ending import TERMINATED
from workers.operations.errors import BadArgument, NotFoundError, Refused


def reactivate(deps: Deps, *, account_id: str, reason: str, actor: str,
               on: date | None = None, users: int | None = None, numbers: int | None = None,
               force: bool = False) -> dict[str, Any]:
    """Start a new subscription for a terminated account; returns what was started.

    Raises: NotFoundError (unknown account, or it never had a subscription), BadArgument,
    Refused (see the module docstring).
    """
    if not reason.strip():
        raise BadArgument("--reason must not be empty")
    for name, value in (("--users", users), ("--numbers", numbers)):
        if value is not None and value < 0:
            raise BadArgument(f"{name} must be 0 or more")
    with deps.uow_factory() as uow:
        account = uow.accounts.get(account_id=account_id)
        if account is None:
            raise NotFoundError(f"no account {account_id!r}")
        subscriptions = uow.subscriptions.list_for_account(account_id=account_id)
        if not subscriptions:
            raise NotFoundError(f"account {account_id} never had a subscription")
        live = [s.id for s in subscriptions if s.is_live]
        if live:
            raise Refused(f"account {account_id} still has subscription {live[0]} running; "
                          "it is not terminated")
        last = max(subscriptions, key=lambda s: (s.ends_on or s.started_on, s.started_on))
        owed = uow.ledger.balance(account_id=account_id, currency=account.currency)
        if not force:
            if last.end_reason != TERMINATED:
                raise Refused(f"account {account_id} was not terminated (its subscription "
                              f"{last.id} ended: {last.end_reason}); use --force to restart it")
            if owed.is_positive():
                raise Refused(f"account {account_id} still owes {owed.minor} "
                              f"({owed.currency} minor units); use --force to restart anyway")
        assert last.ends_on is not None, "an ended subscription has its end day"
        anchor = on or deps.clock.today()
        if anchor < last.ends_on:
            raise BadArgument(f"--on {anchor} is before the old subscription ended "
                              f"({last.ends_on})")
        terms = SubscriptionTerms(
            plan=last.plan, started_on=anchor,
            users=_units(uow, last, UnitKind.USERS) if users is None else users,
            numbers=_units(uow, last, UnitKind.NUMBERS) if numbers is None else numbers)
        started = Subscription.start(id=f"sub_{uuid.uuid4().hex[:16]}", account_id=account_id,
                                     terms=terms)
        uow.subscriptions.add(subscription=started)
        result = {"account": account_id, "subscription": started.id, "previous": last.id,
                  "started_on": anchor.isoformat(), "users": terms.users,
                  "numbers": terms.numbers, "owed_minor": owed.minor, "forced": force,
                  "standing": account.standing.value}
        uow.audit.add(entry=AuditEntry(at=deps.clock.now(), actor=actor,
                                       action="account.reactivated", target=account_id,
                                       reason=reason, details=dict(result)))
        uow.commit()
    return result


def _units(uow: UnitOfWork, subscription: Subscription, kind: UnitKind) -> int:
    """Units of `kind` in use on the old subscription's last day of service."""
    assert subscription.ends_on is not None
    return units_at(initial=subscription.terms.initial(kind),
                    changes=uow.seat_changes.list_for(subscription_id=subscription.id),
                    kind=kind, day=subscription.ends_on)
