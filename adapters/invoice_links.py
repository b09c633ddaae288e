"""Signed, unguessable links to a customer's invoice page: no login, the token is the key.

A token is base64url (no padding) of `version ‖ HMAC-SHA256(secret, purpose ‖ invoice id) ‖
invoice id`. The invoice id travels inside the token so that verifying needs no database:
a token is checked before anything is looked up, so a wrong one tells nothing about which
invoices exist. Several secrets verify (a rotation); the first one signs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

#: Bumped if the token layout ever changes; old links then stop verifying.
VERSION = 1
#: Binds the MAC to this use, so the same secret could never sign something else alike.
_PURPOSE = b"paycollect:invoice-link:v1:"
_MAC_BYTES = hashlib.sha256().digest_size
#: Invoice ids are short (UUIDs); anything longer is not a token of ours.
_MAX_ID_BYTES = 128
#: The page's path under the public base URL.
PAGE_PREFIX = "/i/"


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes | None:
    if not text.isascii():
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


class InvoiceLinks:
    """Signs invoice ids into page URLs and verifies tokens back into ids."""

    def __init__(self, *, secrets: Sequence[str], base_url: str) -> None:
        if not secrets or not all(secrets):
            raise ValueError("invoice links need at least one non-empty secret")
        self._keys = tuple(secret.encode("utf-8") for secret in secrets)
        self.base_url = base_url.rstrip("/")

    def _mac(self, key: bytes, invoice_id: bytes) -> bytes:
        return hmac.new(key, _PURPOSE + invoice_id, hashlib.sha256).digest()

    def token_for(self, invoice_id: str) -> str:
        raw = invoice_id.encode("utf-8")
        if not raw or len(raw) > _MAX_ID_BYTES:
            raise ValueError(f"cannot sign invoice id {invoice_id!r}")
        return _b64encode(bytes([VERSION]) + self._mac(self._keys[0], raw) + raw)

    def url_for(self, invoice_id: str) -> str:
        return f"{self.base_url}{PAGE_PREFIX}{self.token_for(invoice_id)}"

    def invoice_id(self, token: str) -> str | None:
        """The invoice id a genuine token names; None for anything else (wrong, truncated,
        tampered, signed with a retired secret). MACs are compared in constant time, and
        against every secret, so the answer's timing does not depend on which one matched."""
        raw = _b64decode(token) if len(token) < 2 * (_MAC_BYTES + _MAX_ID_BYTES) else None
        if raw is None or len(raw) <= 1 + _MAC_BYTES or raw[0] != VERSION:
            return None
        mac, invoice_id = raw[1:1 + _MAC_BYTES], raw[1 + _MAC_BYTES:]
        matched = False
        for key in self._keys:
            matched |= hmac.compare_digest(mac, self._mac(key, invoice_id))
        # Re-encoding must give the token back: base64 accepts some non-canonical spellings
        # (trailing bits) that would otherwise make several tokens per invoice.
        if not matched or _b64encode(raw) != token:
            return None
        try:
            return invoice_id.decode("utf-8")
        except UnicodeDecodeError:
            return None


__all__ = ["PAGE_PREFIX", "InvoiceLinks"]
