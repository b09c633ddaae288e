"""Accounts, and their payment method columns."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import Session

from adapters.db import mappers
from adapters.db.repositories._sql import among, insert, run, table_of, unique_or
from adapters.db.tables import ACCOUNT_EXTERNAL_ID, AccountRow
from domain.accounts import Account, PaymentMethod, Standing
from domain.errors import DuplicateExternalId, UnknownAccount

_TABLE = table_of(AccountRow)
_C = _TABLE.c
_ALL = select(_TABLE)
_UPDATE = _TABLE.update().where(_C.id == bindparam("where_id"))
_BY_ID = _ALL.where(_C.id == bindparam("account_id"))  # built once: the hot read
_BY_EXTERNAL_ID = _ALL.where(_C.external_id == bindparam("external_id"))


class SqlAccountRepository:
    def __init__(self, session: Session, clock: Callable[[], datetime]) -> None:
        self._session = session
        self._now = clock

    def add(self, *, account: Account) -> None:
        with unique_or(_duplicate(account), table=_TABLE, index=ACCOUNT_EXTERNAL_ID):
            insert(self._session, _TABLE, mappers.account_values(account, now=self._now()))

    def by_external_id(self, *, external_id: str) -> Account | None:
        found = run(self._session, _BY_EXTERNAL_ID, {"external_id": external_id}).first()
        return None if found is None else mappers.account_from_row(found)

    def update_profile(self, *, account: Account) -> None:
        with unique_or(_duplicate(account), table=_TABLE, index=ACCOUNT_EXTERNAL_ID):
            self._update(account.id, mappers.profile_values(account))

    def get(self, *, account_id: str) -> Account | None:
        found = run(self._session, _BY_ID, {"account_id": account_id}).first()
        return None if found is None else mappers.account_from_row(found)

    def get_many(self, *, account_ids: Collection[str]) -> dict[str, Account]:
        if not account_ids:
            return {}
        rows = run(self._session, _ALL.where(among(self._session, _C.id, account_ids)))
        return {row.id: mappers.account_from_row(row) for row in rows}

    def list(self, *, standing: Standing | None = None) -> list[Account]:
        statement = _ALL.order_by(_C.id)
        if standing is not None:
            statement = statement.where(_C.standing == standing.value)
        return [mappers.account_from_row(row) for row in run(self._session, statement)]

    def update_standing(self, *, account_id: str, standing: Standing) -> None:
        self._update(account_id, {"standing": standing.value})

    def update_payment_method(self, *, account_id: str, method: PaymentMethod) -> None:
        self._update(account_id, mappers.method_values(method))

    def by_provider_ref(self, *, provider_customer: str | None = None,
                        provider_method: str | None = None) -> Account | None:
        if provider_customer is None and provider_method is None:
            return None
        statement = _ALL.order_by(_C.created_at, _C.id)
        if provider_customer is not None:
            statement = statement.where(_C.method_customer == provider_customer)
        if provider_method is not None:
            statement = statement.where(_C.method_ref == provider_method)
        found = run(self._session, statement.limit(1)).first()
        return None if found is None else mappers.account_from_row(found)

    def _update(self, account_id: str, values: dict[str, Any]) -> None:
        result = run(self._session, _UPDATE,
                     {**values, "updated_at": self._now(), "where_id": account_id})
        if result.rowcount != 1:
            raise UnknownAccount(account_id)


def _duplicate(account: Account) -> DuplicateExternalId | None:
    return (None if account.external_id is None
            else DuplicateExternalId(what="account", external_id=account.external_id))
