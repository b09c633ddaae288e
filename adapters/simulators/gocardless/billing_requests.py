"""Billing Requests and Billing Request Flows: a mandate set up by the payer on a hosted page.

`create_billing_request` makes the request (and a customer, unless `links.customer` names one);
`create_flow` gives it an `authorisation_url` (served by hosted.py). When the payer submits the
page, `fulfil` creates the bank account and the mandate (emitting `mandates.created`; the
mandate then goes submitted → active on the scheme's timeline) and emits
`billing_requests.fulfilled`. The behaviour chosen on the page goes into the mandate's metadata,
so its payments follow it (see behaviours.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from adapters.simulators.gocardless import errors
from adapters.simulators.gocardless.behaviours import SCHEME_FOR_CURRENCY, SCHEMES, Behaviour
from adapters.simulators.gocardless.records import Json, Resource, check_metadata
from adapters.simulators.gocardless.state import Store

#: A flow's hosted page stays usable this many days.
FLOW_LIFETIME_DAYS = 7
CREDITOR = "CR000000000001"


def _table(store: Store, kind: str) -> dict[str, Resource]:
    return store.resources.setdefault(kind, {})


def _find(store: Store, kind: str, id: str) -> Resource:
    found = _table(store, kind).get(id)
    if found is None:
        raise errors.not_found(f"{kind}/{id}")
    return found


def create_billing_request(store: Store, params: Json, key: str | None) -> Json:
    with store.lock:
        store.check_idempotency("billing_requests", key)
        wanted = params.get("mandate_request")
        if not isinstance(wanted, dict):
            raise errors.validation_failed("mandate_request", "is required (this simulator "
                                           "models mandate requests only)",
                                           resource="billing_requests")
        scheme = wanted.get("scheme") or SCHEME_FOR_CURRENCY.get(str(wanted.get("currency")))
        if scheme not in SCHEMES:
            raise errors.validation_failed("mandate_request.scheme", "is not supported",
                                           resource="billing_requests")
        currency = wanted.get("currency") or SCHEMES[scheme].currency
        if currency != SCHEMES[scheme].currency:
            raise errors.validation_failed("mandate_request.currency",
                                           "does not match the scheme",
                                           resource="billing_requests")
        customer_id = (params.get("links") or {}).get("customer")
        if customer_id:
            store.find("customers", customer_id)
        else:
            customer_id = store.create_customer({}, None)["id"]
        data: Json = {
            "id": store.new_id("BRQ"), "created_at": store.timestamp(store.today),
            "status": "pending", "fallback_enabled": False, "fallback_occurred": False,
            "metadata": check_metadata(params.get("metadata"), resource="billing_requests"),
            "mandate_request": {
                "currency": currency, "scheme": scheme, "verify": "recommended",
                "description": wanted.get("description"), "consent_type": None,
                "metadata": check_metadata(wanted.get("metadata"),
                                           resource="billing_requests"),
                "links": {}},
            "payment_request": None, "purpose_code": None,
            "links": {"creditor": CREDITOR, "customer": customer_id,
                      "customer_billing_detail": store.new_id("CBD"),
                      "mandate_request": store.new_id("MRQ"),
                      "mandate_request_mandate": None, "customer_bank_account": None},
            "actions": [{"type": "collect_customer_details", "required": True,
                         "status": "pending"},
                        {"type": "collect_bank_account", "required": True,
                         "status": "pending"}],
        }
        _table(store, "billing_requests")[data["id"]] = Resource(data, scheme=scheme)
        store.remember_key("billing_requests", key, data["id"])
        return data


def get_billing_request(store: Store, id: str) -> Json:
    with store.lock:
        return _find(store, "billing_requests", id).data


def create_flow(store: Store, params: Json, *, base_url: str) -> Json:
    with store.lock:
        request_id = (params.get("links") or {}).get("billing_request", "")
        _find(store, "billing_requests", request_id)
        id = store.new_id("BRF")
        data: Json = {
            "id": id, "created_at": store.timestamp(store.today),
            "authorisation_url": f"{base_url.rstrip('/')}/flows/{id}",
            "redirect_uri": params.get("redirect_uri"), "exit_uri": params.get("exit_uri"),
            "expires_at": store.timestamp(store.today + timedelta(days=FLOW_LIFETIME_DAYS)),
            "auto_fulfil": True, "language": params.get("language"),
            "lock_bank_account": bool(params.get("lock_bank_account", False)),
            "lock_currency": bool(params.get("lock_currency", False)),
            "lock_customer_details": bool(params.get("lock_customer_details", False)),
            "prefilled_customer": params.get("prefilled_customer"),
            "prefilled_bank_account": params.get("prefilled_bank_account"),
            "session_token": None, "show_redirect_buttons": False,
            "show_success_redirect_button": False, "skip_success_screen": False,
            "customer_details_captured": False,
            "links": {"billing_request": request_id},
        }
        _table(store, "billing_request_flows")[id] = Resource(data)
        return data


def flow_and_request(store: Store, flow_id: str) -> tuple[Json, Json]:
    with store.lock:
        flow = _find(store, "billing_request_flows", flow_id).data
        return flow, _find(store, "billing_requests", flow["links"]["billing_request"]).data


def fulfil(store: Store, flow_id: str, bank: dict[str, Any], behaviour: str) -> Json:
    """The payer submitted the flow's page: bank account, mandate, request fulfilled."""
    try:
        chosen = Behaviour(behaviour or Behaviour.PAYS.value)
    except ValueError:
        raise errors.validation_failed("behaviour", "is not a simulator behaviour",
                                       resource="billing_requests") from None
    with store.lock:
        flow, request = flow_and_request(store, flow_id)
        if request["status"] != "pending":
            raise errors.invalid_state("billing_request_not_pending",
                                       f"This billing request is {request['status']}")
        wanted = request["mandate_request"]
        customer_id = request["links"]["customer"]
        account = store.create_bank_account(
            {**bank, "currency": wanted["currency"], "links": {"customer": customer_id}}, None)
        metadata = {**wanted["metadata"], "behaviour": chosen.value}
        mandate = store.create_mandate(
            {"scheme": wanted["scheme"], "metadata": dict(list(metadata.items())[-3:]),
             "links": {"customer_bank_account": account["id"]}}, None)
        request["status"] = "fulfilled"
        request["links"].update(mandate_request_mandate=mandate["id"],
                                customer_bank_account=account["id"])
        for action in request["actions"]:
            action["status"] = "completed"
        flow["customer_details_captured"] = True
        store.emit(resource_type="billing_requests", action="fulfilled", day=store.today,
                   links={"billing_request": request["id"], "customer": customer_id,
                          "customer_bank_account": account["id"],
                          "mandate_request_mandate": mandate["id"]},
                   details={"origin": "payer", "cause": "billing_request_fulfilled",
                            "description": "This billing request has been fulfilled and the "
                                           "resources have been created."},
                   resource_metadata=request["metadata"])
        return request
