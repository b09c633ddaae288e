"""Changes to what a subscription holds: units added or removed (prorated at the next renewal).

An account in the overdue sequence is restricted: it keeps what it has but cannot add units
until it has paid (design §1). Removing units is always allowed.
"""

from __future__ import annotations

from datetime import date

from domain.accounts import Standing
from domain.errors import UnknownAccount, UnknownSubscription
from domain.plans import UnitKind
from domain.records import AuditEntry
from domain.seats import SeatChange
from workers.handlers.deps import Deps


class SubscriptionHasEnded(PermissionError):
    """Units cannot change on a subscription that has ended (a new one must be started)."""

    def __init__(self, subscription_id: str) -> None:
        super().__init__(f"subscription {subscription_id} has ended: its units cannot change")
        self.subscription_id = subscription_id


class UnitsRefused(PermissionError):
    """The account's standing does not allow adding units (the message says why)."""

    def __init__(self, *, account_id: str, standing: Standing) -> None:
        super().__init__(f"account {account_id} is {standing.value}: units cannot be added "
                         "until the overdue balance is paid")
        self.account_id = account_id
        self.standing = standing


def add_units(deps: Deps, *, subscription_id: str, kind: UnitKind, quantity: int, on: date,
              actor: str = "customer") -> None:
    """Add `quantity` units from `on`. Raises UnitsRefused unless the account is active."""
    _change(deps, subscription_id=subscription_id, kind=kind, delta=quantity, on=on,
            actor=actor)


def remove_units(deps: Deps, *, subscription_id: str, kind: UnitKind, quantity: int, on: date,
                 actor: str = "customer") -> None:
    """Remove `quantity` units from `on` (they stay billed to the end of the period)."""
    _change(deps, subscription_id=subscription_id, kind=kind, delta=-quantity, on=on,
            actor=actor)


def _change(deps: Deps, *, subscription_id: str, kind: UnitKind, delta: int, on: date,
            actor: str) -> None:
    if delta == 0:
        raise ValueError("a unit change needs a non-zero quantity")
    with deps.uow_factory() as uow:
        subscription = uow.subscriptions.get(subscription_id=subscription_id)
        if subscription is None:
            raise UnknownSubscription(subscription_id)
        if not subscription.is_live:
            raise SubscriptionHasEnded(subscription_id)
        account = uow.accounts.get(account_id=subscription.account_id)
        if account is None:
            raise UnknownAccount(subscription.account_id)
        if delta > 0 and account.standing is not Standing.ACTIVE:
            refused = UnitsRefused(account_id=account.id, standing=account.standing)
            uow.audit.add(entry=AuditEntry(at=deps.clock.now(), actor=actor,
                                           action="units.refused", target=subscription_id,
                                           reason=str(refused),
                                           details={"kind": kind.value, "quantity": delta,
                                                    "on": on.isoformat(),
                                                    "standing": account.standing.value}))
            uow.commit()
            raise refused
        uow.seat_changes.add(subscription_id=subscription_id,
                             change=SeatChange(kind=kind, delta=delta, on=on))
        uow.audit.add(entry=AuditEntry(at=deps.clock.now(), actor=actor,
                                       action="units.added" if delta > 0 else "units.removed",
                                       target=subscription_id,
                                       details={"kind": kind.value, "quantity": abs(delta),
                                                "on": on.isoformat()}))
        uow.commit()
