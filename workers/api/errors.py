"""One error shape for every /v1 response: `{"error": {"type", "message", "field"}}`.

Handlers raise `ApiError` (or one of its named subclasses); request validation failures
(pydantic) become 422 naming the first offending field as a dotted path (`plan.user_price`,
`records.3.destination`). Nothing else leaks: an unexpected exception is a 500 with a generic
message (logged with its traceback), never a stack trace or SQL in the body.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import DuplicateExternalId

log = logging.getLogger("paycollect.api")


class ErrorBody(BaseModel):
    type: str
    message: str
    field: str | None = None


class ErrorResponse(BaseModel):
    """The body of every 4xx/5xx answer of the /v1 API."""

    error: ErrorBody


class ApiError(Exception):
    """An answer other than success. `type` is a stable machine word; `message` is for people."""

    def __init__(self, status: int, type: str, message: str, *, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.type, self.message, self.field = status, type, message, field
        self.headers = headers


class NotFound(ApiError):
    def __init__(self, what: str, id: str) -> None:
        super().__init__(404, "not_found", f"no {what} with id {id!r}")


class Conflict(ApiError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(409, "conflict", message, field=field)


class Invalid(ApiError):
    """422 for a rule the schema cannot express (a date before the anchor, an unknown plan)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(422, "invalid_request", message, field=field)


def error_response(status: int, type: str, message: str, field: str | None = None, *,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"type": type, "message": message, "field": field}}
    return JSONResponse(body, status_code=status, headers=headers)


def _field_path(location: Sequence[Any]) -> str | None:
    # FastAPI prefixes the source ("body", "query", "path", "header"); the field is the rest.
    parts = [str(part) for part in location[1:]] if len(location) > 1 else []
    return ".".join(parts) or (str(location[0]) if location else None)


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return error_response(error.status, error.type, error.message, error.field,
                              headers=error.headers)

    async def validation_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        first = error.errors()[0] if error.errors() else {}
        message = str(first.get("msg", "invalid request"))
        return error_response(422, "invalid_request", message,
                              _field_path(first.get("loc", ())))

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        kind = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code,
                                                                 "http_error")
        return error_response(error.status_code, kind, str(error.detail),
                              headers=getattr(error, "headers", None))

    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal error; nothing was changed")

    async def duplicate_external_id(request: Request, error: Exception) -> JSONResponse:
        # The same answer wherever a create or an update meets another row's external id.
        return error_response(409, "conflict", str(error), "external_id")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(DuplicateExternalId, duplicate_external_id)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
