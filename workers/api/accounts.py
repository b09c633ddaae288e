"""/v1/accounts: create, read and change a customer; its balance and ledger.

`{account_id}` is our id or the business's external_id (workers/api/lookup.py).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from domain.accounts import Account
from domain.ledger import LedgerEntry
from workers.api.account_models import (
    AccountCreate,
    AccountOut,
    AccountUpdate,
    BalanceOut,
    LedgerEntryOut,
)
from workers.api.context import ApiContext, api_context
from workers.api.errors import Conflict
from workers.api.lookup import find_account
from workers.api.pages import DEFAULT_LIMIT, Limit, Page, page_of
from workers.handlers import onboarding

router = APIRouter(tags=["accounts"])
Context = Annotated[ApiContext, Depends(api_context)]


@router.post("/accounts", status_code=201, response_model=AccountOut)
def create_account(body: AccountCreate, context: Context) -> AccountOut:
    account = Account(id=f"acc_{uuid.uuid4().hex[:16]}", name=body.name,
                      currency=body.currency, language=body.language, email=body.email,
                      external_id=body.external_id,
                      billing_address=body.billing_address.domain()
                      if body.billing_address else None)
    onboarding.open_account(context.deps, account=account)  # DuplicateExternalId: 409
    return AccountOut.of(account)


@router.get("/accounts/{account_id}", response_model=AccountOut)
def get_account(account_id: str, context: Context) -> AccountOut:
    with context.deps.uow_factory() as uow:
        return AccountOut.of(find_account(uow, account_id))


@router.patch("/accounts/{account_id}", response_model=AccountOut)
def update_account(account_id: str, body: AccountUpdate, context: Context) -> AccountOut:
    with context.deps.uow_factory() as uow:
        found = find_account(uow, account_id)
    sent = body.model_fields_set
    changes: dict[str, Any] = {name: getattr(body, name) for name in
                               ("name", "language", "currency")
                               if name in sent and getattr(body, name) is not None}
    changes.update({name: getattr(body, name) for name in ("email", "external_id")
                    if name in sent})
    if "billing_address" in sent:
        changes["billing_address"] = (body.billing_address.domain()
                                      if body.billing_address else None)
    try:
        updated = onboarding.update_account(context.deps, account_id=found.id,
                                            change=lambda account: replace(account, **changes))
    except onboarding.CurrencyLocked as error:
        raise Conflict(str(error), field="currency") from None
    return AccountOut.of(updated)


@router.get("/accounts/{account_id}/balance", response_model=BalanceOut)
def get_balance(account_id: str, context: Context) -> BalanceOut:
    with context.deps.uow_factory() as uow:
        account = find_account(uow, account_id)
        owed = uow.ledger.balance(account_id=account.id, currency=account.currency)
    return BalanceOut(account=account.id, amount=owed.minor, currency=owed.currency,
                      standing=account.standing)


@router.get("/accounts/{account_id}/ledger", response_model=Page[LedgerEntryOut])
def get_ledger(account_id: str, context: Context, limit: Limit = DEFAULT_LIMIT,
               starting_after: Annotated[str | None, Query(
                   description="the position of the last entry of the previous page")] = None,
               ) -> Page[LedgerEntryOut]:
    with context.deps.uow_factory() as uow:
        account = find_account(uow, account_id)
        entries = _with_running_balance(uow.ledger.list_for_account(account_id=account.id))
    page, has_more, after = page_of(entries, cursor=lambda e: str(e.position), limit=limit,
                                    starting_after=starting_after)
    return Page[LedgerEntryOut](data=page, has_more=has_more, next_starting_after=after)


def _with_running_balance(entries: list[LedgerEntry]) -> list[LedgerEntryOut]:
    # Append-only and read whole, so a position is stable: a good cursor.
    running, out = 0, []
    for position, entry in enumerate(entries, start=1):
        running += entry.amount.minor
        out.append(LedgerEntryOut(position=position, kind=entry.kind, amount=entry.amount.minor,
                                  currency=entry.amount.currency, on=entry.on,
                                  invoice=entry.invoice_id, attempt=entry.attempt_id,
                                  memo=entry.memo, balance=running))
    return out
