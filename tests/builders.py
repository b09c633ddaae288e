"""Entity builders for tests: valid defaults, override what the test is about.

`an_invoice(...)` and friends take keyword overrides (dataclasses.replace semantics).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from domain.accounts import Account, MethodType, PaymentMethod
from domain.billing import SubscriptionTerms
from domain.clock import at_utc
from domain.invoices import Invoice, InvoiceKind, InvoiceLine, Period, Section
from domain.money import Money
from domain.payments import AttemptStatus, PaymentAttempt
from domain.plans import Interval, Plan
from domain.subscriptions import Subscription

EUR = "EUR"


def eur(minor: int) -> Money:
    return Money(minor, EUR)


def an_account(**overrides: Any) -> Account:
    account = Account(id="acc_1", name="Acme SAS", currency=EUR, language="fr",
                      email="billing@acme.example",
                      payment_method=PaymentMethod(MethodType.CARD, provider_customer="cus_1",
                                                   provider_method="pm_1"))
    return replace(account, **overrides)


def a_plan(**overrides: Any) -> Plan:
    plan = Plan(interval=Interval.MONTHLY, currency=EUR, user_price=eur(3000),
                number_price=eur(500), minimum_users=2, minimum_numbers=1,
                outbound_per_minute=eur(2), toll_free_per_minute=None)
    return replace(plan, **overrides)


def a_subscription(**overrides: Any) -> Subscription:
    terms = SubscriptionTerms(plan=a_plan(), started_on=date(2026, 1, 31), users=3, numbers=1)
    subscription = Subscription.start(id="sub_1", account_id="acc_1", terms=terms)
    return replace(subscription, **overrides)


def some_lines() -> tuple[InvoiceLine, ...]:
    return (
        InvoiceLine(section=Section.RECURRING, description="Users — upcoming month",
                    quantity=3, unit_amount=eur(3000), amount=eur(9000), item="users"),
        InvoiceLine(section=Section.PRORATA, description="Users added on 2026-02-10 (prorata)",
                    quantity=1, unit_amount=eur(3000), amount=eur(1929), item="users",
                    from_on=date(2026, 2, 10), to_on=date(2026, 2, 28)),
        InvoiceLine(section=Section.MINUTES, description="Outbound call minutes",
                    quantity=125, unit_amount=eur(2), amount=eur(250), item="outbound_minutes"),
    )


def an_invoice(**overrides: Any) -> Invoice:
    invoice = Invoice(
        id="inv_1", number="PC-2026-000001", account_id="acc_1", subscription_id="sub_1",
        kind=InvoiceKind.MONTHLY, period=Period(date(2026, 2, 28), date(2026, 3, 31)),
        issued_on=date(2026, 2, 28), due_on=date(2026, 2, 28), currency=EUR,
        payment_method=MethodType.CARD.value, lines=some_lines())
    return replace(invoice, **overrides)


def an_attempt(**overrides: Any) -> PaymentAttempt:
    attempt = PaymentAttempt(
        id="att_1", invoice_id="inv_1", account_id="acc_1", method=MethodType.CARD, number=1,
        amount=eur(11179), status=AttemptStatus.PROCESSING,
        created_at=at_utc(2026, 2, 28, 9), updated_at=at_utc(2026, 2, 28, 9), reason="renewal")
    return replace(attempt, **overrides)
