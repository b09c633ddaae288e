"""The Idempotency-Key claim of the running request, and the Deps that fence it.

The middleware (workers/api/idempotency.py) puts the claim in the ASGI scope; `deps_for`
gives the endpoint Deps whose every commit marks the key committed in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlmodel import Session
from starlette.types import Scope

from adapters.db.repositories import idempotency as store
from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from workers.api.errors import Conflict
from workers.handlers.deps import Deps

#: Where the claim of the running request is kept in the ASGI scope.
SCOPE_KEY = "paycollect.idempotency"


@dataclass
class Claim:
    owner: str
    key: str
    token: str
    #: Set once one of the request's transactions committed with the key fenced.
    committed: bool = False

    def fence(self, session: Session) -> None:
        """Runs inside each of the request's write transactions, just before COMMIT."""
        if not store.fence(session, owner=self.owner, key=self.key, token=self.token):
            raise Conflict("this request lost its Idempotency-Key to a retry; nothing was "
                           "changed", field="Idempotency-Key")
        self.committed = True


def sql_factory(deps: Deps) -> SqlUnitOfWorkFactory:
    """The API's units of work are SQL ones: idempotency keys live beside the writes."""
    if not isinstance(deps.uow_factory, SqlUnitOfWorkFactory):
        raise TypeError("the /v1 API needs the SQL unit of work")
    return deps.uow_factory


def deps_for(deps: Deps, scope: Scope) -> Deps:
    """The handlers' Deps for this request: with a claimed key, every commit fences it."""
    claim = scope.get(SCOPE_KEY)
    if not isinstance(claim, Claim):
        return deps
    return replace(deps, uow_factory=sql_factory(deps).with_before_commit(claim.fence))
