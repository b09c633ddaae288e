"""The operator HTTP API: the console's operations under /api/…, behind a bearer token.

`operator_routes(deps, settings)` returns Starlette routes for the web app to mount (the webhook
app serves them beside the provider webhooks). Every route but /api/openapi.json needs
`Authorization: Bearer <OPERATOR_API_TOKEN>`, compared in constant time; without a configured
token the API refuses everything. Errors are JSON `{"error": "..."}` with the status of
`workers.operations.errors` (404 unknown id, 422 bad argument, 409 refused, 503 no Redis).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from domain.accounts import MethodType
from domain.invoices import InvoiceStatus
from workers.config import Settings
from workers.handlers.deps import Deps
from workers.operations import actions, dead_letters, outbox, queries, reactivation
from workers.operations.errors import BadArgument, OperatorError, ServiceUnavailable
from workers.operations.parsing import parse_amount, parse_choice, parse_date, parse_since
from workers.operator_openapi import OPENAPI

Endpoint = Callable[[Request], Awaitable[Response]]


def _authorized(request: Request, token: str | None) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    return (token is not None and scheme.lower() == "bearer"
            and hmac.compare_digest(given.strip().encode(), token.encode()))


def _guard(token: str | None, endpoint: Endpoint) -> Endpoint:
    async def guarded(request: Request) -> Response:
        if not _authorized(request, token):
            return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        try:
            return await endpoint(request)
        except OperatorError as error:
            return JSONResponse({"error": str(error)}, status_code=error.http_status)

    return guarded


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise BadArgument("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BadArgument("the body must be a JSON object")
    return body


def operator_routes(deps: Deps, settings: Settings, *, redis_client: Any = None) -> list[Route]:
    """The /api routes over `deps`; `redis_client` (else REDIS_URL) backs the dead letters."""

    def redis() -> Any:
        nonlocal redis_client
        if redis_client is None:
            if not settings.redis_url:
                raise ServiceUnavailable("REDIS_URL is not set: dead letters live in Redis")
            import redis as redis_module

            redis_client = redis_module.Redis.from_url(settings.redis_url)
        return redis_client

    async def failed(request: Request) -> Response:
        q = request.query_params
        rows = await run_in_threadpool(
            queries.failed_payments, deps,
            method=parse_choice(MethodType, q.get("method"), name="method"),
            reason=q.get("reason"), since=parse_since(q.get("since")),
            account_id=q.get("account"))
        return JSONResponse(rows)

    async def requeue(request: Request) -> Response:
        body = await _body(request)
        targets = await run_in_threadpool(
            actions.requeue_targets, deps, attempt_ids=list(body.get("attempts") or []),
            all_failed=bool(body.get("all_failed")),
            method=parse_choice(MethodType, body.get("method"), name="method"))
        results = await run_in_threadpool(
            actions.requeue, deps, targets=targets, reason=str(body.get("reason") or ""),
            actor=str(body.get("actor") or "api"), force=bool(body.get("force")),
            dry_run=bool(body.get("dry_run")))
        refused = any(r.outcome in ("refused", "would_refuse") for r in results)
        return JSONResponse([r.as_dict() for r in results], status_code=409 if refused else 200)

    async def invoices(request: Request) -> Response:
        q = request.query_params
        limit = q.get("limit")
        if limit is not None and not limit.isdigit():
            raise BadArgument(f"limit: {limit!r} is not a whole number")
        rows = await run_in_threadpool(
            queries.list_invoices, deps, account_id=q.get("account"),
            status=parse_choice(InvoiceStatus, q.get("status"), name="status"),
            limit=int(limit) if limit else None)
        return JSONResponse(rows)

    async def invoice(request: Request) -> Response:
        html = request.query_params.get("html") in ("1", "true")
        doc = await run_in_threadpool(queries.show_invoice, deps,
                                      ident=request.path_params["ident"], html=html)
        return HTMLResponse(doc["rendered"]) if html else JSONResponse(doc)

    async def account(request: Request) -> Response:
        doc = await run_in_threadpool(queries.show_account, deps,
                                      account_id=request.path_params["account_id"])
        return JSONResponse(doc)

    async def reactivate(request: Request) -> Response:
        body = await _body(request)
        counts = {name: body.get(name) for name in ("users", "numbers")}
        if any(value is not None and type(value) is not int for value in counts.values()):
            raise BadArgument("users and numbers must be whole numbers")
        result = await run_in_threadpool(
            reactivation.reactivate, deps, account_id=request.path_params["account_id"],
            reason=str(body.get("reason") or ""), actor=str(body.get("actor") or "api"),
            on=parse_date(str(body["on"]), name="on") if body.get("on") else None,
            users=counts["users"], numbers=counts["numbers"], force=body.get("force") is True)
        return JSONResponse(result)

    async def dead(request: Request) -> Response:
        rows = await run_in_threadpool(dead_letters.list_dead_letters, redis(),
                                       queue=request.query_params.get("queue"))
        return JSONResponse(rows)

    async def dead_requeue(request: Request) -> Response:
        body = await _body(request)
        moved = await run_in_threadpool(dead_letters.requeue_dead_letters, redis(),
                                        ids=list(body.get("ids") or []),
                                        all_dead=bool(body.get("all")), queue=body.get("queue"))
        return JSONResponse(moved)

    async def renewals(request: Request) -> Response:
        body = await _body(request)
        as_of = (parse_date(str(body["as_of"]), name="as_of") if body.get("as_of")
                 else deps.clock.today())
        result = await run_in_threadpool(actions.run_renewals, deps, as_of=as_of,
                                         actor=str(body.get("actor") or "api"))
        return JSONResponse(result)

    async def wires(request: Request) -> Response:
        body = await _body(request)
        if not body.get("reference") or body.get("amount") is None:
            raise BadArgument("reference and amount are required")
        amount = parse_amount(str(body["amount"]), currency=str(body.get("currency") or "EUR"))
        on = parse_date(str(body["on"]), name="on") if body.get("on") else deps.clock.today()
        bank_ref = str(body["bank_ref"]).strip() if body.get("bank_ref") else None
        result = await run_in_threadpool(actions.receive_wire, deps,
                                         reference=str(body["reference"]), amount=amount,
                                         received_on=on, actor=str(body.get("actor") or "api"),
                                         bank_ref=bank_ref)
        return JSONResponse(result)

    async def unsent(request: Request) -> Response:
        q = request.query_params
        limit = q.get("limit", "100")
        if not limit.isdigit():
            raise BadArgument(f"limit: {limit!r} is not a whole number")
        rows = await run_in_threadpool(outbox.unsent, deps,
                                       given_up_only=q.get("given_up") in ("1", "true"),
                                       limit=int(limit))
        return JSONResponse(rows)

    async def resend(request: Request) -> Response:
        body = await _body(request)
        ids = body.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise BadArgument("ids must be a list of message ids")
        sent = await run_in_threadpool(outbox.resend, deps, notification_ids=ids,
                                       reason=str(body.get("reason") or ""),
                                       actor=str(body.get("actor") or "api"))
        return JSONResponse({"resent": sent})

    async def openapi(_request: Request) -> Response:
        return JSONResponse(OPENAPI)

    token = settings.operator_api_token
    guarded: list[tuple[str, Endpoint, list[str]]] = [
        ("/api/payments/failed", failed, ["GET"]),
        ("/api/payments/requeue", requeue, ["POST"]),
        ("/api/invoices", invoices, ["GET"]),
        ("/api/invoices/{ident}", invoice, ["GET"]),
        ("/api/accounts/{account_id}", account, ["GET"]),
        ("/api/accounts/{account_id}/reactivate", reactivate, ["POST"]),
        ("/api/dead-letters", dead, ["GET"]),
        ("/api/dead-letters/requeue", dead_requeue, ["POST"]),
        ("/api/renewals/run", renewals, ["POST"]),
        ("/api/wires", wires, ["POST"]),
        ("/api/outbox", unsent, ["GET"]),
        ("/api/outbox/resend", resend, ["POST"]),
    ]
    return [Route("/api/openapi.json", openapi, methods=["GET"]),
            *(Route(path, _guard(token, endpoint), methods=methods)
              for path, endpoint, methods in guarded)]
