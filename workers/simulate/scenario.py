"""Scenario files (see shared/scenario.md): parsed and validated in full before anything runs.

Every error names the field it is about (`accounts[0].plan.interval: ...`) so a scenario author
can fix it; a scenario with any error writes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from domain.money import CURRENCY_EXPONENTS

CARDS = frozenset({
    "pm_card_visa", "pm_card_chargeDeclined", "pm_card_chargeDeclinedInsufficientFunds",
    "pm_card_chargeDeclinedLostCard", "pm_card_chargeDeclinedStolenCard",
    "pm_card_chargeDeclinedExpiredCard", "pm_card_chargeDeclinedProcessingError",
    "pm_card_authenticationRequired", "pm_card_createDispute", "pm_card_chargeCustomerFail",
    "pm_card_mastercard",
})
SCHEMES = frozenset({"sepa_core", "ach", "bacs"})
BEHAVIOURS = frozenset({"pays", "fails_insufficient_funds", "fails_bank_account_closed",
                        "late_failure", "charged_back", "mandate_cancelled"})
OPERATOR_ACTIONS = frozenset({"requeue_failed"})
EVENT_KINDS = ("add", "remove", "usage", "payment_method", "setup", "operator", "wire_received")


class ScenarioError(ValueError):
    """The scenario is invalid; `field` is the path of the offending field."""

    def __init__(self, field_path: str, message: str) -> None:
        super().__init__(f"{field_path}: {message}")
        self.field = field_path


@dataclass(frozen=True)
class PlanSpec:
    interval: str
    user_price: int
    number_price: int
    minimum_users: int = 0
    minimum_numbers: int = 0
    outbound_per_minute: int = 0
    toll_free_per_minute: int = 0


@dataclass(frozen=True)
class MethodSpec:
    type: str
    card: str | None = None
    scheme: str | None = None
    behaviour: str | None = None


@dataclass(frozen=True)
class AccountSpec:
    id: str
    name: str
    language: str
    currency: str
    plan: PlanSpec
    users: int
    numbers: int
    payment_method: MethodSpec
    started_on: date
    email: str | None = None


@dataclass(frozen=True)
class EventSpec:
    on: date
    account: str
    kind: str  # one of EVENT_KINDS
    payload: dict[str, Any] = field(default_factory=dict)
    method: MethodSpec | None = None
    index: int = 0


@dataclass(frozen=True)
class Scenario:
    start: date
    until: date
    accounts: tuple[AccountSpec, ...]
    events: tuple[EventSpec, ...]

    def events_on(self, day: date) -> list[EventSpec]:
        return [e for e in self.events if e.on == day]


def _date(value: Any, path: str) -> date:
    if not isinstance(value, str):
        raise ScenarioError(path, f"expected an ISO date string, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ScenarioError(path, f"not a valid ISO date: {value!r}") from None


def _int(obj: dict[str, Any], key: str, path: str, *, default: int | None = None,
         minimum: int = 0) -> int:
    if key not in obj:
        if default is None:
            raise ScenarioError(f"{path}.{key}", "is required")
        return default
    value = obj[key]
    if type(value) is not int:
        raise ScenarioError(f"{path}.{key}", f"expected a whole number, got {value!r}")
    if value < minimum:
        raise ScenarioError(f"{path}.{key}", f"must be >= {minimum}, got {value}")
    return value


def _obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ScenarioError(path, f"expected an object, got {type(value).__name__}")
    return value


def _str(obj: dict[str, Any], key: str, path: str, *, default: str | None = None) -> str:
    value = obj.get(key, default)
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"{path}.{key}", "is required and must be a non-empty string")
    return value


def _plan(raw: Any, path: str) -> PlanSpec:
    obj = _obj(raw, path)
    interval = _str(obj, "interval", path)
    if interval not in ("monthly", "annual"):
        raise ScenarioError(f"{path}.interval", f"must be 'monthly' or 'annual', got {interval!r}")
    return PlanSpec(
        interval=interval,
        user_price=_int(obj, "user_price", path),
        number_price=_int(obj, "number_price", path),
        minimum_users=_int(obj, "minimum_users", path, default=0),
        minimum_numbers=_int(obj, "minimum_numbers", path, default=0),
        outbound_per_minute=_int(obj, "outbound_per_minute", path, default=0),
        toll_free_per_minute=_int(obj, "toll_free_per_minute", path, default=0),
    )


def parse_method(raw: Any, path: str) -> MethodSpec:
    obj = _obj(raw, path)
    kind = _str(obj, "type", path)
    if kind == "card":
        card = _str(obj, "card", path)
        if card not in CARDS:
            raise ScenarioError(f"{path}.card", f"unknown test card {card!r}")
        return MethodSpec(type=kind, card=card)
    if kind == "direct_debit":
        scheme = _str(obj, "scheme", path)
        if scheme not in SCHEMES:
            raise ScenarioError(f"{path}.scheme", f"must be one of {sorted(SCHEMES)}")
        behaviour = _str(obj, "behaviour", path, default="pays")
        if behaviour not in BEHAVIOURS:
            raise ScenarioError(f"{path}.behaviour", f"must be one of {sorted(BEHAVIOURS)}")
        return MethodSpec(type=kind, scheme=scheme, behaviour=behaviour)
    if kind == "wire":
        return MethodSpec(type=kind)
    raise ScenarioError(f"{path}.type", f"must be card, direct_debit or wire, got {kind!r}")


def parse_setup(raw: Any, path: str) -> MethodSpec:
    """A setup the customer completes on the provider's hosted page: `{"type": "card",
    "card": PM}` (the test card chosen on the page, default pm_card_visa) or
    `{"type": "direct_debit", "scheme"?: S, "behaviour"?: B}` (scheme default: the currency's)."""
    obj = _obj(raw, path)
    kind = _str(obj, "type", path)
    if kind == "card":
        card = _str(obj, "card", path, default="pm_card_visa")
        if card not in CARDS:
            raise ScenarioError(f"{path}.card", f"unknown test card {card!r}")
        return MethodSpec(type=kind, card=card)
    if kind == "direct_debit":
        scheme = obj.get("scheme")
        if scheme is not None and scheme not in SCHEMES:
            raise ScenarioError(f"{path}.scheme", f"must be one of {sorted(SCHEMES)}")
        behaviour = _str(obj, "behaviour", path, default="pays")
        if behaviour not in BEHAVIOURS:
            raise ScenarioError(f"{path}.behaviour", f"must be one of {sorted(BEHAVIOURS)}")
        return MethodSpec(type=kind, scheme=scheme, behaviour=behaviour)
    raise ScenarioError(f"{path}.type", f"must be card or direct_debit, got {kind!r}")


def _account(raw: Any, path: str, start: date) -> AccountSpec:
    obj = _obj(raw, path)
    currency = _str(obj, "currency", path)
    if currency not in CURRENCY_EXPONENTS:
        raise ScenarioError(f"{path}.currency", f"unknown currency {currency!r}")
    language = obj.get("language", "en")
    if language not in ("en", "fr"):
        raise ScenarioError(f"{path}.language", f"must be 'en' or 'fr', got {language!r}")
    started = _date(obj["started_on"], f"{path}.started_on") if "started_on" in obj else start
    return AccountSpec(
        id=_str(obj, "id", path), name=_str(obj, "name", path, default=obj.get("id")),
        language=language, currency=currency, plan=_plan(obj.get("plan"), f"{path}.plan"),
        users=_int(obj, "users", path), numbers=_int(obj, "numbers", path, default=0),
        payment_method=parse_method(obj.get("payment_method"), f"{path}.payment_method"),
        started_on=started, email=obj.get("email"),
    )


def _event(raw: Any, path: str, index: int, accounts: set[str]) -> EventSpec:
    obj = _obj(raw, path)
    on = _date(obj.get("on"), f"{path}.on")
    account = _str(obj, "account", path)
    if account not in accounts:
        raise ScenarioError(f"{path}.account", f"unknown account {account!r}")
    kinds = [k for k in EVENT_KINDS if k in obj]
    if len(kinds) != 1:
        raise ScenarioError(path, f"needs exactly one of {', '.join(EVENT_KINDS)}")
    kind = kinds[0]
    body = obj[kind]
    if kind in ("add", "remove"):
        units = _obj(body, f"{path}.{kind}")
        if not units or set(units) - {"users", "numbers"}:
            raise ScenarioError(f"{path}.{kind}", "takes 'users' and/or 'numbers'")
        payload = {k: _int(units, k, f"{path}.{kind}", minimum=1) for k in units}
        return EventSpec(on=on, account=account, kind=kind, payload=payload, index=index)
    if kind == "usage":
        usage = _obj(body, f"{path}.usage")
        payload = {k: _int(usage, k, f"{path}.usage", default=0)
                   for k in ("outbound_minutes", "toll_free_minutes")}
        return EventSpec(on=on, account=account, kind=kind, payload=payload, index=index)
    if kind == "payment_method":
        method = parse_method(body, f"{path}.payment_method")
        return EventSpec(on=on, account=account, kind=kind, method=method, index=index)
    if kind == "setup":
        method = parse_setup(body, f"{path}.setup")
        return EventSpec(on=on, account=account, kind=kind, method=method, index=index)
    if kind == "operator":
        if body not in OPERATOR_ACTIONS:
            raise ScenarioError(f"{path}.operator", f"must be one of {sorted(OPERATOR_ACTIONS)}")
        return EventSpec(on=on, account=account, kind=kind, payload={"action": body}, index=index)
    wire = _obj(body, f"{path}.wire_received")
    amount = _int(wire, "amount", f"{path}.wire_received", minimum=1)
    reference = _str(wire, "reference", f"{path}.wire_received", default="invoice")
    return EventSpec(on=on, account=account, kind=kind, index=index,
                     payload={"amount": amount, "reference": reference})


def parse_scenario(raw: Any) -> Scenario:
    """Validate a decoded scenario document; raises ScenarioError naming the first bad field."""
    doc = _obj(raw, "scenario")
    start = _date(doc.get("start"), "start")
    until = _date(doc.get("until"), "until")
    if until < start:
        raise ScenarioError("until", f"{until} is before start {start}")
    raw_accounts = doc.get("accounts")
    if not isinstance(raw_accounts, list) or not raw_accounts:
        raise ScenarioError("accounts", "must be a non-empty list")
    accounts = tuple(_account(a, f"accounts[{i}]", start) for i, a in enumerate(raw_accounts))
    ids = [a.id for a in accounts]
    for i, account_id in enumerate(ids):
        if ids.index(account_id) != i:
            raise ScenarioError(f"accounts[{i}].id", f"duplicate account id {account_id!r}")
    raw_events = doc.get("events", [])
    if not isinstance(raw_events, list):
        raise ScenarioError("events", "must be a list")
    events = tuple(_event(e, f"events[{i}]", i, set(ids)) for i, e in enumerate(raw_events))
    for event in events:
        if not start <= event.on <= until:
            raise ScenarioError(f"events[{event.index}].on",
                                f"{event.on} is outside {start}..{until}")
    return Scenario(start=start, until=until, accounts=accounts,
                    events=tuple(sorted(events, key=lambda e: (e.on, e.index))))


def load_scenario(path: Path) -> Scenario:
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise ScenarioError("file", f"{path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError("file", f"{path} is not valid JSON: {exc}") from None
    return parse_scenario(raw)
