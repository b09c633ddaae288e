"""The simulator's thread-safe in-memory store: the API operations and the clock's advance.

Every public method takes the one lock: the ASGI handlers, `advance_to` from the scenario
runner's thread and the real-time ticker all call in.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from adapters.simulators.gocardless import errors, timeline
from adapters.simulators.gocardless.behaviours import (
    PLAIN,
    SCHEME_FOR_CURRENCY,
    SCHEMES,
    Behaviour,
)
from adapters.simulators.gocardless.records import Json, Resource, StoreBase, check_metadata, page

#: Mandate statuses that still allow new payments.
USABLE_MANDATE = ("pending_customer_approval", "pending_submission", "submitted", "active")


def _behaviour(*sources: Json) -> Behaviour:
    for metadata in sources:
        if "behaviour" in metadata:
            try:
                return Behaviour(metadata["behaviour"])
            except ValueError:
                raise errors.validation_failed(
                    "metadata", f"behaviour must be one of {[b.value for b in Behaviour]}",
                    resource="mandates") from None
    return Behaviour.PAYS


class Store(StoreBase):
    # -- the clock -------------------------------------------------------------------------
    def advance_to(self, today: date) -> int:
        """Move to `today` (never backwards); apply every due transition. Returns events made."""
        with self.lock:
            before = len(self.events)
            self.today = max(self.today, today)
            while (due := self.pop_due(self.today)) is not None:
                timeline.apply(self, *due)
            return len(self.events) - before

    # -- customers and bank accounts -------------------------------------------------------
    def create_customer(self, params: Json, key: str | None) -> Json:
        with self.lock:
            self.check_idempotency("customers", key)
            data: Json = {k: params.get(k) for k in ("email", "given_name", "family_name",
                                               "company_name", "country_code", "language")}
            data.update(id=self.new_id("CU"), created_at=self.timestamp(self.today),
                        metadata=check_metadata(params.get("metadata"), resource="customers"))
            self.resources["customers"][data["id"]] = Resource(data)
            self.remember_key("customers", key, data["id"])
            return data

    def create_bank_account(self, params: Json, key: str | None) -> Json:
        with self.lock:
            self.check_idempotency("customer_bank_accounts", key)
            customer_id = (params.get("links") or {}).get("customer", "")
            self.find("customers", customer_id)
            currency = params.get("currency") or "EUR"
            if currency not in SCHEME_FOR_CURRENCY:
                raise errors.validation_failed("currency", "is not supported",
                                               resource="customer_bank_accounts")
            number = str(params.get("iban") or params.get("account_number") or "00000000")
            data: Json = {"id": self.new_id("BA"), "created_at": self.timestamp(self.today),
                    "account_holder_name": params.get("account_holder_name"),
                    "account_number_ending": number[-2:], "bank_name": "SIMULATED BANK",
                    "country_code": params.get("country_code"), "currency": currency,
                    "enabled": True, "links": {"customer": customer_id},
                    "metadata": check_metadata(params.get("metadata"),
                                               resource="customer_bank_accounts")}
            self.resources["customer_bank_accounts"][data["id"]] = Resource(data)
            self.remember_key("customer_bank_accounts", key, data["id"])
            return data

    # -- mandates --------------------------------------------------------------------------
    def create_mandate(self, params: Json, key: str | None) -> Json:
        with self.lock:
            self.check_idempotency("mandates", key)
            account = self.find("customer_bank_accounts",
                                (params.get("links") or {}).get("customer_bank_account", ""))
            scheme = params.get("scheme") or SCHEME_FOR_CURRENCY[account.data["currency"]]
            if SCHEMES.get(scheme, None) is None or SCHEMES[scheme].currency != account.data[
                    "currency"]:
                raise errors.validation_failed("scheme", "does not match the bank account",
                                               resource="mandates")
            metadata = check_metadata(params.get("metadata"), resource="mandates")
            customer_id = account.data["links"]["customer"]
            behaviour = _behaviour(metadata, self.find("customers", customer_id).data["metadata"])
            data: Json = {"id": self.new_id("MD"), "created_at": self.timestamp(self.today),
                    "reference": params.get("reference") or f"SIM-{len(self.events):06d}",
                    "scheme": scheme, "status": "pending_submission", "metadata": metadata,
                    "payments_require_approval": False, "mandate_type": "bank_debit",
                    "links": {"creditor": "CR000000000001", "customer": customer_id,
                              "customer_bank_account": account.data["id"]}}
            mandate = Resource(data, behaviour=behaviour, scheme=scheme)
            self.resources["mandates"][data["id"]] = mandate
            self.remember_key("mandates", key, data["id"])
            self.mandate_event(mandate, "created", self.today, PLAIN["mandate_created"])
            timeline.plan_mandate(self, mandate, created_on=self.today)
            return self.render_mandate(mandate)

    def get_mandate(self, mandate_id: str) -> Json:
        with self.lock:
            return self.render_mandate(self.find("mandates", mandate_id))

    def list_mandates(self, params: dict[str, str]) -> Json:
        with self.lock:
            items = [self.render_mandate(m) for m in self.resources["mandates"].values()
                     if _matches(m.data, params, customer="links.customer", status="status")]
            return page(items, params)

    def cancel_mandate(self, mandate_id: str) -> Json:
        with self.lock:
            mandate = self.find("mandates", mandate_id)
            if mandate.data["status"] == "cancelled":
                raise errors.invalid_state("cancellation_failed",
                                           "Mandate is already cancelled")
            timeline.cancel_mandate(self, mandate, self.today,
                                    mandate_details=PLAIN["mandate_cancelled"],
                                    payment_details=PLAIN["payment_mandate_cancelled"])
            return self.render_mandate(mandate)

    def reinstate_mandate(self, mandate_id: str) -> Json:
        with self.lock:
            mandate = self.find("mandates", mandate_id)
            if mandate.data["status"] not in ("cancelled", "expired"):
                raise errors.invalid_state("mandate_not_inactive",
                                           "Mandate is already active or being submitted")
            timeline.set_status(mandate, "pending_submission")
            self.mandate_event(mandate, "resubmission_requested", self.today,
                               PLAIN["mandate_resubmission"])
            timeline.plan_mandate(self, mandate, created_on=self.today)
            return self.render_mandate(mandate)

    # -- payments --------------------------------------------------------------------------
    def create_payment(self, params: Json, key: str | None) -> Json:
        with self.lock:
            self.check_idempotency("payments", key)
            mandate = self.find("mandates", (params.get("links") or {}).get("mandate", ""))
            if mandate.data["status"] not in USABLE_MANDATE:
                raise errors.invalid_state("mandate_is_inactive",
                                           "The mandate is cancelled, failed or expired")
            amount, currency = params.get("amount"), params.get("currency")
            if type(amount) is not int or amount <= 0:
                raise errors.validation_failed("amount", "must be a positive integer",
                                               resource="payments")
            if currency != SCHEMES[mandate.scheme].currency:
                raise errors.validation_failed("currency", "must match the mandate's scheme",
                                               resource="payments")
            charge_date = self._charge_date(mandate, params.get("charge_date"))
            data: Json = {"id": self.new_id("PM"), "created_at": self.timestamp(self.today),
                    "amount": amount, "amount_refunded": 0, "currency": currency,
                    "charge_date": charge_date.isoformat(),
                    "description": params.get("description"),
                    "reference": params.get("reference"),
                    "metadata": check_metadata(params.get("metadata"), resource="payments"),
                    "retry_if_possible": bool(params.get("retry_if_possible", False)),
                    "scheme": mandate.scheme, "status": "pending_submission",
                    "links": {"mandate": mandate.data["id"], "creditor": "CR000000000001"}}
            payment = Resource(data, behaviour=mandate.behaviour, scheme=mandate.scheme,
                               reached={"pending_submission"},
                               auto_retries_left=self.auto_retries)
            self.resources["payments"][data["id"]] = payment
            self.payments_by_mandate.setdefault(mandate.data["id"], []).append(data["id"])
            self.remember_key("payments", key, data["id"])
            self.payment_event(payment, "created", self.today, PLAIN["payment_created"])
            timeline.plan(self, payment, created_on=self.today)
            return data

    def _charge_date(self, mandate: Resource, requested: Any) -> date:
        earliest = self.next_possible_charge_date(mandate) or self.today
        if requested is None:
            return earliest
        try:
            wanted = date.fromisoformat(str(requested))
        except ValueError:
            raise errors.validation_failed("charge_date", "must be a date (YYYY-MM-DD)",
                                           resource="payments") from None
        if wanted < earliest:
            raise errors.validation_failed(
                "charge_date", f"must be on or after mandate's next_possible_charge_date "
                f"({earliest.isoformat()})", resource="payments")
        return wanted

    def get_payment(self, payment_id: str) -> Json:
        with self.lock:
            return self.find("payments", payment_id).data

    def list_payments(self, params: dict[str, str]) -> Json:
        with self.lock:
            customer = params.get("customer")
            items = [p.data for p in self.resources["payments"].values()
                     if _matches(p.data, params, mandate="links.mandate", status="status")
                     and (customer is None or self.resources["mandates"][
                         p.data["links"]["mandate"]].data["links"]["customer"] == customer)]
            return page(items, params)

    def cancel_payment(self, payment_id: str) -> Json:
        with self.lock:
            payment = self.find("payments", payment_id)
            if payment.data["status"] != "pending_submission":
                raise errors.invalid_state("cancellation_failed",
                                           "Only pending_submission payments can be cancelled")
            timeline.set_status(payment, "cancelled")
            self.unschedule(payment)
            self.payment_event(payment, "cancelled", self.today, PLAIN["payment_cancelled"])
            return payment.data

    def retry_payment(self, payment_id: str, params: Json) -> Json:
        with self.lock:
            payment = self.find("payments", payment_id)
            mandate = self.resources["mandates"][payment.data["links"]["mandate"]]
            if payment.data["status"] != "failed" or mandate.data["status"] not in USABLE_MANDATE:
                raise errors.invalid_state("retry_failed", "Only failed payments on a usable "
                                                           "mandate can be retried")
            charge_date = self._charge_date(mandate, params.get("charge_date"))
            timeline.resubmit(self, payment, self.today, PLAIN["payment_retried"], charge_date)
            return payment.data

    # -- events ----------------------------------------------------------------------------
    def list_events(self, params: dict[str, str]) -> Json:
        with self.lock:
            items = [e for e in self.events
                     if _matches(e, params, payment="links.payment", mandate="links.mandate",
                                 resource_type="resource_type", action="action")]
            return page(items, params)

    def get_event(self, event_id: str) -> Json:
        with self.lock:
            event = self.events_by_id.get(event_id)
            if event is None:
                raise errors.not_found(f"events/{event_id}")
            return event

    # -- admin -----------------------------------------------------------------------------
    def stats(self) -> Json:
        with self.lock:
            invoices: dict[str, Counter[str]] = {}
            for payment in self.resources["payments"].values():
                invoice_id = payment.data["metadata"].get("invoice_id", "")
                counts = invoices.setdefault(invoice_id, Counter())
                counts["payments"] += 1
                counts.update(payment.reached - {"pending_submission"})
            statuses = Counter(p.data["status"] for p in self.resources["payments"].values())
            return {"today": self.today.isoformat(),
                    "customers": len(self.resources["customers"]),
                    "mandates": len(self.resources["mandates"]),
                    "payments": {"total": sum(statuses.values()), "by_status": dict(statuses)},
                    "invoices": {k: dict(v) for k, v in invoices.items()},
                    "events": len(self.events), **self.counters}


def _matches(data: Json, params: dict[str, str], **fields: str) -> bool:
    """Filter by query parameters: each name maps to a dotted path in the resource."""
    for name, path in fields.items():
        if name in params:
            value: Any = data
            for part in path.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value != params[name]:
                return False
    return True
