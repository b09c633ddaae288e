"""GoCardless calls that put a mandate on file: a Billing Request with a mandate request, its
hosted Billing Request Flow, and reading back what the payer set up (mandate, bank account).

Mixed into `GoCardlessGateway` (it provides `_api` and `_call`, which retries transient faults);
one method per provider call, answers in domain values. Unreachable or refusing: raises
`ProviderUnavailable`. Bank accounts come back as GoCardless shows them (holder, the last
digits, country): we never see, store or log a full IBAN or account number.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from gocardless_pro import errors

from adapters.gocardless_transport import TRANSIENT
from domain.setups import MandateOnFile, ProviderUnavailable, SetupIncomplete, SetupSession

T = TypeVar("T")


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class GoCardlessSetups:
    _api: dict[str, Any]
    _call: Callable[..., Any]

    def _setup_call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            result: T = self._call(fn, *args, **kwargs)
        except (*TRANSIENT, errors.GoCardlessProError) as exc:
            raise ProviderUnavailable(f"GoCardless {what} failed: {type(exc).__name__}: "
                                      f"{exc}") from exc
        return result

    def start_direct_debit_setup(self, *, setup_id: str, account_id: str, scheme: str,
                                 customer: str | None, name: str, email: str | None,
                                 redirect_uri: str, exit_uri: str) -> SetupSession:
        """A Billing Request for a mandate on `scheme`, and the flow the payer opens."""
        metadata = {"setup_id": setup_id, "account_id": account_id}
        params: dict[str, Any] = {"mandate_request": {"scheme": scheme, "metadata": metadata},
                                  "metadata": metadata}
        if customer:
            params["links"] = {"customer": customer}
        request = self._setup_call(
            "billing request create", self._api["billing_requests"].create, params=params,
            headers={"Idempotency-Key": f"paycollect-{setup_id}"}).attributes
        prefilled = {"company_name": name, **({"email": email} if email else {})}
        flow = self._setup_call(
            "billing request flow create", self._api["billing_request_flows"].create,
            params={"redirect_uri": redirect_uri, "exit_uri": exit_uri,
                    "prefilled_customer": prefilled,
                    "links": {"billing_request": request["id"]}}).attributes
        return SetupSession(provider_ref=str(request["id"]),
                            url=str(flow["authorisation_url"]),
                            customer=str(request["links"]["customer"]),
                            expires_at=_instant(flow.get("expires_at")))

    def mandate_of_billing_request(self, *, billing_request_id: str
                                   ) -> MandateOnFile | SetupIncomplete:
        request = self._setup_call("billing request read", self._api["billing_requests"].get,
                                   billing_request_id).attributes
        links = request.get("links") or {}
        mandate_id = links.get("mandate_request_mandate")
        if request.get("status") != "fulfilled" or not mandate_id:
            return SetupIncomplete(f"billing request {billing_request_id} is "
                                   f"{request.get('status')}")
        mandate = self._setup_call("mandate read", self._api["mandates"].get,
                                   mandate_id).attributes
        account = self._setup_call(
            "bank account read", self._api["customer_bank_accounts"].get,
            mandate["links"]["customer_bank_account"]).attributes
        return MandateOnFile(mandate=str(mandate_id), customer=str(mandate["links"]["customer"]),
                             scheme=str(mandate["scheme"]),
                             account_holder=account.get("account_holder_name"),
                             account_number_ending=str(account.get("account_number_ending")
                                                       or ""),
                             country_code=account.get("country_code"),
                             bank_name=account.get("bank_name"))
