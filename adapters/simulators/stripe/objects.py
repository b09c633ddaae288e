"""Stripe-shaped JSON objects and error bodies (fields as in Stripe's OpenAPI fixtures).

Objects are plain dicts: the store mutates them and the app serialises them as they are.
Shapes follow tests/fixtures/providers/stripe_openapi_object_*.json for a current API version
(`latest_charge`, not the old embedded `charges` list).
"""

from __future__ import annotations

from typing import Any

from adapters.simulators.stripe.cards import CardBehaviour

Json = dict[str, Any]

DOCS = "https://stripe.com/docs/error-codes/"


def customer(*, id: str, created: int, params: Json) -> Json:
    settings = params.get("invoice_settings") or {}
    return {
        "id": id, "object": "customer", "created": created, "livemode": False,
        "name": params.get("name"), "email": params.get("email"),
        "description": params.get("description"), "metadata": dict(params.get("metadata") or {}),
        "invoice_settings": {"default_payment_method": settings.get("default_payment_method"),
                             "custom_fields": None, "footer": None, "rendering_options": None},
        "balance": 0, "currency": None, "delinquent": False, "default_source": None,
    }


def payment_method(*, id: str, created: int, card: CardBehaviour, customer: str | None) -> Json:
    return {
        "id": id, "object": "payment_method", "type": "card", "created": created,
        "customer": customer, "livemode": False, "metadata": {},
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
        "card": {"brand": card.brand, "last4": card.number_last4, "exp_month": 12,
                 "exp_year": 2034, "country": "US", "funding": "credit",
                 "fingerprint": f"sim{card.number_last4}", "networks": {"available": [card.brand]},
                 "checks": {"cvc_check": None, "address_line1_check": None,
                            "address_postal_code_check": None}},
    }


def payment_intent(*, id: str, created: int, amount: int, currency: str, customer: str | None,
                   payment_method: str | None, metadata: dict[str, str]) -> Json:
    return {
        "id": id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
        "amount_received": 0, "amount_details": {"tip": {}}, "application": None,
        "application_fee_amount": None, "automatic_payment_methods": None, "canceled_at": None,
        "cancellation_reason": None, "capture_method": "automatic_async",
        "client_secret": f"{id}_secret_sim", "confirmation_method": "automatic",
        "created": created, "currency": currency, "customer": customer, "description": None,
        "last_payment_error": None, "latest_charge": None, "livemode": False,
        "metadata": metadata, "next_action": None, "on_behalf_of": None,
        "payment_method": payment_method, "payment_method_options": {},
        "payment_method_types": ["card"], "processing": None, "receipt_email": None,
        "review": None, "setup_future_usage": None, "shipping": None,
        "statement_descriptor": None, "statement_descriptor_suffix": None,
        "status": "requires_payment_method" if payment_method is None else "requires_confirmation",
        "transfer_data": None, "transfer_group": None,
    }


def charge(*, id: str, created: int, intent: Json, card: CardBehaviour, succeeded: bool) -> Json:
    declined = not succeeded
    return {
        "id": id, "object": "charge", "amount": intent["amount"],
        "amount_captured": intent["amount"] if succeeded else 0, "amount_refunded": 0,
        "balance_transaction": f"txn_{id[3:]}" if succeeded else None,
        "captured": succeeded, "created": created, "currency": intent["currency"],
        "customer": intent["customer"], "description": None, "dispute": None, "disputed": False,
        "failure_code": card.code if declined else None,
        "failure_message": card.message if declined else None,
        "livemode": False, "metadata": dict(intent["metadata"]),
        "outcome": {
            "network_status": "declined_by_network" if declined else "approved_by_network",
            "reason": card.decline_code if declined else None, "risk_level": "normal",
            "seller_message": "The bank declined the payment." if declined else "Payment complete.",
            "type": "issuer_declined" if declined else "authorized"},
        "paid": succeeded, "payment_intent": intent["id"],
        "payment_method": intent["payment_method"],
        "payment_method_details": {"type": "card", "card": {
            "brand": card.brand, "last4": card.number_last4, "exp_month": 12, "exp_year": 2034,
            "country": "US", "funding": "credit", "network": card.brand}},
        "refunded": False, "refunds": {"object": "list", "data": [], "has_more": False,
                                       "url": f"/v1/charges/{id}/refunds"},
        "status": "succeeded" if succeeded else "failed",
    }


def refund(*, id: str, created: int, charge: Json, amount: int, params: Json) -> Json:
    return {
        "id": id, "object": "refund", "amount": amount, "charge": charge["id"],
        "created": created, "currency": charge["currency"],
        "balance_transaction": f"txn_{id[3:]}", "metadata": dict(params.get("metadata") or {}),
        "payment_intent": charge["payment_intent"], "reason": params.get("reason"),
        "receipt_number": None, "status": "succeeded",
        "destination_details": {"type": "card", "card": {"type": "refund"}},
    }


def dispute(*, id: str, created: int, charge: Json) -> Json:
    return {
        "id": id, "object": "dispute", "amount": charge["amount"], "charge": charge["id"],
        "created": created, "currency": charge["currency"], "balance_transactions": [],
        "evidence_details": {"due_by": created + 7 * 86400, "has_evidence": False,
                             "past_due": False, "submission_count": 0},
        "is_charge_refundable": False, "livemode": False, "metadata": {},
        "payment_intent": charge["payment_intent"], "reason": "fraudulent",
        "status": "warning_needs_response",
    }


def event(*, id: str, created: int, type: str, obj: Json, api_version: str,
          request: tuple[str | None, str | None],
          previous: Json | None = None) -> Json:
    data: Json = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    return {
        "id": id, "object": "event", "api_version": api_version, "created": created,
        "data": data, "livemode": False, "pending_webhooks": 1,
        "request": {"id": request[0], "idempotency_key": request[1]}, "type": type,
    }


def page(*, items: list[Json], url: str, has_more: bool) -> Json:
    return {"object": "list", "data": items, "has_more": has_more, "url": url}


def error(type: str, message: str, **fields: Any) -> Json:
    body: Json = {"type": type, "message": message}
    body.update({k: v for k, v in fields.items() if v is not None})
    if "code" in body and "doc_url" not in body:
        body["doc_url"] = DOCS + str(body["code"]).replace("_", "-")
    return {"error": body}


def missing(kind: str, id: str, param: str) -> Json:
    return error("invalid_request_error", f"No such {kind}: '{id}'", code="resource_missing",
                 param=param)


class ApiError(Exception):
    """Raised by an operation to answer with a Stripe error body.

    `store` says whether Stripe's idempotency layer keeps the answer: only requests that
    began executing (card declines) are replayed; validation errors are not.
    """

    def __init__(self, status: int, body: Json, *, store: bool = False) -> None:
        super().__init__(body["error"].get("message", ""))
        self.status = status
        self.body = body
        self.store = store


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, error("invalid_request_error", message, param=param, code=code))
