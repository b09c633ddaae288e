"""A subset of Stripe's Search Query Language for PaymentIntents.

Supported (docs.stripe.com/search#search-query-language): clauses `field:'value'`,
`metadata['key']:'value'`, `-` negation, `field:null`, numeric `>`, `<`, `>=`, `<=` on
`amount` and `created`, joined by all-`AND` or all-`OR` (Stripe forbids mixing them).
Unlike Stripe, results are immediately consistent (Stripe may lag up to a minute).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from adapters.simulators.stripe import objects
from adapters.simulators.stripe.objects import Json

FIELDS = frozenset({"amount", "created", "currency", "customer", "status", "metadata"})

_CLAUSE = re.compile(
    r"""\s*(?P<neg>-)?
        (?:metadata\[(?P<mq>['"])(?P<key>(?:\\.|(?!(?P=mq)).)+)(?P=mq)\]|(?P<field>[a-z_]+))
        (?P<op>:|>=|<=|>|<)
        (?:'(?P<sq>(?:\\.|[^'\\])*)'|"(?P<dq>(?:\\.|[^"\\])*)"|(?P<bare>[^\s'"]+))
        \s*""", re.VERBOSE)
_JOIN = re.compile(r"(AND|OR)\s+")


@dataclass(frozen=True, slots=True)
class Clause:
    field: str
    metadata_key: str | None
    op: str
    value: str | None
    negate: bool

    def matches(self, obj: Json) -> bool:
        if self.metadata_key is not None:
            actual = obj.get("metadata", {}).get(self.metadata_key)
        else:
            actual = obj.get(self.field)
        if self.op == ":":
            hit = actual is None if self.value is None else str(actual) == self.value
        else:
            hit = actual is not None and self.value is not None and _compare(
                int(actual), self.op, int(self.value))
        return hit != self.negate


def _compare(left: int, op: str, right: int) -> bool:
    return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[op]


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def parse(query: str) -> Callable[[Json], bool]:
    """A predicate for `query`; raises ApiError(400) where Stripe would reject it."""
    clauses: list[Clause] = []
    joins: set[str] = set()
    position = 0
    while True:
        match = _CLAUSE.match(query, position)
        if match is None:
            raise objects.invalid(f"Invalid query: could not parse {query[position:]!r}",
                                  param="query")
        clauses.append(_clause(match))
        position = match.end()
        if position == len(query):
            break
        join = _JOIN.match(query, position)
        if join is None:
            raise objects.invalid(f"Invalid query: expected AND or OR at {position}",
                                  param="query")
        joins.add(join.group(1))
        position = join.end()
    if len(joins) > 1:
        raise objects.invalid("Invalid query: AND and OR cannot be mixed.", param="query")
    if joins == {"OR"}:
        return lambda obj: any(c.matches(obj) for c in clauses)
    return lambda obj: all(c.matches(obj) for c in clauses)


def _clause(match: re.Match[str]) -> Clause:
    field = match.group("field") or "metadata"
    if field not in FIELDS or (field == "metadata" and match.group("key") is None):
        raise objects.invalid(f"Field '{field}' is an unsupported search field for resource "
                              "payment_intents.", param="query")
    quoted = match.group("sq") if match.group("sq") is not None else match.group("dq")
    bare = match.group("bare")
    value = _unescape(quoted) if quoted is not None else (None if bare == "null" else bare)
    op = match.group("op")
    if op != ":" and (field not in ("amount", "created") or value is None
                      or not value.lstrip("-").isdigit()):
        raise objects.invalid(f"Invalid query: '{op}' needs a number on amount or created.",
                              param="query")
    key = match.group("key")
    return Clause(field=field, metadata_key=_unescape(key) if key is not None else None, op=op,
                  value=value, negate=match.group("neg") is not None)
