"""Finding what a path names: our id first, else the business's `external_id`.

Our ids (acc_…, sub_…) win when an external id happens to equal one of them.
"""

from __future__ import annotations

from domain.accounts import Account
from domain.invoices import Invoice
from domain.ports import UnitOfWork
from domain.subscriptions import Subscription
from workers.api.errors import NotFound


def find_account(uow: UnitOfWork, ident: str) -> Account:
    account = uow.accounts.get(account_id=ident) or uow.accounts.by_external_id(
        external_id=ident)
    if account is None:
        raise NotFound("account", ident)
    return account


def find_subscription(uow: UnitOfWork, ident: str) -> Subscription:
    subscription = (uow.subscriptions.get(subscription_id=ident)
                    or uow.subscriptions.by_external_id(external_id=ident))
    if subscription is None:
        raise NotFound("subscription", ident)
    return subscription


def find_invoice(uow: UnitOfWork, ident: str) -> Invoice:
    """Invoices have only our id (their number is printed, not an address)."""
    invoice = uow.invoices.get(invoice_id=ident)
    if invoice is None:
        raise NotFound("invoice", ident)
    return invoice
