"""The /v1 FastAPI app: generated OpenAPI (/v1/openapi.json), one error shape, bearer keys.

`create_api(deps, settings)` is mounted at /v1 by the web app (workers/webhook_app.py), so
`paycollect serve` and the embedded system serve it beside the provider webhooks and the
operator API. Each resource lives in its own module with a module-level `router`; the list
below is the one place that names them.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from workers.api.auth import require_api_key
from workers.api.context import ApiContext
from workers.api.errors import ErrorResponse, install_error_handlers
from workers.config import Settings
from workers.handlers.deps import Deps

#: Every documented error answer; each route adds its own success model.
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in [
        (401, "missing or wrong API key"), (404, "unknown id"), (409, "conflict"),
        (422, "invalid request; `field` names the offending field"),
        (503, "no API key configured, or a payment provider could not be reached")]}


def _routers() -> list[APIRouter]:
    """The resource routers, imported here so a new resource is one line."""
    from workers.api import setups

    return [setups.router]


def create_api(deps: Deps, settings: Settings) -> FastAPI:
    app = FastAPI(title="Paycollect billing API", version="1",
                  description="Accounts, subscriptions, call records, invoices and "
                              "payment-method setups for a business phone service.",
                  openapi_url="/openapi.json", docs_url="/docs", redoc_url=None)
    app.state.context = ApiContext(deps=deps, settings=settings)
    install_error_handlers(app)
    for router in _routers():
        app.include_router(router, dependencies=[Depends(require_api_key)],
                           responses=ERROR_RESPONSES)
    return app
