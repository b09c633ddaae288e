"""New customers and their plans, as the business's own systems send them (the /v1 API).

Accounts start paying by wire (bank-transfer instructions on each invoice) until a card or a
mandate is set up: domain.accounts has no "no method" state, and a wire invoice is one the
customer can always pay. Only active accounts may start a subscription (an overdue one is
restricted, as for adding units). The currency is fixed once the account has been invoiced
or has a subscription priced in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from domain.accounts import Account, Standing
from domain.errors import UnknownAccount
from domain.ports import UnitOfWork
from domain.records import AuditEntry
from domain.subscriptions import Subscription
from workers.handlers.deps import Deps


class CurrencyLocked(Exception):
    """The account's currency can no longer change (it has been invoiced, or is priced in)."""


class AccountNotActive(PermissionError):
    def __init__(self, account: Account) -> None:
        super().__init__(f"account {account.id} is {account.standing.value}: it cannot start "
                         "a subscription until the overdue balance is paid")
        self.account = account


def open_account(deps: Deps, *, account: Account, actor: str = "api") -> None:
    """Store a new account. Raises DuplicateExternalId."""
    with deps.uow_factory() as uow:
        uow.accounts.add(account=account)
        uow.audit.add(entry=AuditEntry(at=deps.clock.now(), actor=actor,
                                       action="account.created", target=account.id,
                                       details={"external_id": account.external_id}))
        uow.commit()


def update_account(deps: Deps, *, account_id: str, change: Callable[[Account], Account],
                   actor: str = "api") -> Account:
    """Apply `change` to the stored account. Raises UnknownAccount, CurrencyLocked,
    DuplicateExternalId."""
    with deps.uow_factory() as uow:
        account = uow.accounts.get(account_id=account_id)
        if account is None:
            raise UnknownAccount(account_id)
        updated = replace(change(account), id=account.id, standing=account.standing,
                          payment_method=account.payment_method)
        if updated.currency != account.currency:
            _check_currency_may_change(uow, account)
        uow.accounts.update_profile(account=updated)
        uow.audit.add(entry=AuditEntry(at=deps.clock.now(), actor=actor,
                                       action="account.updated", target=account.id))
        uow.commit()
    return updated


def start_subscription(deps: Deps, *, subscription: Subscription, actor: str = "api",
                       also: Callable[[UnitOfWork], None] | None = None) -> None:
    """Store a new subscription; `also` writes more of it in the same transaction (e.g. a
    rate card). Raises UnknownAccount, AccountNotActive, DuplicateExternalId."""
    with deps.uow_factory() as uow:
        account = uow.accounts.get(account_id=subscription.account_id)
        if account is None:
            raise UnknownAccount(subscription.account_id)
        if account.standing is not Standing.ACTIVE:
            raise AccountNotActive(account)
        if subscription.plan.currency != account.currency:
            raise ValueError(f"a {account.currency} account cannot take a plan in "
                             f"{subscription.plan.currency}")
        uow.subscriptions.add(subscription=subscription)
        if also is not None:
            also(uow)
        uow.audit.add(entry=AuditEntry(at=deps.clock.now(), actor=actor,
                                       action="subscription.started", target=subscription.id,
                                       details={"account": account.id,
                                                "started_on": subscription.started_on
                                                .isoformat()}))
        uow.commit()


def _check_currency_may_change(uow: UnitOfWork, account: Account) -> None:
    if uow.invoices.list(account_id=account.id, limit=1):
        raise CurrencyLocked(f"account {account.id} has been invoiced in {account.currency}: "
                             "its currency cannot change")
    if uow.subscriptions.list_for_account(account_id=account.id):
        raise CurrencyLocked(f"account {account.id} has a subscription priced in "
                             f"{account.currency}: its currency cannot change")
