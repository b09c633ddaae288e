"""Decode Stripe's form encoding (`metadata[k]=v`, `expand[0]=x`) into nested dicts and lists.

The SDK encodes every request this way (stripe/_encode.py `_api_encode`): nested dicts as
`a[b]`, lists always indexed as `a[0]`, booleans as `true`/`false`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"([^\[\]]+)|\[([^\[\]]*)\]")


class FormError(ValueError):
    """A parameter name that cannot be decoded (`a[b`, `a[0]` mixed with `a[b]`)."""

    def __init__(self, param: str) -> None:
        super().__init__(f"Invalid parameter: {param}")
        self.param = param


def parse_pairs(body: bytes) -> list[tuple[str, str]]:
    return parse_qsl(body.decode("utf-8"), keep_blank_values=True)


def _path(key: str) -> list[str]:
    parts = [m.group(1) if m.group(1) is not None else m.group(2) for m in _KEY.finditer(key)]
    if not parts or "".join(f"[{p}]" for p in parts[1:]) != key[len(parts[0]):]:
        raise FormError(key)
    return parts


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def decode(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Nested params from `(key, value)` pairs; `a[]` appends like Stripe's older clients."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = _path(key)
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise FormError(key)
            node = child
        last = parts[-1]
        if last == "":
            last = str(len(node))
        if isinstance(node.get(last), dict):
            raise FormError(key)
        node[last] = value
    # Only nested values can be lists: a top-level `0=x` stays a (meaningless) named param.
    return {k: _listify(v) for k, v in root.items()}


def as_bool(value: Any) -> bool:
    return value in (True, "true", "True", "1")
