"""What every /v1 endpoint needs: the handlers' Deps and the settings, kept on `app.state`."""

from __future__ import annotations

from dataclasses import dataclass, replace

from fastapi import Request

from workers.api.claims import deps_for
from workers.config import Settings
from workers.handlers.deps import Deps


@dataclass(frozen=True)
class ApiContext:
    deps: Deps
    settings: Settings


def api_context(request: Request) -> ApiContext:
    """FastAPI dependency (`Depends(api_context)`): the context the app was built with; its
    Deps fence the request's Idempotency-Key in every commit (workers/api/idempotency.py)."""
    context = request.app.state.context
    assert isinstance(context, ApiContext)
    deps = deps_for(context.deps, request.scope)
    return context if deps is context.deps else replace(context, deps=deps)
