"""Applying one due transition to a mandate or a payment, and the cancellations it can cause."""

from __future__ import annotations

from datetime import date

from adapters.simulators.gocardless.behaviours import (
    CHARGEBACKS,
    FAILURES,
    MANDATE_CANCELLED_BY_BANK,
    MANDATE_CLOSED,
    PAYMENT_CANCELLED_ACCOUNT_CLOSED,
    PAYMENT_CANCELLED_BY_BANK,
    PLAIN,
    SCHEMES,
    Behaviour,
    Details,
    Step,
    plan_payment,
)
from adapters.simulators.gocardless.records import Resource, StoreBase

#: GoCardless (with intelligent retries) retries a soft failure a few days later.
AUTO_RETRY_AFTER_DAYS = 3

#: Transitions that change a payment's status, and to what.
_STATUS = {"submitted": "submitted", "confirmed": "confirmed", "paid_out": "paid_out",
           "failed": "failed", "late_failure": "failed", "charged_back": "charged_back"}


def set_status(resource: Resource, status: str) -> None:
    resource.data["status"] = status
    resource.reached.add(status)


def plan(store: StoreBase, payment: Resource, *, created_on: date) -> None:
    charge_date = date.fromisoformat(payment.data["charge_date"])
    store.schedule("payments", payment, plan_payment(
        behaviour=payment.behaviour, scheme=payment.scheme, charge_date=charge_date,
        created_on=created_on, shift=store.shift))


def plan_mandate(store: StoreBase, mandate: Resource, *, created_on: date) -> None:
    store.schedule("mandates", mandate, [Step(store.shift(created_on, 1), "submitted"),
                                         Step(store.shift(created_on, 2), "active")])


def cancel_mandate(store: StoreBase, mandate: Resource, day: date, *, mandate_details: Details,
                   payment_details: Details) -> None:
    """Cancel a mandate and every payment on it not yet submitted to the banks."""
    if mandate.data["status"] == "cancelled":
        return
    set_status(mandate, "cancelled")
    store.unschedule(mandate)
    store.mandate_event(mandate, "cancelled", day, mandate_details)
    for payment_id in store.payments_by_mandate.get(mandate.data["id"], []):
        payment = store.resources["payments"][payment_id]
        if payment.data["status"] == "pending_submission":
            set_status(payment, "cancelled")
            store.unschedule(payment)
            store.payment_event(payment, "cancelled", day, payment_details)


def apply(store: StoreBase, on: date, kind: str, resource: Resource, action: str) -> None:
    if kind == "mandates":
        set_status(resource, action)
        cause = "mandate_submitted" if action == "submitted" else "mandate_activated"
        store.mandate_event(resource, action, on, PLAIN[cause])
        return
    _payment_step(store, on, resource, action)


def _payment_step(store: StoreBase, on: date, payment: Resource, action: str) -> None:
    scheme = payment.scheme
    mandate = store.resources["mandates"][payment.data["links"]["mandate"]]
    if action in _STATUS:
        set_status(payment, _STATUS[action])
    if action in ("submitted", "confirmed"):
        store.payment_event(payment, action, on, PLAIN[f"payment_{action}"])
    elif action == "paid_out":
        payment.data["links"]["payout"] = store.new_id("PO")
        store.payment_event(payment, action, on, PLAIN["payment_paid_out"])
    elif action == "failed":
        details = FAILURES[(payment.behaviour, scheme)]
        closed = payment.behaviour is Behaviour.FAILS_BANK_ACCOUNT_CLOSED
        retry = not closed and payment.auto_retries_left > 0
        store.payment_event(payment, "failed", on, details, will_attempt_retry=retry)
        if retry:
            payment.auto_retries_left -= 1
            store.schedule("payments", payment,
                           [Step(store.shift(on, AUTO_RETRY_AFTER_DAYS), "autoretry")])
        if closed:
            cancel_mandate(store, mandate, on, mandate_details=MANDATE_CLOSED[scheme],
                           payment_details=PAYMENT_CANCELLED_ACCOUNT_CLOSED[scheme])
    elif action == "autoretry":
        resubmit(store, payment, on, PLAIN["payment_autoretried"],
                 store.shift(on, SCHEMES[scheme].lead_days))
    elif action == "late_failure":
        store.payment_event(payment, "failed", on, FAILURES[(Behaviour.LATE_FAILURE, scheme)],
                            will_attempt_retry=False)
    elif action == "charged_back":
        store.payment_event(payment, "charged_back", on, CHARGEBACKS[scheme])
    elif action in ("late_failure_settled", "chargeback_settled"):
        store.payment_event(payment, action, on, PLAIN[action])
    elif action == "mandate_cancelled":
        cancel_mandate(store, mandate, on, mandate_details=MANDATE_CANCELLED_BY_BANK[scheme],
                       payment_details=PAYMENT_CANCELLED_BY_BANK[scheme])


def resubmit(store: StoreBase, payment: Resource, day: date, details: Details,
             charge_date: date) -> None:
    """A failed payment goes round again (API retry or GoCardless's automatic retry)."""
    set_status(payment, "pending_submission")
    payment.data["charge_date"] = charge_date.isoformat()
    store.payment_event(payment, "resubmission_requested", day, details)
    plan(store, payment, created_on=day)
