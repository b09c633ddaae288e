"""Starting a payment-method setup: the provider's hosted page, recorded for its webhook.

`start_setup` asks the provider first (Stripe: a customer if the account has none, then a
Checkout Session in setup mode; GoCardless: a Billing Request and its flow) and records the
setup only once the provider answered, so a provider outage leaves nothing behind and the
call can simply be made again. The completion arrives by webhook (setup_completion.py).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from domain.accounts import Account, MethodType
from domain.errors import NotFound, UnknownAccount
from domain.setups import (
    PaymentMethodSetup,
    ProviderUnavailable,
    SetupSession,
    SetupStatus,
    choose_scheme,
)
from workers.handlers.deps import Deps

log = logging.getLogger("paycollect.setups")

#: Where the customer lands after the hosted page when the caller gives no `return_url`.
DEFAULT_RETURN_URL = "https://paycollect.invalid/payment-method-setup/done"
PROVIDER_OF = {MethodType.CARD: "stripe", MethodType.DIRECT_DEBIT: "gocardless"}


class UnknownSetup(NotFound):
    pass


class UnsupportedSetup(ValueError):
    """A method that has nothing to set up (wire)."""


@dataclass(frozen=True, slots=True)
class SetupStarted:
    id: str
    url: str
    provider: str
    method: MethodType
    status: SetupStatus = SetupStatus.OPEN
    scheme: str | None = None
    expires_at: datetime | None = None


def start_setup(deps: Deps, *, account_id: str, method: MethodType, scheme: str | None = None,
                return_url: str | None = None) -> SetupStarted:
    """Start a card or direct-debit setup for the account; the customer opens `url`.

    Raises: UnknownAccount; UnsupportedSetup (wire); domain.setups.InvalidScheme (a scheme
    that is unknown or does not collect the account's currency); ProviderUnavailable (the
    provider could not be reached: nothing was recorded, call again).
    """
    with deps.uow_factory() as uow:
        account = uow.accounts.get(account_id=account_id)
    if account is None:
        raise UnknownAccount(account_id)
    if method not in PROVIDER_OF:
        raise UnsupportedSetup(f"a {method.value} payment method has nothing to set up")
    setup_id = f"pms_{uuid.uuid4().hex}"
    back = return_url or DEFAULT_RETURN_URL
    if method is MethodType.CARD:
        chosen_scheme = None
        session = _start_card(deps, account=account, setup_id=setup_id, return_url=back)
    else:
        chosen_scheme = choose_scheme(requested=scheme, currency=account.currency)
        session = _start_direct_debit(deps, account=account, setup_id=setup_id,
                                      scheme=chosen_scheme, return_url=back)
    setup = PaymentMethodSetup(
        id=setup_id, account_id=account.id, method=method, provider=PROVIDER_OF[method],
        provider_ref=session.provider_ref, provider_customer=session.customer, url=session.url,
        created_at=deps.clock.now(), scheme=chosen_scheme, return_url=return_url,
        expires_at=session.expires_at)
    with deps.uow_factory() as uow:
        uow.setups.add(setup=setup)
        uow.commit()
    log.info("payment-method setup started", extra={"account_id": account.id,
                                                    "setup_id": setup_id,
                                                    "provider_ref": session.provider_ref})
    return SetupStarted(id=setup.id, url=setup.url, provider=setup.provider, method=method,
                        scheme=chosen_scheme, expires_at=setup.expires_at)


def _start_card(deps: Deps, *, account: Account, setup_id: str,
                return_url: str) -> SetupSession:
    gateway = deps.card_setup
    if gateway is None:
        raise ProviderUnavailable("no card provider is configured in this process")
    current = account.payment_method
    customer = current.provider_customer if current.type is MethodType.CARD else None
    if not customer:
        customer = gateway.create_customer(account_id=account.id, name=account.name,
                                           email=account.email)
    return gateway.start_card_setup(setup_id=setup_id, account_id=account.id,
                                    customer=customer, currency=account.currency,
                                    success_url=return_url, cancel_url=return_url)


def _start_direct_debit(deps: Deps, *, account: Account, setup_id: str, scheme: str,
                        return_url: str) -> SetupSession:
    gateway = deps.direct_debit_setup
    if gateway is None:
        raise ProviderUnavailable("no direct-debit provider is configured in this process")
    current = account.payment_method
    customer = current.provider_customer if current.type is MethodType.DIRECT_DEBIT else None
    return gateway.start_direct_debit_setup(
        setup_id=setup_id, account_id=account.id, scheme=scheme, customer=customer or None,
        name=account.name, email=account.email, redirect_uri=return_url, exit_uri=return_url)


def get_setup(deps: Deps, *, setup_id: str) -> PaymentMethodSetup:
    """The setup, with its status as of now (an open setup past its expiry is expired)."""
    with deps.uow_factory() as uow:
        setup = uow.setups.get(setup_id=setup_id)
    if setup is None:
        raise UnknownSetup(setup_id)
    status = setup.status_at(deps.clock.now())
    if status is setup.status:
        return setup
    return replace(setup, status=status)


__all__ = ["DEFAULT_RETURN_URL", "SetupStarted", "UnknownSetup", "UnsupportedSetup",
           "get_setup", "start_setup"]
