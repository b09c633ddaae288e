"""Operator-facing errors, each with the exit code the CLI returns and the HTTP status."""

from __future__ import annotations


class OperatorError(Exception):
    """Base: a clear message for the operator."""

    exit_code = 1
    http_status = 400


class NotFoundError(OperatorError):
    """An id names nothing."""

    exit_code = 3
    http_status = 404


class BadArgument(OperatorError):
    """An argument is malformed or arguments do not fit together."""

    exit_code = 2
    http_status = 422


class Refused(OperatorError):
    """The action was refused (e.g. a hard decline without --force); the message says why."""

    exit_code = 4
    http_status = 409


class UnmatchedWire(OperatorError):
    """A received wire names no invoice: it is stored for review."""

    exit_code = 5
    http_status = 202


class ServiceUnavailable(OperatorError):
    """A service the command needs is not configured (e.g. REDIS_URL)."""

    exit_code = 6
    http_status = 503
