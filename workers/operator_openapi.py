"""The OpenAPI 3.1 document of the operator API (served at /api/openapi.json), by hand: the
routes take and return plain JSON, so a schema written next to them stays short and exact."""

from __future__ import annotations

from typing import Any


def _query(name: str, description: str, enum: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if enum:
        schema["enum"] = enum
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _body(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "properties": properties, "required": required or []}}}}


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"200": {"description": description, "content": {
        "application/json": {"schema": schema or {"type": "object"}}}},
        **{code: {"$ref": f"#/components/responses/{name}"} for code, name in (
            ("401", "Unauthorized"), ("404", "NotFound"), ("422", "BadArgument"))}}


_ARRAY = {"type": "array", "items": {"type": "object"}}
_STR = {"type": "string"}
_BOOL = {"type": "boolean"}
_METHODS = ["card", "direct_debit", "wire"]
_ERROR = {"description": "", "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/Error"}}}}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Paycollect operator API", "version": "1",
             "description": "The operators' console over HTTP (the operations of `paycollect "
                            "payments|invoices|accounts|dead-letters|outbox|renewals|wires`)."},
    "security": [{"bearer": []}],
    "paths": {
        "/api/payments/failed": {"get": {
            "summary": "Failed payments of open invoices, newest first",
            "parameters": [_query("method", "payment method", _METHODS),
                           _query("reason", "failure class (soft, hard, customer_action) or code"),
                           _query("since", "failed on or after (YYYY-MM-DD)"),
                           _query("account", "one account only")],
            "responses": _ok("failed payments", _ARRAY)}},
        "/api/payments/requeue": {"post": {
            "summary": "Re-queue failed payments now (hard declines need force)",
            "requestBody": _body({"attempts": {"type": "array", "items": _STR},
                                  "all_failed": _BOOL, "method": {"enum": _METHODS},
                                  "dry_run": _BOOL, "force": _BOOL, "reason": _STR,
                                  "actor": _STR}, ["reason"]),
            "responses": {**_ok("every attempt re-queued (or would be)", _ARRAY),
                          "409": {"description": "some were refused; the body says why",
                                  "content": {"application/json": {"schema": _ARRAY}}}}}},
        "/api/invoices": {"get": {
            "summary": "Invoices, oldest first",
            "parameters": [_query("account", "account id"),
                           _query("status", "invoice status",
                                  ["draft", "open", "paid", "carried_forward", "void",
                                   "uncollectible"]),
                           _query("limit", "at most this many")],
            "responses": _ok("invoices", _ARRAY)}},
        "/api/invoices/{ident}": {"get": {
            "summary": "One invoice (by id or number), with its attempts and rendering",
            "parameters": [_path("ident"), _query("html", "1: the customer's HTML page")],
            "responses": _ok("the invoice document")}},
        "/api/accounts/{account_id}": {"get": {
            "summary": "An account: standing, payment method, ledger with running balance",
            "parameters": [_path("account_id")], "responses": _ok("the account")}},
        "/api/dead-letters": {"get": {
            "summary": "dramatiq dead letters (Redis)",
            "parameters": [_query("queue", "one queue only")],
            "responses": {**_ok("dead messages", _ARRAY),
                          "503": {"$ref": "#/components/responses/Unavailable"}}}},
        "/api/dead-letters/requeue": {"post": {
            "summary": "Re-queue dead messages with their retry count reset",
            "requestBody": _body({"ids": {"type": "array", "items": _STR}, "all": _BOOL,
                                  "queue": _STR}),
            "responses": {**_ok("messages moved", _ARRAY),
                          "503": {"$ref": "#/components/responses/Unavailable"}}}},
        "/api/outbox": {"get": {
            "summary": "Customer messages not sent yet, oldest first, with their tries",
            "parameters": [_query("given_up", "1: only those the drains stopped trying"),
                           _query("limit", "at most this many (default 100)")],
            "responses": _ok("unsent messages", _ARRAY)}},
        "/api/outbox/resend": {"post": {
            "summary": "Send messages again from scratch (tries reset); audited",
            "requestBody": _body({"ids": {"type": "array", "items": _STR}, "reason": _STR,
                                  "actor": _STR}),
            "responses": {**_ok("the messages queued again"),
                          "404": {"description": "an unknown message id"},
                          "409": {"description": "a message was sent already"}}}},
        "/api/accounts/{account_id}/reactivate": {"post": {
            "summary": "Start a new subscription for a terminated account; audited",
            "requestBody": _body({"reason": _STR, "actor": _STR,
                                  "on": {"type": "string", "format": "date"},
                                  "users": {"type": "integer", "minimum": 0},
                                  "numbers": {"type": "integer", "minimum": 0},
                                  "force": {"type": "boolean"}}, ["reason"]),
            "responses": {**_ok("the subscription started"),
                          "404": {"description": "an unknown account"},
                          "409": {"description": "not terminated, or still owes (no force)"}}}},
        "/api/renewals/run": {"post": {
            "summary": "Issue every renewal due on or before as_of (default today)",
            "requestBody": _body({"as_of": {"type": "string", "format": "date"},
                                  "actor": _STR}),
            "responses": _ok("how many invoices were issued")}},
        "/api/wires": {"post": {
            "summary": "Record a received bank transfer",
            "requestBody": _body({"reference": _STR, "amount": {
                "type": "string", "description": "major units, e.g. 150.00"},
                "currency": _STR, "on": {"type": "string", "format": "date"}, "actor": _STR,
                "bank_ref": {"type": "string", "description":
                             "the bank's id for the statement line: sent again, it changes "
                             "nothing and the answer says duplicate: true"}},
                ["reference", "amount"]),
            "responses": {**_ok("the invoice it settled (or had settled, duplicate: true)"),
                          "202": {"description": "unknown reference: kept for review",
                                  "content": {"application/json": {"schema": {
                                      "$ref": "#/components/schemas/Error"}}}}}}},
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "OPERATOR_API_TOKEN"}},
        "schemas": {"Error": {"type": "object", "properties": {"error": _STR},
                              "required": ["error"]}},
        "responses": {name: {**_ERROR, "description": text} for name, text in (
            ("Unauthorized", "missing or wrong bearer token"),
            ("NotFound", "unknown id"), ("BadArgument", "malformed argument"),
            ("Unavailable", "a service it needs is not configured"))},
    },
}
