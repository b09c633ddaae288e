"""Setting up and reading back the billing world for the handler tests, through the ports.

Accounts subscribe to `a_plan()` (tests/builders.py) with 3 users and 1 number, so every
monthly invoice charges 3 x 30.00 + 1 x 5.00 = 95.00 EUR (`MONTHLY`).
"""

from __future__ import annotations

from datetime import date

from domain.accounts import Account, MethodType, PaymentMethod
from domain.billing import SubscriptionTerms
from domain.clock import Clock
from domain.invoices import Invoice, InvoiceStatus
from domain.ledger import LedgerEntry
from domain.money import Money, sum_money
from domain.payments import PaymentAttempt
from domain.ports import UnitOfWorkFactory
from domain.subscriptions import Subscription
from tests.builders import a_plan, an_account, eur
from workers.handlers.renewals import RenewalSettings, run_due_renewals

#: 3 users x 30.00 + 1 number x 5.00 (minimums 2 users, 1 number: all three users billed).
MONTHLY = eur(3 * 3000 + 1 * 500)
assert eur(9500) == MONTHLY


def card_account(account_id: str = "acc_card", **overrides: object) -> Account:
    card = PaymentMethod(MethodType.CARD, provider_customer=f"cus_{account_id}",
                         provider_method="pm_card_visa")
    return an_account(**{"id": account_id, "payment_method": card, **overrides})


def debit_account(account_id: str = "acc_debit") -> Account:
    return an_account(id=account_id, payment_method=PaymentMethod(
        MethodType.DIRECT_DEBIT, provider_customer=f"CU_{account_id}",
        provider_method=f"MD_{account_id}", scheme="sepa_core"))


def wire_account(account_id: str = "acc_wire") -> Account:
    return an_account(id=account_id, payment_method=PaymentMethod(MethodType.WIRE))


def subscribe(uow_factory: UnitOfWorkFactory, *, account: Account, started_on: date) -> str:
    """Store the account and a monthly subscription starting (and first billed) on
    `started_on`; returns the subscription id."""
    subscription = Subscription.start(
        id=f"sub_{account.id}", account_id=account.id,
        terms=SubscriptionTerms(plan=a_plan(), started_on=started_on, users=3, numbers=1))
    with uow_factory() as uow:
        if uow.accounts.get(account_id=account.id) is None:
            uow.accounts.add(account=account)
        uow.subscriptions.add(subscription=subscription)
        uow.commit()
    return subscription.id


def renew(uow_factory: UnitOfWorkFactory, clock: Clock, *, as_of: date | None = None) -> list[str]:
    """Run the renewals due by `as_of` (default: today); the ids of the invoices issued."""
    return run_due_renewals(uow_factory=uow_factory, as_of=as_of or clock.today(), clock=clock,
                            settings=RenewalSettings())


def invoice(uow_factory: UnitOfWorkFactory, invoice_id: str) -> Invoice:
    with uow_factory() as uow:
        found = uow.invoices.get(invoice_id=invoice_id)
    assert found is not None, invoice_id
    return found


def invoices_of(uow_factory: UnitOfWorkFactory, account_id: str) -> list[Invoice]:
    with uow_factory() as uow:
        return uow.invoices.list(account_id=account_id)


def attempts_of(uow_factory: UnitOfWorkFactory, invoice_id: str) -> list[PaymentAttempt]:
    with uow_factory() as uow:
        return uow.attempts.list_for_invoice(invoice_id=invoice_id)


def attempt(uow_factory: UnitOfWorkFactory, attempt_id: str) -> PaymentAttempt:
    with uow_factory() as uow:
        found = uow.attempts.get(attempt_id=attempt_id)
    assert found is not None, attempt_id
    return found


def ledger_of(uow_factory: UnitOfWorkFactory, account_id: str) -> list[LedgerEntry]:
    with uow_factory() as uow:
        return uow.ledger.list_for_account(account_id=account_id)


def balance(uow_factory: UnitOfWorkFactory, account_id: str) -> Money:
    with uow_factory() as uow:
        return uow.ledger.balance(account_id=account_id, currency="EUR")


def account(uow_factory: UnitOfWorkFactory, account_id: str) -> Account:
    with uow_factory() as uow:
        found = uow.accounts.get(account_id=account_id)
    assert found is not None, account_id
    return found


def outbox_kinds(uow_factory: UnitOfWorkFactory, account_id: str) -> list[str]:
    with uow_factory() as uow:
        return [n.kind for n in uow.outbox.list_all() if n.account_id == account_id]


def assert_ledger_balances(uow_factory: UnitOfWorkFactory, account_id: str) -> Money:
    """The invariant: the ledger's sum is what the open invoices still ask for, and a closed
    invoice (paid, carried forward) asks for nothing. Returns the amount owed."""
    invoices = invoices_of(uow_factory, account_id)
    owed = sum_money([inv.amount_due for inv in invoices if inv.status is InvoiceStatus.OPEN],
                     "EUR")
    closed = {inv.number: inv.amount_due for inv in invoices
              if inv.status is not InvoiceStatus.OPEN and not inv.amount_due.is_zero()}
    assert closed == {}, f"closed invoices still owing: {closed}"
    assert balance(uow_factory, account_id) == owed
    return owed
