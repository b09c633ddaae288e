"""Invoices and their lines, in the article's sections.

An invoice's `total` is its lines plus the previous amount due brought forward. Its
`amount_due` is what is still owed *on this invoice*: total − paid − carried forward.
The ledger holds only the lines (`charges`) as a debit: the previous amount due is already
in the ledger from the earlier invoices, so the ledger sum always equals the amount owed.

The invoice *builder* (what lines a renewal produces) lives in domain/billing.py.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import date

from domain.money import Money, sum_money


class InvoiceKind(enum.StrEnum):
    MONTHLY = "monthly"  # recurring for the coming month + prorata + minutes of the past one
    ANNUAL = "annual"  # all units for the coming year (on the anniversary)
    USAGE = "usage"  # annual plans: minutes + prorata, on each monthly anchor day
    FINAL = "final"  # the subscription ended: prorata + minutes up to the end day, no recurring


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    CARRIED_FORWARD = "carried_forward"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"


class Section(enum.StrEnum):
    """The article's sections, in the order they are printed."""

    RECURRING = "recurring"
    PRORATA = "prorata"
    MINUTES = "minutes"


SECTION_ORDER: tuple[Section, ...] = (Section.RECURRING, Section.PRORATA, Section.MINUTES)


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open billing period [start, end)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"empty period {self.start}..{self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    section: Section
    description: str
    quantity: int
    unit_amount: Money
    amount: Money
    #: prorata lines: the days billed, [from_on, to_on) — exclusive end.
    from_on: date | None = None
    to_on: date | None = None
    #: machine-readable kind: "users", "numbers", "outbound_minutes", "toll_free_minutes".
    item: str = ""


@dataclass(frozen=True, slots=True)
class Invoice:
    id: str
    number: str
    account_id: str
    subscription_id: str
    kind: InvoiceKind
    period: Period
    issued_on: date
    due_on: date
    currency: str
    payment_method: str
    lines: tuple[InvoiceLine, ...] = ()
    previous_amount_due: Money | None = None
    status: InvoiceStatus = InvoiceStatus.OPEN
    amount_paid: Money | None = None
    amount_carried: Money | None = None
    #: Wire: the structured creditor reference (ISO 11649) printed on the invoice.
    payment_reference: str | None = None
    #: invoice id this one was carried forward onto, once closed as carried_forward.
    carried_to: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    #: The lines' sum as stored, when the invoice was read without its lines (collection
    #: needs what is due, not the lines); None: `charges` sums `lines`.
    stored_charges: Money | None = None

    def _zero(self) -> Money:
        return Money.zero(self.currency)

    @property
    def charges(self) -> Money:
        """The new money this invoice asks for: its lines only (what the ledger debits)."""
        if self.stored_charges is not None:
            return self.stored_charges
        return sum_money([line.amount for line in self.lines], self.currency)

    @property
    def previous(self) -> Money:
        return self.previous_amount_due or self._zero()

    @property
    def total(self) -> Money:
        return self.charges + self.previous

    @property
    def paid(self) -> Money:
        return self.amount_paid or self._zero()

    @property
    def carried(self) -> Money:
        return self.amount_carried or self._zero()

    @property
    def amount_due(self) -> Money:
        # total - paid - carried, without the intermediate amounts (it is asked for a
        # handful of times per invoice collected); each part must be in the invoice's
        # currency, as Money's subtraction would insist.
        charges = self._zero().same_currency(self.charges)
        minor = charges.minor
        for part, sign in ((self.previous_amount_due, 1), (self.amount_paid, -1),
                           (self.amount_carried, -1)):
            if part is not None:
                minor += sign * charges.same_currency(part).minor
        return Money(minor, charges.currency)

    @property
    def has_lines(self) -> bool:
        """False for an invoice read without its lines (it cannot be printed)."""
        return self.stored_charges is None

    def lines_in(self, section: Section) -> tuple[InvoiceLine, ...]:
        if not self.has_lines:
            raise ValueError(f"invoice {self.id} was read without its lines")
        return tuple(line for line in self.lines if line.section is section)

    def with_status(self, status: InvoiceStatus) -> Invoice:
        return replace(self, status=status)
