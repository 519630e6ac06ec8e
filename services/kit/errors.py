"""Domain errors: what went wrong and why, without any transport; the server maps them to gRPC statuses.

``reason`` is a value name of ``creditnode.common.v1.ErrorReason`` (e.g. ``ERROR_REASON_INVALID_USCC``).
Messages and metadata must never carry personal data: they reach callers and logs.
"""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base of every expected, explainable failure. Subclasses fix the kind; ``reason`` names the cause."""

    kind = "INTERNAL"

    def __init__(self, reason: str, message: str, metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.metadata = dict(metadata or {})


class InvalidArgument(DomainError):
    """The request itself is malformed; retrying it unchanged will fail again."""

    kind = "INVALID_ARGUMENT"


class NotFound(DomainError):
    """The named resource does not exist (only said after permission was checked)."""

    kind = "NOT_FOUND"


class AlreadyExists(DomainError):
    """A resource with that identity exists and the request is not an idempotent replay of it."""

    kind = "ALREADY_EXISTS"


class FailedPrecondition(DomainError):
    """The system is not in a state that allows the request (e.g. an illegal lifecycle transition)."""

    kind = "FAILED_PRECONDITION"


class PermissionDenied(DomainError):
    """The caller may not do this, whether or not the target exists."""

    kind = "PERMISSION_DENIED"


class Unauthenticated(DomainError):
    """The caller could not be identified."""

    kind = "UNAUTHENTICATED"


class Aborted(DomainError):
    """A concurrent change won; the caller may re-read and retry."""

    kind = "ABORTED"


class ResourceExhausted(DomainError):
    """A quota or size limit was reached."""

    kind = "RESOURCE_EXHAUSTED"


class Unavailable(DomainError):
    """A dependency is unreachable or not ready; the caller may retry later."""

    kind = "UNAVAILABLE"
