"""What every /v1 endpoint needs: the handlers' Deps and the settings, kept on `app.state`."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from workers.config import Settings
from workers.handlers.deps import Deps


@dataclass(frozen=True)
class ApiContext:
    deps: Deps
    settings: Settings


def api_context(request: Request) -> ApiContext:
    """FastAPI dependency (`Depends(api_context)`): the context the app was built with."""
    context = request.app.state.context
    assert isinstance(context, ApiContext)
    return context
