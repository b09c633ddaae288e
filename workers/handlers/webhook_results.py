"""What a webhook handler answers: done (with a note), or parked until later."""

from __future__ import annotations

from dataclasses import dataclass

from domain.payments import PaymentAttempt
from domain.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class Handled:
    """Applied (or deliberately ignored): mark the inbox row processed."""

    note: str


@dataclass(frozen=True, slots=True)
class Parked:
    """Cannot be applied yet: leave it unprocessed; the sweeper re-drives it."""

    note: str


Result = Handled | Parked


def find_attempt(uow: UnitOfWork, *, attempt_id: str | None,
                 provider_ref: str | None) -> PaymentAttempt | None:
    """The attempt an event is about: by our id (provider metadata), else the provider's ref."""
    if attempt_id:
        found = uow.attempts.get(attempt_id=attempt_id)
        if found is not None:
            return found
    if provider_ref:
        return uow.attempts.by_provider_ref(provider_ref=provider_ref)
    return None


__all__ = ["Handled", "Parked", "Result", "find_attempt"]
