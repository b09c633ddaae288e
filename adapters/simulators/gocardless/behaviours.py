"""What happens to a direct debit, day by day: scheme timings and per-mandate behaviours.

A mandate is created with one behaviour (mandate `metadata.behaviour`, else the customer's
`metadata.behaviour`, else `pays`); every payment on it follows that behaviour's timeline,
planned from its charge date D with the scheme's timing (working days unless the simulator
runs in real-time mode, where every day counts):

- pays: submitted at D-submit_before (not before the day after creation), confirmed at
  D+confirm_after, paid_out payout_after later.
- fails_insufficient_funds: submitted, then failed at D+confirm_after (a soft cause).
- fails_bank_account_closed: submitted, then failed at D+confirm_after; the mandate is
  cancelled too, with the payments still waiting on it.
- late_failure: submitted, confirmed, failed late_failure_after later, late_failure_settled +1.
- charged_back: submitted, confirmed, paid_out, charged_back chargeback_after later,
  chargeback_settled +1.
- mandate_cancelled: on the payment's submission day the payer's bank cancels the mandate; the
  mandate and its pending payments are cancelled (cause mandate_cancelled).

The (origin, cause, scheme, reason_code, description) values are taken from GoCardless's event
actions reference (tests/fixtures/providers/gocardless_event_actions_catalog.json; a test checks
every entry below against it). For Bacs and ACH the bank reports insufficient funds as
`refer_to_payer` (ARUDD-0, ACH R01); only SEPA has the `insufficient_funds` cause (AM04).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any


class Behaviour(enum.StrEnum):
    PAYS = "pays"
    FAILS_INSUFFICIENT_FUNDS = "fails_insufficient_funds"
    FAILS_BANK_ACCOUNT_CLOSED = "fails_bank_account_closed"
    LATE_FAILURE = "late_failure"
    CHARGED_BACK = "charged_back"
    MANDATE_CANCELLED = "mandate_cancelled"


@dataclass(frozen=True, slots=True)
class SchemeTiming:
    """Approximate scheme durations, in (working) days. Roughly like reality, compressed for
    chargebacks (a SEPA payer may dispute for 8 weeks; we take `chargeback_after` days)."""

    currency: str
    #: next_possible_charge_date = today + lead_days.
    lead_days: int
    #: GoCardless submits a payment to the banks this many days before its charge date.
    submit_before: int
    #: The banks' window to return it ends this many days after the charge date.
    confirm_after: int
    payout_after: int
    late_failure_after: int
    chargeback_after: int


SCHEMES: dict[str, SchemeTiming] = {
    "sepa_core": SchemeTiming("EUR", lead_days=2, submit_before=1, confirm_after=2,
                              payout_after=1, late_failure_after=2, chargeback_after=5),
    "bacs": SchemeTiming("GBP", lead_days=3, submit_before=3, confirm_after=1,
                         payout_after=1, late_failure_after=2, chargeback_after=5),
    "ach": SchemeTiming("USD", lead_days=3, submit_before=2, confirm_after=2,
                        payout_after=1, late_failure_after=2, chargeback_after=5),
}

#: Bank account currency → the scheme its mandates use.
SCHEME_FOR_CURRENCY = {timing.currency: scheme for scheme, timing in SCHEMES.items()}


@dataclass(frozen=True, slots=True)
class Details:
    origin: str
    cause: str
    description: str
    reason_code: str | None = None

    def as_json(self, scheme: str | None = None, **extra: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"origin": self.origin, "cause": self.cause,
                               "description": self.description}
        if self.reason_code is not None:
            out["scheme"] = scheme
            out["reason_code"] = self.reason_code
        out.update(extra)
        return out


def _bank(cause: str, reason_code: str, description: str) -> Details:
    return Details("bank", cause, description, reason_code)


#: payments/failed (and the late failure) details per (behaviour, scheme).
FAILURES: dict[tuple[Behaviour, str], Details] = {
    (Behaviour.FAILS_INSUFFICIENT_FUNDS, "sepa_core"): _bank(
        "insufficient_funds", "AM04",
        "The customer's account had insufficient funds to make this payment."),
    (Behaviour.FAILS_INSUFFICIENT_FUNDS, "bacs"): _bank(
        "refer_to_payer", "ARUDD-0",
        "The customer's bank wasn't able to pay the Direct Debit. This is almost always due "
        "to insufficient funds but is occasionally used as a catch-all for other failures."),
    (Behaviour.FAILS_INSUFFICIENT_FUNDS, "ach"): _bank(
        "refer_to_payer", "ACH_RETURN-R01",
        "The customer's account had insufficient funds to make this payment."),
    (Behaviour.FAILS_BANK_ACCOUNT_CLOSED, "sepa_core"): _bank(
        "bank_account_closed", "AC04",
        "The bank account for this payment has been closed. The mandate will also be "
        "cancelled."),
    (Behaviour.FAILS_BANK_ACCOUNT_CLOSED, "bacs"): _bank(
        "bank_account_closed", "ARUDD-B",
        "The customer closed their account before the payment could be taken. The mandate "
        "will also be cancelled or failed."),
    (Behaviour.FAILS_BANK_ACCOUNT_CLOSED, "ach"): _bank(
        "bank_account_closed", "ACH_RETURN-R02",
        "The bank account for this payment has been closed. The mandate will also be "
        "cancelled."),
}
for _scheme in SCHEMES:
    FAILURES[(Behaviour.LATE_FAILURE, _scheme)] = FAILURES[
        (Behaviour.FAILS_INSUFFICIENT_FUNDS, _scheme)]

#: mandates/cancelled when a payment failed because the bank account was closed.
MANDATE_CLOSED: dict[str, Details] = {
    "sepa_core": _bank("bank_account_closed", "AC04",
                       "The bank account for this mandate has been closed. Any subscriptions "
                       "and pending payment will also be cancelled."),
    "bacs": _bank("bank_account_closed", "ARUDD-B",
                  "The bank account for this mandate has been closed."),
    "ach": _bank("bank_account_closed", "ACH_RETURN-R02",
                 "The bank account for this mandate has been closed."),
}

#: mandates/cancelled by the payer at their bank (behaviour mandate_cancelled).
MANDATE_CANCELLED_BY_BANK: dict[str, Details] = {
    "sepa_core": _bank("mandate_cancelled", "MD01",
                       "A payment under this mandate failed indicating that the mandate has "
                       "been cancelled at the customer's bank. Any subscriptions and pending "
                       "payments will also be cancelled."),
    "bacs": _bank("mandate_cancelled", "ADDACS-1", "The mandate was cancelled at a bank branch."),
    "ach": _bank("mandate_cancelled", "ACH_RETURN-R07",
                 "The mandate was cancelled at a bank branch."),
}

#: payments/cancelled because the payer's bank cancelled the mandate.
PAYMENT_CANCELLED_BY_BANK: dict[str, Details] = {
    "sepa_core": _bank("mandate_cancelled", "MD01",
                       "This payment has been cancelled because the payer disputes authorising "
                       "its mandate."),
    "bacs": _bank("mandate_cancelled", "ADDACS-1",
                  "The mandate for this payment was cancelled at a bank branch."),
    "ach": _bank("mandate_cancelled", "ACH_RETURN-R07",
                 "This payment has been cancelled because its mandate was cancelled."),
}

#: payments/cancelled because the payer's bank account was closed (behaviour
#: fails_bank_account_closed cancels the mandate and the payments still waiting on it).
PAYMENT_CANCELLED_ACCOUNT_CLOSED: dict[str, Details] = {
    "sepa_core": _bank("bank_account_closed", "AC04",
                       "This payment has been cancelled because the bank account it was going "
                       "to be taken from has been closed."),
    "bacs": _bank("bank_account_closed", "ADDACS-B",
                  "The mandate for this payment was cancelled as the customer's bank account has "
                  "been closed."),
    "ach": _bank("bank_account_closed", "ACH_RETURN-R02",
                 "This payment has been cancelled because the bank account it was going to be "
                 "taken from has been closed."),
}

#: payments/charged_back details per scheme.
CHARGEBACKS: dict[str, Details] = {
    "sepa_core": _bank("refund_requested", "MD06",
                       "This payment was charged back by the customer's bank at the customer's "
                       "request within the 8 week cool-off period."),
    "bacs": _bank("authorisation_disputed", "DDICA-5",
                  "The customer disputes having authorised you to set up a mandate with them."),
    "ach": _bank("refund_requested", "ACH_RETURN-R16",
                 "This payment was charged back by the customer's bank at the customer's "
                 "request within the 8 week cool-off period."),
}

#: Details of the events with no scheme-specific reason.
PLAIN: dict[str, Details] = {
    "payment_created": Details("api", "payment_created", "Payment created via the API."),
    "payment_submitted": Details("gocardless", "payment_submitted",
                                 "Payment submitted to the banks. As a result it can no longer "
                                 "be cancelled."),
    "payment_confirmed": Details("gocardless", "payment_confirmed",
                                 "Enough time has passed since the payment was submitted for the "
                                 "banks to return an error so this payment is now confirmed."),
    "payment_paid_out": Details("gocardless", "payment_paid_out",
                                "The payment has been paid out by GoCardless."),
    "late_failure_settled": Details("gocardless", "late_failure_settled",
                                    "This late failed payment has been settled against a "
                                    "payout."),
    "chargeback_settled": Details("gocardless", "chargeback_settled",
                                  "This charged back payment has been settled against a payout."),
    "payment_cancelled": Details("api", "payment_cancelled",
                                 "This payment was cancelled at your request."),
    "payment_mandate_cancelled": Details("api", "mandate_cancelled",
                                         "The mandate for this payment was cancelled at your "
                                         "request."),
    "payment_retried": Details("api", "payment_retried",
                               "An attempt to retry this payment was requested."),
    "payment_autoretried": Details("gocardless", "payment_autoretried",
                                   "The payment was scheduled for resubmission automatically by "
                                   "GoCardless."),
    "mandate_created": Details("api", "mandate_created", "Mandate created via the API."),
    "mandate_submitted": Details("gocardless", "mandate_submitted",
                                 "The mandate has been submitted to the banks."),
    "mandate_activated": Details("gocardless", "mandate_activated",
                                 "The time window after submission for the banks to refuse a "
                                 "mandate has ended without any errors being received so this "
                                 "mandate is now active."),
    "mandate_cancelled": Details("api", "mandate_cancelled",
                                 "The mandate was cancelled at your request."),
    "mandate_resubmission": Details("api", "resubmission_requested",
                                    "An attempt to reinstate this mandate was requested."),
}


@dataclass(frozen=True, slots=True)
class Step:
    """One transition due on `on`: submitted, confirmed, paid_out, failed, late_failure,
    late_failure_settled, charged_back, chargeback_settled or mandate_cancelled."""

    on: date
    action: str


Shift = Callable[[date, int], date]


def shift_days(*, working_days: bool) -> Shift:
    """Move a date by n days; with `working_days`, Saturdays and Sundays do not count."""
    def shift(day: date, n: int) -> date:
        if not working_days:
            return day + timedelta(days=n)
        step = 1 if n >= 0 else -1
        for _ in range(abs(n)):
            day += timedelta(days=step)
            while day.weekday() >= 5:
                day += timedelta(days=step)
        return day
    return shift


def plan_payment(*, behaviour: Behaviour, scheme: str, charge_date: date, created_on: date,
                 shift: Shift) -> list[Step]:
    """The transitions ahead of a payment that was just created (or resubmitted)."""
    timing = SCHEMES[scheme]
    # Never on the creation day itself: a payment is seen pending_submission until the next day.
    submit_on = max(shift(created_on, 1), shift(charge_date, -timing.submit_before))
    if behaviour is Behaviour.MANDATE_CANCELLED:
        return [Step(submit_on, "mandate_cancelled")]
    confirm_on = shift(charge_date, timing.confirm_after)
    steps = [Step(submit_on, "submitted")]
    if behaviour in (Behaviour.FAILS_INSUFFICIENT_FUNDS, Behaviour.FAILS_BANK_ACCOUNT_CLOSED):
        return [*steps, Step(confirm_on, "failed")]
    steps.append(Step(confirm_on, "confirmed"))
    if behaviour is Behaviour.LATE_FAILURE:
        late_on = shift(confirm_on, timing.late_failure_after)
        return [*steps, Step(late_on, "late_failure"),
                Step(shift(late_on, 1), "late_failure_settled")]
    paid_on = shift(confirm_on, timing.payout_after)
    steps.append(Step(paid_on, "paid_out"))
    if behaviour is Behaviour.CHARGED_BACK:
        back_on = shift(paid_on, timing.chargeback_after)
        steps += [Step(back_on, "charged_back"), Step(shift(back_on, 1), "chargeback_settled")]
    return steps
