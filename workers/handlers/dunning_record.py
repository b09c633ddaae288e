"""An invoice's overdue record: the dunning policy copied onto it, when it fell overdue, and
which notices went out. Stored as JSON in the invoice's `dunning_policy` column.

The record follows the debt, not the paper: when an overdue invoice is carried forward onto a
new one, the new invoice inherits the record (earliest overdue date, notices already sent, the
policy in force), so carrying a balance forward never restarts the sequence at "first notice".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from domain.dunning import DunningPolicy, InvalidDunningSchedule, NoticeKind, SentNotice
from domain.invoices import Invoice, InvoiceStatus
from domain.ports import UnitOfWork


@dataclass(frozen=True)
class DunningRecord:
    policy: DunningPolicy
    overdue_since: date
    notices: tuple[SentNotice, ...] = ()

    def with_notice(self, *, kind: NoticeKind, on: date) -> DunningRecord:
        return replace(self, notices=(*self.notices, SentNotice(kind=kind, on=on)))

    @property
    def kinds(self) -> list[NoticeKind]:
        return [notice.kind for notice in self.notices]

    def to_json(self) -> dict[str, Any]:
        return {"days_overdue": self.policy.to_config(),
                "reinstate_terminated": self.policy.reinstate_terminated,
                "overdue_since": self.overdue_since.isoformat(),
                "notices": [{"kind": n.kind.value, "on": n.on.isoformat()}
                            for n in self.notices]}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> DunningRecord | None:
        """The stored record; None when nothing (or only a bare policy) is stored."""
        if not data or "overdue_since" not in data:
            return None
        try:
            policy = DunningPolicy.from_config(
                str(data["days_overdue"]),
                reinstate_terminated=bool(data.get("reinstate_terminated", True)))
        except InvalidDunningSchedule:
            policy = DunningPolicy()  # a hand-edited row must not stop the whole sequence
        notices = tuple(SentNotice(kind=NoticeKind(n["kind"]), on=date.fromisoformat(n["on"]))
                        for n in data.get("notices", []))
        return cls(policy=policy, overdue_since=date.fromisoformat(data["overdue_since"]),
                   notices=notices)


def merged(records: Iterable[DunningRecord]) -> DunningRecord | None:
    """One record for debts carried together: the furthest sequence, the oldest date."""
    found = list(records)
    if not found:
        return None
    furthest = max(found, key=lambda record: len(record.notices))
    return replace(furthest, overdue_since=min(record.overdue_since for record in found))


def record_for(uow: UnitOfWork, *, invoice: Invoice,
               account_invoices: Sequence[Invoice]) -> DunningRecord | None:
    """The invoice's stored record, else the one it inherits from the invoices carried onto it."""
    stored = DunningRecord.from_json(uow.invoices.dunning_policy(invoice_id=invoice.id))
    if stored is not None or not invoice.previous.is_positive():
        return stored
    carried_here = [inv for inv in account_invoices
                    if inv.carried_to == invoice.id
                    and inv.status is InvoiceStatus.CARRIED_FORWARD]
    return merged(record for inv in carried_here
                  if (record := record_for(uow, invoice=inv,
                                           account_invoices=account_invoices)) is not None)
