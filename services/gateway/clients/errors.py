"""Downstream failures turned into domain errors: the caller sees the downstream's reason, never its details."""

from __future__ import annotations

import grpc

from services.kit import errors
from services.kit.status import error_info

_KINDS: dict[grpc.StatusCode, type[errors.DomainError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: errors.InvalidArgument,
    grpc.StatusCode.NOT_FOUND: errors.NotFound,
    grpc.StatusCode.ALREADY_EXISTS: errors.AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: errors.FailedPrecondition,
    grpc.StatusCode.PERMISSION_DENIED: errors.PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: errors.Unauthenticated,
    grpc.StatusCode.ABORTED: errors.Aborted,
    grpc.StatusCode.RESOURCE_EXHAUSTED: errors.ResourceExhausted,
}


def unavailable(what: str) -> errors.Unavailable:
    return errors.Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", f"{what} is unavailable", {"dependency": what})


def relayed(exc: grpc.RpcError, what: str) -> errors.DomainError:
    """A downstream's expected failure keeps its code and reason; anything else becomes DEPENDENCY_UNAVAILABLE."""
    kind = _KINDS.get(exc.code())
    info = error_info(exc)
    if kind is None or info is None:
        return unavailable(what)
    return kind(info.reason, exc.details() or "", dict(info.metadata))
