"""The GoCardless gateway against the simulator, through the official SDK over real HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest
from tenacity import wait_none

from adapters.gocardless_gateway import GoCardlessGateway
from adapters.gocardless_transport import wait_retry_after
from adapters.simulators.gocardless import FaultConfig, GoCardlessSimulator, SimulatorConfig
from domain.clock import ManualClock
from domain.money import Money
from domain.outcomes import (
    Charged,
    Declined,
    DeclineKind,
    NotFound,
    Pending,
    Reversal,
    ReversalKind,
    TransientFailure,
    Unknown,
)
from tests.integration.gocardless_fixtures import (
    TOKEN,
    advance,
    gocardless_gateway,
    gocardless_sim,
    sim_clock,
)

__all__ = ["gocardless_gateway", "gocardless_sim", "sim_clock"]

EUR = Money(14962, "EUR")


def onboard(gateway: GoCardlessGateway, behaviour: str = "pays", scheme: str = "sepa_core",
            currency: str = "EUR") -> str:
    _, mandate_id = gateway.setup_mandate(account_id="acme", name="Acme SAS",
                                          email="ap@acme.test", scheme=scheme,
                                          currency=currency, behaviour=behaviour)
    return mandate_id


def collect(gateway: GoCardlessGateway, mandate_id: str, attempt_id: str = "att_1",
            amount: Money = EUR, charge_date: date | None = None,
            ) -> Pending | Declined | TransientFailure | Unknown:
    return gateway.collect(attempt_id=attempt_id, mandate_id=mandate_id, amount=amount,
                           invoice_id="inv_1", account_id="acme", charge_date=charge_date)


def collect_pending(gateway: GoCardlessGateway, mandate_id: str, **kwargs: Any) -> Pending:
    outcome = collect(gateway, mandate_id, **kwargs)
    assert isinstance(outcome, Pending), outcome
    return outcome


def status_after(gateway: GoCardlessGateway, sim: GoCardlessSimulator, clock: ManualClock,
                 ref: str, days: int) -> Pending | Charged | Declined | Reversal | TransientFailure:
    advance(sim, clock, days=days)
    return gateway.payment_status(provider_ref=ref)


# -- collecting -------------------------------------------------------------------------------

def test_collecting_creates_one_pending_payment_keyed_by_the_attempt(gocardless_sim,
                                                                     gocardless_gateway):
    # Given an onboarded sepa_core mandate
    mandate_id = onboard(gocardless_gateway)
    # When the same attempt is collected twice
    first = collect_pending(gocardless_gateway, mandate_id)
    again = collect_pending(gocardless_gateway, mandate_id)
    # Then one payment exists, pending, expected on the next possible charge date
    assert first == again == Pending(first.provider_ref, EUR, date(2026, 1, 19))
    stats = gocardless_sim.stats()
    assert stats["payments"]["total"] == 1
    assert stats["idempotent_conflicts"] == 1
    assert stats["invoices"] == {"inv_1": {"payments": 1}}


def test_a_charge_date_before_the_next_possible_one_is_moved_to_it(gocardless_gateway):
    mandate_id = onboard(gocardless_gateway)
    early = collect(gocardless_gateway, mandate_id, "att_1", charge_date=date(2026, 1, 15))
    late = collect(gocardless_gateway, mandate_id, "att_2", charge_date=date(2026, 2, 2))
    assert isinstance(early, Pending)
    assert early.expected_on == date(2026, 1, 19)
    assert isinstance(late, Pending)
    assert late.expected_on == date(2026, 2, 2)


def test_an_unusable_mandate_is_declined_hard_without_creating_a_payment(gocardless_sim,
                                                                        gocardless_gateway):
    mandate_id = onboard(gocardless_gateway)
    gocardless_sim.store.cancel_mandate(mandate_id)
    assert gocardless_gateway.mandate_status(mandate_id=mandate_id) == "cancelled"
    outcome = collect(gocardless_gateway, mandate_id)
    assert isinstance(outcome, Declined)
    assert (outcome.kind, outcome.code) == (DeclineKind.HARD, "mandate_cancelled")
    unknown = collect(gocardless_gateway, "MD404")
    assert isinstance(unknown, Declined)
    assert unknown.code == "mandate_not_found"
    assert gocardless_sim.stats()["payments"]["total"] == 0


def test_setup_mandate_onboards_on_every_scheme(gocardless_gateway):
    for scheme, currency in (("sepa_core", "EUR"), ("bacs", "GBP"), ("ach", "USD")):
        mandate_id = onboard(gocardless_gateway, scheme=scheme, currency=currency)
        assert gocardless_gateway.mandate_status(mandate_id=mandate_id) == "pending_submission"


# -- timelines become outcomes ----------------------------------------------------------------

def test_a_paying_mandate_is_charged_once_the_payment_is_confirmed(gocardless_sim, sim_clock,
                                                                   gocardless_gateway):
    pending = collect_pending(gocardless_gateway, onboard(gocardless_gateway))
    ref = pending.provider_ref
    assert isinstance(status_after(gocardless_gateway, gocardless_sim, sim_clock, ref, 4),
                      Pending)
    assert status_after(gocardless_gateway, gocardless_sim, sim_clock, ref, 2) == Charged(ref,
                                                                                          EUR)


def test_insufficient_funds_is_a_soft_decline(gocardless_sim, sim_clock, gocardless_gateway):
    pending = collect_pending(gocardless_gateway, onboard(gocardless_gateway,
                                                  "fails_insufficient_funds"))
    outcome = status_after(gocardless_gateway, gocardless_sim, sim_clock,
                           pending.provider_ref, 10)
    assert outcome == Declined(DeclineKind.SOFT, "insufficient_funds",
                               "The customer's account had insufficient funds to make this "
                               "payment.", pending.provider_ref, provider_will_retry=False)


def test_a_decline_gocardless_will_retry_itself_says_so(sim_clock):
    # Given GoCardless with automatic retries (Success+) enabled
    with GoCardlessSimulator(SimulatorConfig(clock=sim_clock.today, auto_retries=1)) as sim:
        gateway = GoCardlessGateway(access_token=TOKEN, base_url=sim.url, wait=wait_none())
        pending = collect_pending(gateway, onboard(gateway, "fails_insufficient_funds"))
        # When the payment fails the first time
        first = status_after(gateway, sim, sim_clock, pending.provider_ref, 6)
        # Then the provider will retry (we must not); after its retry fails, it will not
        assert isinstance(first, Declined)
        assert first.provider_will_retry
        final = status_after(gateway, sim, sim_clock, pending.provider_ref, 14)
        assert isinstance(final, Declined)
        assert not final.provider_will_retry


def test_a_closed_bank_account_is_a_hard_decline_and_ends_the_mandate(
        gocardless_sim, sim_clock, gocardless_gateway):
    mandate_id = onboard(gocardless_gateway, "fails_bank_account_closed", "bacs", "GBP")
    pending = collect_pending(gocardless_gateway, mandate_id, amount=Money(5000, "GBP"))
    outcome = status_after(gocardless_gateway, gocardless_sim, sim_clock,
                           pending.provider_ref, 10)
    assert isinstance(outcome, Declined)
    assert (outcome.kind, outcome.code) == (DeclineKind.HARD, "bank_account_closed")
    again = collect(gocardless_gateway, mandate_id, "att_2", amount=Money(5000, "GBP"))
    assert isinstance(again, Declined)
    assert again.code == "mandate_cancelled"


def test_a_late_failure_reverses_a_charged_payment(gocardless_sim, sim_clock,
                                                   gocardless_gateway):
    pending = collect_pending(gocardless_gateway, onboard(gocardless_gateway, "late_failure"))
    ref = pending.provider_ref
    assert status_after(gocardless_gateway, gocardless_sim, sim_clock, ref, 6) == Charged(ref,
                                                                                          EUR)
    outcome = status_after(gocardless_gateway, gocardless_sim, sim_clock, ref, 3)
    assert isinstance(outcome, Reversal)
    assert (outcome.kind, outcome.amount, outcome.code) == (ReversalKind.LATE_FAILURE, EUR,
                                                            "insufficient_funds")
    assert outcome.provider_ref.startswith("EV")  # the failure event names the reversal


def test_a_chargeback_reverses_a_paid_out_payment(gocardless_sim, sim_clock,
                                                  gocardless_gateway):
    pending = collect_pending(gocardless_gateway, onboard(gocardless_gateway, "charged_back"))
    outcome = status_after(gocardless_gateway, gocardless_sim, sim_clock,
                           pending.provider_ref, 20)
    assert isinstance(outcome, Reversal)
    assert (outcome.kind, outcome.code) == (ReversalKind.CHARGEBACK, "refund_requested")


def test_a_mandate_cancelled_at_the_bank_is_a_hard_decline(gocardless_sim, sim_clock,
                                                           gocardless_gateway):
    pending = collect_pending(gocardless_gateway, onboard(gocardless_gateway, "mandate_cancelled"))
    outcome = status_after(gocardless_gateway, gocardless_sim, sim_clock,
                           pending.provider_ref, 1)
    assert isinstance(outcome, Declined)
    assert (outcome.kind, outcome.code) == (DeclineKind.HARD, "mandate_cancelled")


# -- transient faults -------------------------------------------------------------------------

def _payments_faults(sim: GoCardlessSimulator, *script: str, **options: float) -> None:
    sim.faults.configure(FaultConfig(script=script, methods=("POST",), paths=("/payments",),
                                     **options))  # type: ignore[arg-type]


def test_transient_faults_are_retried_with_the_same_key_into_one_payment(gocardless_sim,
                                                                         gocardless_gateway):
    mandate_id = onboard(gocardless_gateway)
    _payments_faults(gocardless_sim, "error", "rate_limit", "drop")
    outcome = collect(gocardless_gateway, mandate_id)
    assert isinstance(outcome, Pending)
    stats = gocardless_sim.stats()
    assert stats["payments"]["total"] == 1
    assert stats["faults"] == {"requests": stats["faults"]["requests"], "error": 1,
                               "rate_limit": 1, "drop": 1}


def test_commit_then_drop_is_recovered_from_the_idempotency_conflict(gocardless_sim,
                                                                     gocardless_gateway):
    mandate_id = onboard(gocardless_gateway)
    _payments_faults(gocardless_sim, "drop")
    outcome = collect(gocardless_gateway, mandate_id)
    assert isinstance(outcome, Pending)
    assert gocardless_sim.stats()["payments"]["total"] == 1
    assert gocardless_sim.stats()["idempotent_conflicts"] == 1


def test_a_timed_out_request_is_retried_into_one_payment(gocardless_sim):
    gateway = GoCardlessGateway(access_token=TOKEN, base_url=gocardless_sim.url, timeout=0.2,
                                wait=wait_none())
    mandate_id = onboard(gateway)
    _payments_faults(gocardless_sim, "timeout", hang_seconds=0.5)
    outcome = collect(gateway, mandate_id)
    assert isinstance(outcome, Pending)
    assert gocardless_sim.stats()["payments"]["total"] == 1


def test_exhausted_retries_are_unknown_and_reconciliation_finds_the_payment(gocardless_sim,
                                                                            gocardless_gateway):
    # Given every create is committed and then its connection dropped
    mandate_id = onboard(gocardless_gateway)
    _payments_faults(gocardless_sim, drop_rate=1.0)
    # When the attempt is collected
    outcome = collect(gocardless_gateway, mandate_id)
    # Then we cannot tell: Unknown, never a second payment
    assert isinstance(outcome, Unknown)
    assert gocardless_sim.stats()["payments"]["total"] == 1
    # And reconciliation finds the one payment (narrowed by mandate, or across all payments)
    found = gocardless_gateway.find_payment(attempt_id="att_1", mandate_id=mandate_id)
    assert isinstance(found, Pending)
    assert found.amount == EUR
    assert gocardless_gateway.find_payment(attempt_id="att_1") == found
    assert gocardless_gateway.find_payment(attempt_id="att_never") == NotFound()


def test_reconciliation_narrowed_to_a_newer_mandate_still_finds_a_payment_on_the_old_one(
        gocardless_sim, gocardless_gateway):
    # Given a payment whose answer was lost, made on a mandate since replaced by another
    old_mandate = onboard(gocardless_gateway)
    _payments_faults(gocardless_sim, drop_rate=1.0)
    assert isinstance(collect(gocardless_gateway, old_mandate), Unknown)
    new_mandate = onboard(gocardless_gateway)
    # When reconciliation looks under the account's current mandate first
    found = gocardless_gateway.find_payment(attempt_id="att_1", mandate_id=new_mandate)
    # Then it still finds the payment (a false "not found" would let us charge again)
    assert isinstance(found, Pending)
    assert gocardless_gateway.find_payment(attempt_id="att_never",
                                           mandate_id=new_mandate) == NotFound()


def test_a_429_is_retried_after_the_servers_retry_after(gocardless_sim):
    slept: list[float] = []
    gateway = GoCardlessGateway(access_token=TOKEN, base_url=gocardless_sim.url,
                                wait=wait_retry_after(wait_none()), sleep=slept.append)
    mandate_id = onboard(gateway)
    _payments_faults(gocardless_sim, "rate_limit", "error", retry_after_seconds=3)
    assert isinstance(collect(gateway, mandate_id), Pending)
    assert slept == [3.0, 0.0]


def test_a_non_positive_amount_is_a_bug_not_a_payment(gocardless_gateway):
    with pytest.raises(ValueError, match="cannot collect"):
        collect(gocardless_gateway, "MD1", amount=Money(0, "EUR"))


def test_concurrent_collects_of_one_attempt_make_one_payment(gocardless_sim, gocardless_gateway):
    # Given a mandate, and a slow API (every request takes 20 ms)
    mandate_id = onboard(gocardless_gateway)
    gocardless_sim.faults.configure(FaultConfig(latency_ms=20))
    # When eight workers collect the same attempt at once
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda _: collect(gocardless_gateway, mandate_id), range(8)))
    # Then they all see the same single payment
    assert len({o.provider_ref for o in outcomes if isinstance(o, Pending)}) == 1
    assert all(isinstance(o, Pending) for o in outcomes)
    assert gocardless_sim.stats()["payments"]["total"] == 1
