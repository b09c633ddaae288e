"""Verifying GoCardless webhooks with the official SDK, accepting any of several secrets.

`GOCARDLESS_WEBHOOK_SECRET` may hold several comma-separated secrets while one is rotated.
Verification is `gocardless_pro.webhooks.parse`: hex HMAC-SHA256 of the raw body, compared in
constant time. Always pass the body exactly as received (GoCardless's own test vector fails
once a trailing newline is added).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gocardless_pro import webhooks
from gocardless_pro.errors import InvalidSignatureError

__all__ = ["InvalidSignatureError", "parse_webhook"]


def parse_webhook(*, body: bytes, signature: str, secrets: Sequence[str]) -> list[dict[str, Any]]:
    """The events of a webhook whose `Webhook-Signature` matches one of `secrets`.

    Raises: InvalidSignatureError if none matches (answer 498/401 and drop the body).
    """
    for secret in secrets:
        try:
            return [dict(event.attributes) for event in webhooks.parse(body, secret, signature)]
        except InvalidSignatureError:
            continue
    raise InvalidSignatureError("no webhook secret matches the Webhook-Signature")
