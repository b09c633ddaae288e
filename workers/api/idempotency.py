"""`Idempotency-Key` for every POST under /v1, once for all endpoints (ASGI middleware).

The same key with the same request (method, path, body) replays the stored answer, with
`Idempotent-Replayed: true`; the same key with another request is 409; a key whose request
is still running is 409. Keys belong to the API key that used them (stored by its sha256)
and are kept 24 hours (`KEY_TTL`), then forgotten (taken over by a request reusing the key,
or deleted by the scheduler's tick: workers/api_key_purge.py).

Ordering, so a crash can never apply a request twice:
1. the key is claimed (in_progress) in its own transaction, before the endpoint runs;
2. every commit the endpoint makes also marks the key committed, in the same transaction
   (`SqlUnitOfWorkFactory.with_before_commit`), and fails if the claim was lost;
3. the response is stored (done). A crash between 2 and 3 leaves the key committed: a retry
   gets 409 (`idempotency_key_executed`: look the resource up) rather than a second write.
   A crash before 2 wrote nothing: after `LEASE` the key may be claimed again.
Stored: 2xx and the endpoint's own 4xx (404, 409), and anything after a commit. Refused
before execution (401/503 from auth, 422 validation): the claim is released, nothing stays.
POST without the header runs normally (no protection against a retried units change).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.db.repositories import idempotency as store
from workers.api.auth import matching_key
from workers.api.claims import SCOPE_KEY, Claim, sql_factory
from workers.api.context import ApiContext
from workers.api.errors import error_response

#: How long a key is remembered (Stripe's choice too).
KEY_TTL = timedelta(hours=24)
#: After this, an in-progress key that committed nothing may be claimed again.
LEASE = timedelta(minutes=2)
MAX_KEY_LENGTH = 255
_HEADER_DOC = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "retry safely: the same key and request replay the first answer "
                   "(24 h); the same key with another request is 409",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH}}
_STORED_ERRORS = frozenset({404, 409})
_INTERNAL_ERROR = ('{"error": {"type": "internal_error", "message": "internal error", '
                   '"field": null}}')
_REFUSALS = {
    "reused": ("idempotency_key_reused",
               "this Idempotency-Key was used with another request (method, path or body)"),
    "in_progress": ("idempotency_key_in_progress",
                    "a request with this Idempotency-Key is still in progress; retry later"),
    "executed": ("idempotency_key_executed",
                 "the request with this Idempotency-Key was applied but its response was "
                 "not recorded; look the resource up instead of retrying"),
}


def document_idempotency_key(app: FastAPI) -> None:
    """Add the `Idempotency-Key` header to every POST of the OpenAPI document (the
    middleware, not a route parameter, handles it: so every POST has it, present or future)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for operations in schema.get("paths", {}).values():
                post = operations.get("post")
                if post is not None:
                    post.setdefault("parameters", []).append(_HEADER_DOC)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    digest = hashlib.sha256(f"{method}\n{path}?".encode())
    digest.update(query + b"\n" + body)
    return digest.hexdigest()


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, *, context: ApiContext) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get("idempotency-key")
        api_key = matching_key(self.context.settings.api_keys, headers.get("authorization", ""))
        if key is None or api_key is None:
            await self.app(scope, receive, send)  # unkeyed, or refused by auth: nothing stored
            return
        if not 0 < len(key) <= MAX_KEY_LENGTH:
            await error_response(422, "invalid_request", "Idempotency-Key must be 1 to "
                                 f"{MAX_KEY_LENGTH} characters",
                                 "Idempotency-Key")(scope, receive, send)
            return
        body = await _read_body(receive)
        owner = hashlib.sha256(api_key.encode()).hexdigest()
        request_print = fingerprint(scope["method"], scope["path"],
                                    scope.get("query_string", b""), body)
        result = await run_in_threadpool(self._claim, owner, key, request_print)
        if isinstance(result, store.Refused):
            type_, message = _REFUSALS[result.reason]
            await error_response(409, type_, message, "Idempotency-Key")(scope, receive, send)
            return
        if isinstance(result, store.StoredResponse):
            await _replay(result, send)
            return
        await self._run(Claim(owner=owner, key=key, token=result.token), scope,
                        _replaying(body, receive), send)

    async def _run(self, claim: Claim, scope: Scope, receive: Receive, send: Send) -> None:
        # The answer is held back until it is stored: a client that retries the moment it
        # has the first answer must find it replayable, not "in progress".
        held: list[Message] = []
        status, content_type, sent = 500, "", bytearray()

        async def capture(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                content_type = Headers(raw=message.get("headers", [])).get("content-type", "")
            elif message["type"] == "http.response.body":
                sent.extend(message.get("body", b""))
            held.append(message)

        scope[SCOPE_KEY] = claim
        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await run_in_threadpool(self._finish, claim, store.StoredResponse(
                500, "application/json", _INTERNAL_ERROR))
            raise
        await run_in_threadpool(self._finish, claim, store.StoredResponse(
            status, content_type, sent.decode("utf-8", errors="replace")))
        for message in held:
            await send(message)

    def _claim(self, owner: str, key: str, request_print: str) -> store.ClaimResult:
        with sql_factory(self.context.deps)() as uow:
            result = store.claim(uow.session, owner=owner, key=key, fingerprint=request_print,
                                 now=self.context.deps.clock.now(), ttl=KEY_TTL, lease=LEASE)
            uow.commit()
        return result

    def _finish(self, claim: Claim, response: store.StoredResponse) -> None:
        keep = (claim.committed or 200 <= response.status < 300
                or response.status in _STORED_ERRORS)
        with sql_factory(self.context.deps)() as uow:
            if keep:
                store.record(uow.session, owner=claim.owner, key=claim.key, token=claim.token,
                             response=response)
            else:
                store.release(uow.session, owner=claim.owner, key=claim.key,
                              token=claim.token)
            uow.commit()


async def _read_body(receive: Receive) -> bytes:
    chunks = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return bytes(chunks)
        chunks.extend(message.get("body", b""))
        if not message.get("more_body", False):
            return bytes(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then listens to the client."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _replay(stored: store.StoredResponse, send: Send) -> None:
    body = stored.body.encode()
    headers = [(b"content-type", stored.content_type.encode()),
               (b"content-length", str(len(body)).encode()),
               (b"idempotent-replayed", b"true")]
    await send({"type": "http.response.start", "status": stored.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
