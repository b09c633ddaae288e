"""Errors the persistence ports raise, in the domain's words (no database types leak out)."""

from __future__ import annotations


class NotFound(LookupError):
    """The entity asked for does not exist."""


class UnknownAccount(NotFound):
    pass


class UnknownSubscription(NotFound):
    pass


class UnknownInvoice(NotFound):
    pass


class UnknownAttempt(NotFound):
    pass


class DuplicateInvoice(Exception):
    """An invoice of this kind already exists for this subscription and period start
    (or its number or payment reference is taken): the renewal already ran."""


class AttemptAlreadyActive(Exception):
    """The invoice already has an attempt in ACTIVE_STATUSES; at most one may be active."""


class DuplicateExternalId(Exception):
    """Another account (or subscription) already carries this external id."""

    def __init__(self, *, what: str, external_id: str) -> None:
        super().__init__(f"another {what} already has external_id {external_id!r}")
        self.what = what
        self.external_id = external_id


class DuplicateAttempt(Exception):
    """An attempt with this id (the provider idempotency key) already exists."""
