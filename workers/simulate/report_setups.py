"""The report's payment-method setups: each one started, how it ended, and the method it put
on file, masked as the API shows it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.ports import UnitOfWork
from domain.setups import SetupStatus
from workers.api.payment_methods import payment_method_view


def setups_doc(uow: UnitOfWork, *, account_ids: Sequence[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for account_id in account_ids:
        account = uow.accounts.get(account_id=account_id)
        assert account is not None
        setups = uow.setups.list_for_account(account_id=account_id)
        for setup in setups:
            doc: dict[str, Any] = {
                "account": account_id, "id": setup.id, "type": setup.method.value,
                "provider": setup.provider, "started_on": setup.created_at.date().isoformat(),
                "status": setup.status.value,
                "completed_on": setup.completed_at.date().isoformat()
                if setup.completed_at else None}
            on_file = account.payment_method
            if (setup.status is SetupStatus.COMPLETED and on_file.type is setup.method
                    and setup is [s for s in setups if s.method is setup.method][-1]):
                doc["method"] = payment_method_view(on_file).model_dump(exclude_none=True)
            out.append(doc)
    return sorted(out, key=lambda d: (d["started_on"], d["account"]))


def _shown(method: dict[str, Any]) -> str:
    if method.get("last4"):
        return (f"{method.get('brand', 'card')} ****{method['last4']} "
                f"{method.get('exp_month', 0):02d}/{method.get('exp_year', 0) % 100:02d}")
    return " ".join(str(method[k]) for k in ("scheme", "account", "account_holder")
                    if method.get(k))


def render_setups(setups: list[dict[str, Any]]) -> list[str]:
    if not setups:
        return []
    lines = ["", "Payment-method setups (hosted page → webhook → method on file)"]
    for s in setups:
        shown = f"  → {_shown(s['method'])}" if s.get("method") else ""
        lines.append(f"  {s['started_on']}  {s['account']:<12} {s['type']:<13} "
                     f"{s['provider']:<11} {s['status']:<10}{shown}")
    return lines
