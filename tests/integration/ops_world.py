"""A small billing world on a real SQLite file, for the operators' console tests.

- acc_soft (card, en): invoice PC-2026-000001 open, attempt att_soft FAILED soft
  (insufficient_funds) with a retry scheduled on 03-03.
- acc_hard (card, fr): invoice PC-2026-000002 open, attempt att_hard FAILED hard (lost_card).
- acc_wire (wire): invoice PC-2026-000003 open, awaiting a transfer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from adapters.db.migrate import upgrade
from domain.accounts import Account, MethodType, PaymentMethod
from domain.clock import ManualClock, at_utc
from domain.outcomes import DeclineKind
from domain.payments import AttemptStatus
from tests.builders import an_account, an_attempt
from tests.handlers.doubles import RecordingDispatcher
from tests.handlers.world import card_account, subscribe, wire_account
from workers.cli_support import OpsContext
from workers.config import Settings
from workers.console_deps import ConsoleDeps, build_console_deps
from workers.handlers.deps import Deps
from workers.scheduler import renew_due

START = date(2026, 3, 1)


@dataclass
class OpsWorld:
    url: str
    console: ConsoleDeps
    dispatch: RecordingDispatcher
    clock: ManualClock
    invoice_ids: dict[str, str]

    @property
    def deps(self) -> Deps:
        return self.console.deps

    def context(self) -> OpsContext:
        return OpsContext(deps=self.deps, settings=Settings(database_url=self.url))


def build_world(url: str) -> OpsWorld:
    upgrade(url)
    clock = ManualClock(at_utc(2026, 3, 1, 9))
    dispatch = RecordingDispatcher()
    console = build_console_deps(Settings(database_url=url), clock=clock, dispatch=dispatch)
    deps = console.deps
    accounts: list[Account] = [card_account("acc_soft", language="en"),
                               card_account("acc_hard"), wire_account("acc_wire")]
    for account in accounts:
        subscribe(deps.uow_factory, account=account, started_on=START)
    renew_due(deps, as_of=START)
    with deps.uow_factory() as uow:
        ids = {inv.account_id: inv.id for inv in uow.invoices.list()}
        soft = uow.invoices.get(invoice_id=ids["acc_soft"])
        assert soft is not None
        failed_at = at_utc(2026, 3, 1, 9)
        uow.attempts.add(attempt=an_attempt(
            id="att_soft", invoice_id=ids["acc_soft"], account_id="acc_soft",
            amount=soft.amount_due, status=AttemptStatus.FAILED, failure_code="insufficient_funds",
            failure_class=DeclineKind.SOFT, created_at=failed_at, updated_at=failed_at))
        uow.attempts.add(attempt=an_attempt(
            id="att_soft_retry", invoice_id=ids["acc_soft"], account_id="acc_soft", number=2,
            amount=soft.amount_due, status=AttemptStatus.SCHEDULED, created_at=failed_at,
            updated_at=failed_at, scheduled_for=failed_at + timedelta(days=2)))
        uow.attempts.add(attempt=an_attempt(
            id="att_hard", invoice_id=ids["acc_hard"], account_id="acc_hard",
            amount=soft.amount_due, status=AttemptStatus.FAILED, failure_code="lost_card",
            failure_class=DeclineKind.HARD, created_at=failed_at, updated_at=failed_at))
        uow.accounts.update_payment_method(account_id="acc_hard", method=PaymentMethod(
            MethodType.CARD, provider_customer="cus_hard", provider_method="pm_lost",
            usable=False))
        uow.commit()
    dispatch.take()
    return OpsWorld(url=url, console=console, dispatch=dispatch, clock=clock, invoice_ids=ids)


__all__ = ["OpsWorld", "an_account", "build_world"]
