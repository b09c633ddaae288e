"""A setup completed at the provider becomes the account's payment method.

Both providers report one completion with several events (Stripe: `setup_intent.succeeded`
and `checkout.session.completed`; GoCardless: `mandates.created` and
`billing_requests.fulfilled`), in any order, possibly twice. The first to arrive completes the
setup; the claim (`setups.mark_completed`, open → completed) is in the same transaction as the
new method, so the others change nothing, and every open balance is retried exactly once.
What is stored for display is what the provider shows: card brand, last 4 and expiry, the bank
account's holder and masked number.
"""

from __future__ import annotations

import logging

from domain.accounts import MethodDisplay, MethodType, PaymentMethod
from domain.setups import CardOnFile, MandateOnFile, PaymentMethodSetup, mask_account
from workers.handlers.accounts import store_payment_method
from workers.handlers.deps import Deps

log = logging.getLogger("paycollect.setups")


def card_method(card: CardOnFile) -> PaymentMethod:
    return PaymentMethod(type=MethodType.CARD, provider_customer=card.customer,
                         provider_method=card.payment_method,
                         display=MethodDisplay(brand=card.brand, last4=card.last4,
                                               exp_month=card.exp_month,
                                               exp_year=card.exp_year))


def mandate_method(mandate: MandateOnFile) -> PaymentMethod:
    masked = mask_account(country_code=mandate.country_code,
                          ending=mandate.account_number_ending,
                          iban=mandate.scheme == "sepa_core")
    return PaymentMethod(type=MethodType.DIRECT_DEBIT, provider_customer=mandate.customer,
                         provider_method=mandate.mandate, scheme=mandate.scheme,
                         display=MethodDisplay(account_holder=mandate.account_holder,
                                               account_masked=masked,
                                               bank_name=mandate.bank_name))


def complete_setup(deps: Deps, *, setup: PaymentMethodSetup, method: PaymentMethod,
                   actor: str) -> str:
    """Claim the setup and store its method; returns a note for the inbox row.

    Already completed: nothing changes. The same method already on file (another event, e.g.
    `payment_method.attached`, switched it first): only the display is stored, since its
    balances were retried then.
    """
    retry = False
    with deps.uow_factory() as uow:
        if not uow.setups.mark_completed(setup_id=setup.id, at=deps.clock.now()):
            return f"setup {setup.id} already completed"
        account = uow.accounts.get(account_id=setup.account_id)
        current = account.payment_method if account is not None else None
        if (current is not None and current.type is method.type and current.usable
                and current.provider_method == method.provider_method):
            uow.accounts.update_payment_method(account_id=setup.account_id,
                                               method=method)
        else:
            store_payment_method(uow, deps, account_id=setup.account_id, method=method,
                                 actor=actor)
            retry = True
        uow.commit()
    if retry:
        deps.dispatch.retry_open_balances(setup.account_id)
    log.info("payment-method setup completed", extra={"setup_id": setup.id,
                                                      "account_id": setup.account_id})
    return (f"setup {setup.id} completed: {method.type.value} {method.provider_method} on file"
            + ("; open balances retried" if retry else ""))


__all__ = ["card_method", "complete_setup", "mandate_method"]
