"""Properties of billing and balance forward, checked on random inputs (hypothesis).

- a unit held for a whole period prorates to exactly its price;
- an invoice's total is its lines plus the previous amount due;
- prorata bills exactly the units above what a term already billed, none twice;
- the ledger sum equals the amount still owed (the open invoices' amounts due) after any
  sequence of issues (with balance forward), payments in flight, settlements, failures,
  chargebacks, overpayments and credit notes; nothing is collected twice, no cent lost.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain.balance_forward import OpenBalance, apply_carry, bring_forward
from domain.billing import InvoiceDraft, SubscriptionTerms, build_invoices
from domain.invoices import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, Section
from domain.ledger import EntryKind, LedgerEntry, balance, entry, issued_entry, owed_by_invoices
from domain.money import Money, sum_money
from domain.periods import nth_anchor, nth_period
from domain.plans import Interval, Plan, UnitKind
from domain.proration import prorate
from domain.renewals import due_invoices
from domain.seats import SeatChange, billable, units_at
from domain.usage import CallRecord, Direction, cutoff, started_minutes

currencies = st.sampled_from(["EUR", "JPY", "KWD"])
starts = st.dates(min_value=date(2023, 1, 1), max_value=date(2030, 12, 31))


@given(price=st.integers(0, 10**9), quantity=st.integers(0, 1000),
       period_days=st.integers(1, 366), currency=currencies)
def test_a_unit_held_for_a_whole_period_prorates_to_exactly_its_price(
        price: int, quantity: int, period_days: int, currency: str) -> None:
    amount = prorate(price=Money(price, currency), quantity=quantity, days=period_days,
                     period_days=period_days)
    assert amount == Money(price * quantity, currency)


@given(price=st.integers(0, 10**9), quantity=st.integers(0, 1000),
       period_days=st.integers(1, 366), data=st.data())
def test_a_prorated_line_is_the_exact_fraction_rounded_to_the_nearest_minor_unit(
        price: int, quantity: int, period_days: int, data: st.DataObject) -> None:
    days = data.draw(st.integers(0, period_days))
    amount = prorate(price=Money(price, "EUR"), quantity=quantity, days=days,
                     period_days=period_days).minor
    exact_numerator = price * quantity * days
    # |amount - exact| <= 1/2, with exact halves going up
    assert 2 * exact_numerator - period_days < 2 * amount * period_days
    assert 2 * amount * period_days <= 2 * exact_numerator + period_days


@st.composite
def subscriptions(draw: st.DrawFn) -> tuple[SubscriptionTerms, list[SeatChange],
                                            list[CallRecord]]:
    """A random subscription over ~14 months, with valid (never negative) seat changes."""
    currency = draw(currencies)
    interval = draw(st.sampled_from(list(Interval)))
    plan = Plan(interval=interval, currency=currency,
                user_price=Money(draw(st.integers(0, 500_000)), currency),
                number_price=Money(draw(st.integers(0, 100_000)), currency),
                minimum_users=draw(st.integers(0, 5)), minimum_numbers=draw(st.integers(0, 3)),
                outbound_per_minute=Money(draw(st.integers(0, 50)), currency),
                toll_free_per_minute=draw(st.none() | st.builds(
                    Money, st.integers(0, 50), st.just(currency))))
    terms = SubscriptionTerms(plan, draw(starts), draw(st.integers(0, 6)),
                              draw(st.integers(0, 4)))
    raw = draw(st.lists(st.tuples(st.sampled_from(list(UnitKind)), st.integers(-3, 3),
                                  st.integers(0, 430)), max_size=12))
    changes: list[SeatChange] = []
    units = {kind: terms.initial(kind) for kind in UnitKind}
    for kind, delta, offset in sorted(raw, key=lambda item: item[2]):
        delta = max(delta, -units[kind])  # never remove more than exist
        if delta:
            units[kind] += delta
            changes.append(SeatChange(kind, delta, terms.started_on + timedelta(days=offset)))
    usage = [CallRecord(f"c{index}", "sub", "+33100000000", direction, "+33199999999",
                        cutoff(terms.started_on + timedelta(days=offset)), seconds)
             for index, (offset, direction, seconds) in enumerate(draw(st.lists(st.tuples(
                 st.integers(-30, 430), st.sampled_from(list(Direction)),
                 st.integers(0, 5000 * 60)), max_size=8)))]
    return terms, changes, usage


def drafts_for(subscription: tuple[SubscriptionTerms, list[SeatChange], list[CallRecord]]
               ) -> tuple[InvoiceDraft, ...]:
    terms, changes, usage = subscription
    return due_invoices(terms=terms, changes=changes, calls=usage, after=None,
                        until=nth_anchor(terms.started_on, 14))


@settings(max_examples=150, deadline=None)
@given(subscription=subscriptions(), previous=st.integers(-100_000, 100_000))
def test_every_invoice_total_is_its_lines_plus_the_previous_amount_due(
        subscription: tuple[SubscriptionTerms, list[SeatChange], list[CallRecord]],
        previous: int) -> None:
    for draft in drafts_for(subscription):
        invoice = Invoice(id="i", number="n", account_id="a", subscription_id="s",
                          kind=draft.kind, period=draft.period, issued_on=draft.issued_on,
                          due_on=draft.issued_on, currency=draft.currency, payment_method="card",
                          lines=draft.lines, previous_amount_due=Money(previous, draft.currency))
        assert invoice.total == sum_money([line.amount for line in draft.lines],
                                          draft.currency) + Money(previous, draft.currency)
        sections = [line.section for line in draft.lines]
        assert sections == sorted(sections, key=[*Section].index)
        for line in draft.lines:
            assert line.amount.minor >= 0
            assert line.quantity > 0
            if line.section is not Section.PRORATA:
                assert line.amount == line.unit_amount * line.quantity
            else:
                assert line.from_on is not None
                assert line.to_on is not None
                assert line.from_on < line.to_on
                assert line.amount <= line.unit_amount * line.quantity


@settings(max_examples=150, deadline=None)
@given(subscription=subscriptions())
def test_prorata_bills_exactly_the_peak_units_above_what_each_term_already_billed(
        subscription: tuple[SubscriptionTerms, list[SeatChange], list[CallRecord]]) -> None:
    # Given any subscription
    terms, changes, _ = subscription
    months = 12 if terms.plan.interval is Interval.ANNUAL else 1
    drafts = drafts_for(subscription)
    for index in range(14 // months):
        term = nth_period(terms.started_on, months, index)
        if term.end > nth_anchor(terms.started_on, 14):
            break
        for kind in UnitKind:
            # When the prorata lines for units added during the term are summed
            billed = sum(line.quantity for draft in drafts for line in draft.lines
                         if line.section is Section.PRORATA and line.item == kind.value
                         and line.to_on == term.end)
            # Then they equal the peak in use during the term above what its start billed
            start = units_at(initial=terms.initial(kind), changes=changes, kind=kind,
                             day=term.start)
            # A unit added and removed on the same day was in use that day, and a removed
            # unit stays billed to the end of the term: the peak is taken change by change.
            running, peak = start, start
            for change in sorted((c for c in changes if c.kind is kind and c.on in term),
                                 key=lambda c: c.on):
                running += change.delta
                peak = max(peak, running)
            assert billed == max(0, peak - billable(start, terms.plan.minimum(kind)))


@settings(max_examples=100, deadline=None)
@given(subscription=subscriptions(), month=st.integers(0, 14))
def test_an_invoice_never_changes_once_its_date_has_passed(
        subscription: tuple[SubscriptionTerms, list[SeatChange], list[CallRecord]],
        month: int) -> None:
    # Given the history known on a billing date, and the history weeks later
    terms, changes, _ = subscription
    issued_on = nth_anchor(terms.started_on, month)
    known_changes = [change for change in changes if change.on < issued_on]
    # When the invoice is built late (catch-up) from the longer history
    on_time = build_invoices(terms=terms, changes=known_changes, issued_on=issued_on)
    late = build_invoices(terms=terms, changes=changes, issued_on=issued_on)
    # Then it is the same invoice
    assert late == on_time


@settings(max_examples=100, deadline=None)
@given(started_on=starts, price=st.integers(1, 100_000), months_later=st.integers(1, 11))
def test_a_unit_added_on_an_anchor_day_is_prorated_to_exactly_its_monthly_price(
        started_on: date, price: int, months_later: int) -> None:
    # Given a monthly plan and a user added on an anchor day (a whole period ahead)
    plan = Plan(Interval.MONTHLY, "EUR", Money(price, "EUR"), Money(0, "EUR"))
    terms = SubscriptionTerms(plan, started_on, 1, 0)
    added_on = nth_anchor(started_on, months_later)
    changes = [SeatChange(UnitKind.USERS, 1, added_on)]
    # When the next renewal bills it
    (draft,) = build_invoices(terms=terms, changes=changes,
                              issued_on=nth_anchor(started_on, months_later + 1))
    # Then
    assert [line.amount for line in draft.lines_in(Section.PRORATA)] == [Money(price, "EUR")]


@settings(max_examples=100, deadline=None)
@given(subscription=subscriptions())
def test_issuing_every_invoice_unpaid_brings_all_charges_onto_the_last_one(
        subscription: tuple[SubscriptionTerms, list[SeatChange], list[CallRecord]]) -> None:
    # Given every invoice of 14 months, issued with balance forward and never paid
    currency = subscription[0].plan.currency
    invoices: list[Invoice] = []
    ledger: list[LedgerEntry] = []
    for number, draft in enumerate(drafts_for(subscription)):
        forward = bring_forward([OpenBalance(i.id, i.amount_due, Money.zero(currency))
                                 for i in invoices if i.status is InvoiceStatus.OPEN], currency)
        new_id = f"inv{number}"
        by_id = {carry.invoice_id: carry for carry in forward.carries}
        invoices = [apply_carry(i, by_id[i.id], new_invoice_id=new_id) if i.id in by_id else i
                    for i in invoices]
        invoices.append(Invoice(id=new_id, number=new_id, account_id="a", subscription_id="s",
                                kind=draft.kind, period=draft.period, issued_on=draft.issued_on,
                                due_on=draft.issued_on, currency=currency, payment_method="wire",
                                lines=draft.lines,
                                previous_amount_due=forward.previous_amount_due))
        ledger.append(issued_entry(invoices[-1]))
    # Then the last invoice's total is every charge, and it is all that is owed
    everything = sum_money([i.charges for i in invoices], currency)
    assert invoices[-1].total == everything
    assert balance(ledger, currency) == owed_by_invoices(invoices, currency) == everything


class AccountModel(RuleBasedStateMachine):
    """An account in memory: invoices, the ledger, payments in flight, settled payments."""

    def __init__(self) -> None:
        super().__init__()
        self.invoices: dict[str, Invoice] = {}
        self.ledger: list[LedgerEntry] = []
        self.in_flight: dict[str, Money] = {}  # invoice id -> its one in-flight attempt
        self.settled: list[tuple[str, Money]] = []  # chargeback candidates
        # Independent tallies of every movement, to check no cent is created or lost.
        self.charged = self.collected = self.returned = self.credited = 0
        self.day = date(2026, 1, 15)

    def _eur(self, minor: int) -> Money:
        return Money(minor, "EUR")

    def _open(self, *, idle: bool) -> list[str]:
        return [i for i, inv in self.invoices.items() if inv.status is InvoiceStatus.OPEN
                and (not idle or i not in self.in_flight)]

    def _record(self, kind: EntryKind, invoice_id: str, amount: Money) -> None:
        self.ledger.append(entry(kind, account_id="acme", amount=amount, on=self.day,
                                 invoice_id=invoice_id))

    def _settle(self, invoice_id: str, amount: Money, kind: EntryKind) -> None:
        invoice = self.invoices[invoice_id]
        invoice = replace(invoice, amount_paid=invoice.paid + amount)
        if invoice.amount_due.is_zero() and invoice_id not in self.in_flight:
            invoice = invoice.with_status(InvoiceStatus.PAID)
        self.invoices[invoice_id] = invoice
        self._record(kind, invoice_id, amount)

    @rule(charges=st.integers(0, 100_000))
    def issue(self, charges: int) -> None:
        self.day += timedelta(days=30)
        new_id = f"inv{len(self.invoices) + 1}"
        forward = bring_forward([
            OpenBalance(i, self.invoices[i].amount_due, self.in_flight.get(i, self._eur(0)))
            for i in self._open(idle=False)], "EUR")
        for carry in forward.carries:
            self.invoices[carry.invoice_id] = apply_carry(
                self.invoices[carry.invoice_id], carry, new_invoice_id=new_id)
        lines = (InvoiceLine(Section.RECURRING, "Users", 1, self._eur(charges),
                             self._eur(charges), item="users"),) if charges else ()
        new = Invoice(id=new_id, number=new_id, account_id="acme", subscription_id="s",
                      kind=InvoiceKind.MONTHLY, period=nth_period(self.day, 1, 0),
                      issued_on=self.day, due_on=self.day, currency="EUR",
                      payment_method="direct_debit", lines=lines,
                      previous_amount_due=forward.previous_amount_due)
        self.invoices[new_id] = new
        self.ledger.append(issued_entry(new))
        self.charged += charges

    @precondition(lambda self: any(self.invoices[i].amount_due.is_positive()
                                   for i in self._open(idle=True)))
    @rule(data=st.data())
    def start_payment(self, data: st.DataObject) -> None:
        choices = [i for i in self._open(idle=True) if self.invoices[i].amount_due.is_positive()]
        invoice_id = data.draw(st.sampled_from(choices))
        due = self.invoices[invoice_id].amount_due.minor
        self.in_flight[invoice_id] = self._eur(data.draw(st.integers(1, due) | st.just(due)))

    @precondition(lambda self: bool(self.in_flight))
    @rule(data=st.data(), succeeds=st.booleans())
    def payment_outcome(self, data: st.DataObject, succeeds: bool) -> None:
        invoice_id = data.draw(st.sampled_from(sorted(self.in_flight)))
        amount = self.in_flight.pop(invoice_id)
        if succeeds:
            self._settle(invoice_id, amount, EntryKind.PAYMENT_SETTLED)
            self.settled.append((invoice_id, amount))
            self.collected += amount.minor
        # A failure leaves the invoice open with its amount due: the next issue carries it.

    @precondition(lambda self: bool(self.settled))
    @rule(data=st.data())
    def chargeback(self, data: st.DataObject) -> None:
        invoice_id, amount = self.settled.pop(data.draw(st.integers(0, len(self.settled) - 1)))
        invoice = self.invoices[invoice_id]
        self.invoices[invoice_id] = replace(invoice, amount_paid=invoice.paid - amount,
                                            status=InvoiceStatus.OPEN)
        self._record(EntryKind.CHARGEBACK, invoice_id, amount)
        self.returned += amount.minor

    @precondition(lambda self: bool(self._open(idle=True)))
    @rule(data=st.data(), extra=st.integers(0, 20_000))
    def wire_received(self, data: st.DataObject, extra: int) -> None:
        # The customer may overpay: the excess is a credit carried forward negatively.
        invoice_id = data.draw(st.sampled_from(self._open(idle=True)))
        amount = max(self.invoices[invoice_id].amount_due.minor, 0) + extra
        if amount:
            self._settle(invoice_id, self._eur(amount), EntryKind.PAYMENT_SETTLED)
            self.settled.append((invoice_id, self._eur(amount)))
            self.collected += amount

    @precondition(lambda self: bool(self._open(idle=True)))
    @rule(data=st.data(), amount=st.integers(1, 50_000))
    def credit_note(self, data: st.DataObject, amount: int) -> None:
        invoice_id = data.draw(st.sampled_from(self._open(idle=True)))
        self._settle(invoice_id, self._eur(amount), EntryKind.CREDIT_NOTE)
        self.credited += amount

    @invariant()
    def the_ledger_sum_equals_the_amount_still_owed(self) -> None:
        assert balance(self.ledger, "EUR") == owed_by_invoices(self.invoices.values(), "EUR")

    @invariant()
    def no_cent_is_created_or_lost(self) -> None:
        expected = self.charged - self.collected + self.returned - self.credited
        assert balance(self.ledger, "EUR") == self._eur(expected)
        # everything carried off earlier invoices arrived on later ones
        assert sum(i.carried.minor for i in self.invoices.values()) == sum(
            i.previous.minor for i in self.invoices.values())

    @invariant()
    def closed_invoices_owe_nothing_and_totals_are_lines_plus_previous(self) -> None:
        for invoice in self.invoices.values():
            if invoice.status is not InvoiceStatus.OPEN:
                assert invoice.amount_due.is_zero()
            assert invoice.total == invoice.charges + invoice.previous

    @invariant()
    def nothing_is_collected_twice(self) -> None:
        # Money in flight never exceeds what its invoice still asks for, and an invoice
        # with money in flight is never closed (its amount cannot also be carried).
        for invoice_id, amount in self.in_flight.items():
            invoice = self.invoices[invoice_id]
            assert invoice.status is InvoiceStatus.OPEN
            assert amount <= invoice.amount_due


AccountModel.TestCase.settings = settings(max_examples=200, stateful_step_count=30,
                                          deadline=None)
test_the_ledger_always_equals_the_amount_still_owed = AccountModel.TestCase


@settings(max_examples=150, deadline=None)
@given(subscription=subscriptions())
def test_every_call_is_billed_once_by_the_first_invoice_dated_after_it_started(
        subscription: tuple[SubscriptionTerms, list[SeatChange], list[CallRecord]]) -> None:
    # Given calls, some before the start, some late in the history
    _, _, calls = subscription
    # When every invoice of 14 months is built
    drafts = drafts_for(subscription)
    # Then the outbound minutes billed are those of every call started before the last
    # invoice that bills minutes, each counted once (rounded up per call)
    dates = [draft.issued_on for draft in drafts if draft.bills_minutes]
    billed = sum(line.quantity for draft in drafts for line in draft.lines_in(Section.MINUTES)
                 if line.item == "outbound_minutes")
    expected = sum(started_minutes(call.duration_seconds) for call in calls
                   if call.direction is Direction.OUTBOUND and dates
                   and call.started_at < cutoff(max(dates)))
    assert billed == expected
