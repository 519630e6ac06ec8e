"""Downstream failures turned into domain errors: the caller sees the downstream's reason, never its details."""

from __future__ import annotations

import grpc

from creditnode.common.v1 import error_reason_pb2
from creditnode.consent.v1 import consent_service_pb2 as consent_pb
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


_KINDS_BY_NUMBER = {code.value[0]: kind for code, kind in _KINDS.items()}


def relayed_check_error(error: consent_pb.CheckAuthorizationError, what: str) -> errors.DomainError:
    """``relayed`` for one failed check of a consent batch, which carries its code and reason in the message."""
    kind = _KINDS_BY_NUMBER.get(error.code)
    if kind is None or not error.reason:
        return unavailable(what)
    return kind(error_reason_pb2.ErrorReason.Name(error.reason), error.message, dict(error.metadata))
