"""GoCardless gateway: one method per provider call, domain outcomes only (never SDK objects).

Talks to GoCardless (or the simulator) through the official `gocardless_pro` SDK. Transient
faults (timeouts, dropped connections, 5xx, 429) are retried by tenacity with the *same*
idempotency key (the attempt id): GoCardless answers a repeated key with 409
`idempotent_creation_conflict` and the SDK then fetches the payment the first try created, so
a retry never creates a second payment. When the retries run out we cannot know whether the
payment exists: `Unknown`, and reconciliation (`find_payment`) decides.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from gocardless_pro import errors
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_base, wait_random_exponential

from adapters.gocardless_mapping import NEEDS_EVENTS, PaymentOutcome, payment_outcome
from adapters.gocardless_setups import GoCardlessSetups
from adapters.gocardless_transport import TRANSIENT, build_services, wait_retry_after
from domain.money import Money
from domain.outcomes import Declined, DeclineKind, NotFound, Pending, TransientFailure, Unknown

T = TypeVar("T")

#: Mandate statuses under which GoCardless accepts new payments.
USABLE_MANDATE = frozenset({"pending_customer_approval", "pending_submission", "submitted",
                            "active"})
#: Test bank details per currency (GoCardless sandbox values) for onboarding in simulations.
SANDBOX_BANK_DETAILS: dict[str, dict[str, str]] = {
    "EUR": {"iban": "FR1420041010050500013M02606", "country_code": "FR"},
    "GBP": {"account_number": "55779911", "branch_code": "200000", "country_code": "GB"},
    "USD": {"account_number": "2715500356", "bank_code": "026073150", "country_code": "US",
            "account_type": "checking"},
}


def _mandate_unusable(mandate_id: str, status: str) -> Declined:
    return Declined(DeclineKind.HARD, f"mandate_{status}", f"mandate {mandate_id} is {status}")


def _charge_date(wanted: date | None, earliest: str | None) -> date | None:
    """No earlier than the mandate's next possible charge date (GoCardless refuses earlier)."""
    if earliest is None:
        return wanted
    return max(wanted or date.fromisoformat(earliest), date.fromisoformat(earliest))


class GoCardlessGateway(GoCardlessSetups):
    """Direct debits on mandates (and mandate setups: adapters/gocardless_setups.py)."""

    def __init__(self, *, access_token: str, base_url: str, timeout: float = 10.0,
                 attempts: int = 4, wait: wait_base | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        """`wait`/`sleep` are injectable: tests pass `wait_none()` (or a recording `sleep`).

        The default wait honours `Retry-After` on a 429, else backs off exponentially.
        """
        self._api = build_services(access_token=access_token, base_url=base_url,
                                   timeout=timeout)
        self._attempts = attempts
        self._wait = wait or wait_retry_after(wait_random_exponential(multiplier=0.5, max=8))
        self._sleep = sleep

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        retrying = Retrying(stop=stop_after_attempt(self._attempts), wait=self._wait,
                            sleep=self._sleep, retry=retry_if_exception_type(TRANSIENT),
                            reraise=True)
        return retrying(fn, *args, **kwargs)

    # -- collecting ------------------------------------------------------------------------
    def collect(self, *, attempt_id: str, mandate_id: str, amount: Money, invoice_id: str,
                account_id: str, charge_date: date | None = None,
                ) -> Pending | Declined | TransientFailure | Unknown:
        """Create a payment for `amount` on `mandate_id`, idempotently keyed by `attempt_id`.

        Returns: Pending (created, or already created by an earlier try with this key);
        Declined(HARD) if the mandate is unusable (no payment created); TransientFailure if
        GoCardless could not be reached before the create (nothing created); Unknown if the
        create's retries ran out (reconcile with `find_payment`).
        Raises: ValueError for a non-positive amount; the SDK's ApiError for requests
        GoCardless rejects as invalid (a bug on our side, not a decline).
        """
        if not amount.is_positive():
            raise ValueError(f"cannot collect {amount}")
        for _ in range(2):  # twice: the next possible charge date can move under us
            wanted: date | None = None
            if charge_date is not None:
                # Only a wanted date needs the mandate first (GoCardless refuses a date before
                # its next possible one); without one GoCardless collects as soon as it can,
                # and an unusable mandate is refused by the create itself.
                try:
                    mandate = self._call(self._api["mandates"].get, mandate_id).attributes
                except TRANSIENT as exc:
                    return TransientFailure(f"mandate lookup failed: {exc}")
                except errors.InvalidApiUsageError as exc:
                    if exc.code == 404:
                        return Declined(DeclineKind.HARD, "mandate_not_found", str(exc))
                    raise
                if mandate["status"] not in USABLE_MANDATE:
                    return _mandate_unusable(mandate_id, str(mandate["status"]))
                wanted = _charge_date(charge_date, mandate.get("next_possible_charge_date"))
            params: dict[str, Any] = {
                "amount": amount.minor, "currency": amount.currency,
                "metadata": {"attempt_id": attempt_id, "invoice_id": invoice_id,
                             "account_id": account_id},
                "links": {"mandate": mandate_id}}
            if wanted is not None:
                params["charge_date"] = wanted.isoformat()
            try:
                payment = self._call(self._api["payments"].create, params=params,
                                     headers={"Idempotency-Key": attempt_id}).attributes
            except TRANSIENT as exc:
                return Unknown(f"payment create for {attempt_id}: {exc}")
            except errors.InvalidStateError as exc:
                reason = str((exc.errors or [{}])[0].get("reason", "invalid_state"))
                if reason == "mandate_is_inactive":
                    return self._inactive_mandate(mandate_id, exc)
                return Declined(DeclineKind.HARD, reason, str(exc))
            except errors.InvalidApiUsageError as exc:
                if exc.code == 404:
                    return Declined(DeclineKind.HARD, "mandate_not_found", str(exc))
                raise
            except errors.ValidationFailedError as exc:
                if any(e.get("field") == "charge_date" for e in exc.errors or []):
                    continue
                raise
            return Pending(str(payment["id"]), amount, date.fromisoformat(payment["charge_date"]))
        return Unknown(f"charge date kept moving for {attempt_id}")

    def _inactive_mandate(self, mandate_id: str, refused: Exception) -> Declined:
        """A create refused for an inactive mandate: say which state it is in (cancelled,
        failed, expired…) when GoCardless answers, for the operator and the customer notice."""
        try:
            status = str(self._call(self._api["mandates"].get, mandate_id).attributes["status"])
        except (*TRANSIENT, errors.GoCardlessProError):
            return Declined(DeclineKind.HARD, "mandate_is_inactive", str(refused))
        return _mandate_unusable(mandate_id, status)

    # -- reading back ----------------------------------------------------------------------
    def payment_status(self, *, provider_ref: str) -> PaymentOutcome | TransientFailure:
        """Where a payment stands (see adapters/gocardless_mapping.py for the mapping)."""
        try:
            payment = self._call(self._api["payments"].get, provider_ref).attributes
            return self._outcome(payment)
        except TRANSIENT as exc:
            return TransientFailure(f"payment lookup failed: {exc}")

    def find_payment(self, *, attempt_id: str, mandate_id: str | None = None,
                     ) -> PaymentOutcome | NotFound | TransientFailure:
        """Reconciliation: the payment whose metadata names `attempt_id`, if GoCardless has one.

        GoCardless cannot filter by metadata, so this pages through payments: first those of
        `mandate_id` when given (short), then, if none matches, all of them. NotFound lets
        the caller charge again, so it is answered only after the full search (the attempt
        may have been made on an earlier mandate than the one given).
        """
        try:
            # Pages of 500 (GoCardless's largest): the full search is what a lookup of an
            # attempt that never reached GoCardless costs (a worker killed with a batch
            # claimed strands up to a batch of those), ten times fewer requests than at 50.
            searches = ({"mandate": mandate_id, "limit": "500"}, {"limit": "500"}) \
                if mandate_id else ({"limit": "500"},)
            for params in searches:
                payments = self._call(lambda p=params: [
                    payment.attributes for payment in self._api["payments"].all(params=p)])
                for payment in payments:
                    if (payment.get("metadata") or {}).get("attempt_id") == attempt_id:
                        return self._outcome(payment)
        except TRANSIENT as exc:
            return TransientFailure(f"payment search failed: {exc}")
        return NotFound()

    def _outcome(self, payment: dict[str, Any]) -> PaymentOutcome:
        events: list[dict[str, Any]] = []
        if payment["status"] in NEEDS_EVENTS:
            events = self._call(lambda: [e.attributes for e in self._api["events"].all(
                params={"payment": payment["id"]})])
        return payment_outcome(payment, events)

    # -- mandates --------------------------------------------------------------------------
    def setup_mandate(self, *, account_id: str, name: str, email: str, scheme: str,
                      currency: str, behaviour: str | None = None) -> tuple[str, str]:
        """Onboard a payer (customer, bank account, mandate): `(customer_id, mandate_id)`.

        `behaviour` goes into the mandate's metadata: the simulator reads it (see
        adapters/simulators/gocardless/behaviours.py); real GoCardless just stores it.
        """
        key = uuid.uuid4().hex  # one key per onboarding: retries reuse it, a new one does not
        customer = self._call(self._api["customers"].create, params={
            "email": email, "company_name": name, "metadata": {"account_id": account_id}},
            headers={"Idempotency-Key": f"{key}-customer"}).attributes
        bank_account = self._call(self._api["customer_bank_accounts"].create, params={
            "account_holder_name": name, "currency": currency, **SANDBOX_BANK_DETAILS[currency],
            "links": {"customer": customer["id"]}},
            headers={"Idempotency-Key": f"{key}-bank-account"}).attributes
        metadata = {"account_id": account_id}
        if behaviour:
            metadata["behaviour"] = behaviour
        mandate = self._call(self._api["mandates"].create, params={
            "scheme": scheme, "metadata": metadata,
            "links": {"customer_bank_account": bank_account["id"]}},
            headers={"Idempotency-Key": f"{key}-mandate"}).attributes
        return str(customer["id"]), str(mandate["id"])

    def mandate_status(self, *, mandate_id: str) -> str:
        """The mandate's GoCardless status (`active`, `cancelled`, `failed`, `expired`…)."""
        return str(self._call(self._api["mandates"].get, mandate_id).attributes["status"])
