"""New accounts and subscriptions (workers/handlers/onboarding.py), on SQLite and PostgreSQL:
external ids are unique, an overdue account cannot subscribe, the currency is fixed once used."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.accounts import BillingAddress, Standing
from domain.errors import DuplicateExternalId, UnknownAccount
from tests.builders import a_subscription, an_account
from tests.handlers.doubles import Doubles
from tests.handlers.world import account
from workers.handlers import onboarding

ADDRESS = BillingAddress(line1="10 rue de la Paix", city="Paris", postal_code="75002",
                         country="FR")


def test_an_account_is_stored_with_its_external_id_and_address(doubles: Doubles) -> None:
    deps = doubles.deps
    onboarding.open_account(deps, account=an_account(external_id="crm-1",
                                                     billing_address=ADDRESS))
    with deps.uow_factory() as uow:
        found = uow.accounts.by_external_id(external_id="crm-1")
        audit = uow.audit.list(target="acc_1")
    assert found is not None
    assert (found.id, found.billing_address) == ("acc_1", ADDRESS)
    assert [entry.action for entry in audit] == ["account.created"]


def test_the_database_refuses_a_second_account_with_the_same_external_id(
        doubles: Doubles) -> None:
    deps = doubles.deps
    onboarding.open_account(deps, account=an_account(external_id="crm-1"))
    with pytest.raises(DuplicateExternalId, match="crm-1"):
        onboarding.open_account(deps, account=an_account(id="acc_2", external_id="crm-1"))
    # Accounts without an external id never clash with each other
    onboarding.open_account(deps, account=an_account(id="acc_3"))
    onboarding.open_account(deps, account=an_account(id="acc_4"))
    with pytest.raises(DuplicateExternalId):
        onboarding.update_account(deps, account_id="acc_3",
                                  change=lambda a: replace(a, external_id="crm-1"))


def test_an_update_keeps_the_standing_and_payment_method(doubles: Doubles) -> None:
    deps = doubles.deps
    stored = an_account()
    onboarding.open_account(deps, account=stored)
    onboarding.update_account(deps, account_id="acc_1", change=lambda a: replace(
        a, name="Acme SA", standing=Standing.TERMINATED, payment_method=None))
    updated = account(deps.uow_factory, "acc_1")
    assert (updated.name, updated.standing, updated.payment_method) == (
        "Acme SA", Standing.ACTIVE, stored.payment_method)
    with pytest.raises(UnknownAccount):
        onboarding.update_account(deps, account_id="acc_nope", change=lambda a: a)


def test_the_currency_is_fixed_once_a_subscription_is_priced_in_it(doubles: Doubles) -> None:
    deps = doubles.deps
    onboarding.open_account(deps, account=an_account())
    onboarding.update_account(deps, account_id="acc_1",
                              change=lambda a: replace(a, currency="GBP"))
    onboarding.update_account(deps, account_id="acc_1",
                              change=lambda a: replace(a, currency="EUR"))
    onboarding.start_subscription(deps, subscription=a_subscription())
    with pytest.raises(onboarding.CurrencyLocked, match="subscription"):
        onboarding.update_account(deps, account_id="acc_1",
                                  change=lambda a: replace(a, currency="GBP"))
    assert account(deps.uow_factory, "acc_1").currency == "EUR"


def test_an_overdue_account_cannot_start_a_subscription(doubles: Doubles) -> None:
    deps = doubles.deps
    onboarding.open_account(deps, account=an_account(standing=Standing.RESTRICTED))
    with pytest.raises(onboarding.AccountNotActive, match="restricted"):
        onboarding.start_subscription(deps, subscription=a_subscription())
    with deps.uow_factory() as uow:
        assert uow.subscriptions.list_for_account(account_id="acc_1") == []


def test_a_subscription_is_stored_with_what_it_brings_in_one_transaction(
        doubles: Doubles) -> None:
    deps = doubles.deps
    onboarding.open_account(deps, account=an_account())
    onboarding.start_subscription(deps, subscription=a_subscription(external_id="c-9"))

    def fails(uow: object) -> None:
        raise RuntimeError("the rate card could not be stored")

    with pytest.raises(RuntimeError):
        onboarding.start_subscription(deps, subscription=a_subscription(id="sub_2"),
                                      also=fails)
    with pytest.raises(DuplicateExternalId):
        onboarding.start_subscription(deps, subscription=a_subscription(
            id="sub_3", external_id="c-9"))
    with deps.uow_factory() as uow:
        assert [s.id for s in uow.subscriptions.list_for_account(account_id="acc_1")] == [
            "sub_1"]
        found = uow.subscriptions.by_external_id(external_id="c-9")
    assert found is not None
    assert found.id == "sub_1"
