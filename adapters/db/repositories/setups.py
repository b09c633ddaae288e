"""Payment-method setups: started at a provider, completed by its webhook."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlmodel import Session

from adapters.db.repositories._sql import insert, run, table_of
from adapters.db.tables import PaymentMethodSetupRow
from domain.accounts import MethodType
from domain.setups import PaymentMethodSetup, SetupStatus

_TABLE = table_of(PaymentMethodSetupRow)
_C = _TABLE.c


def _values(setup: PaymentMethodSetup) -> dict[str, Any]:
    return {"id": setup.id, "account_id": setup.account_id, "method": setup.method.value,
            "provider": setup.provider, "provider_ref": setup.provider_ref,
            "provider_customer": setup.provider_customer, "scheme": setup.scheme,
            "status": setup.status.value, "url": setup.url, "return_url": setup.return_url,
            "created_at": setup.created_at, "expires_at": setup.expires_at,
            "completed_at": setup.completed_at}


def _from_row(row: Row[Any]) -> PaymentMethodSetup:
    return PaymentMethodSetup(
        id=row.id, account_id=row.account_id, method=MethodType(row.method),
        provider=row.provider, provider_ref=row.provider_ref,
        provider_customer=row.provider_customer, url=row.url, created_at=row.created_at,
        status=SetupStatus(row.status), scheme=row.scheme, return_url=row.return_url,
        expires_at=row.expires_at, completed_at=row.completed_at)


class SqlSetupRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, *, setup: PaymentMethodSetup) -> None:
        insert(self._session, _TABLE, _values(setup))

    def get(self, *, setup_id: str) -> PaymentMethodSetup | None:
        found = run(self._session, select(_TABLE).where(_C.id == setup_id)).first()
        return None if found is None else _from_row(found)

    def by_provider_ref(self, *, provider: str, provider_ref: str
                        ) -> PaymentMethodSetup | None:
        found = run(self._session, select(_TABLE).where(
            _C.provider == provider, _C.provider_ref == provider_ref)).first()
        return None if found is None else _from_row(found)

    def open_for_customer(self, *, provider: str, provider_customer: str
                          ) -> list[PaymentMethodSetup]:
        rows = run(self._session, select(_TABLE).where(
            _C.provider == provider, _C.provider_customer == provider_customer,
            _C.status == SetupStatus.OPEN.value).order_by(_C.created_at.desc(), _C.id.desc()))
        return [_from_row(row) for row in rows]

    def mark_completed(self, *, setup_id: str, at: datetime) -> bool:
        # The status condition makes this the claim: of two events completing one setup at
        # once, exactly one sees rowcount 1 (the other waits for its commit, then sees 0).
        result = run(self._session, _TABLE.update().where(
            _C.id == setup_id, _C.status == SetupStatus.OPEN.value).values(
            status=SetupStatus.COMPLETED.value, completed_at=at))
        return bool(result.rowcount == 1)
