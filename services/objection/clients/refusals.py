"""A consumer's failed call as the outbox reads it: refused for good (the dispatcher parks the event) or retry later."""

from __future__ import annotations

import grpc

from services.kit.errors import AlreadyExists, DomainError, FailedPrecondition, InvalidArgument, NotFound, Unavailable
from services.kit.status import error_info

# Codes that say "this request, as it is, will never pass". Every other code stays retryable: UNAVAILABLE,
# DEADLINE_EXCEEDED, ABORTED and RESOURCE_EXHAUSTED pass by themselves, and INTERNAL, PERMISSION_DENIED or
# UNIMPLEMENTED pass once the consumer or the node's configuration is fixed, which retrying then picks up.
_REFUSALS: dict[grpc.StatusCode, type[DomainError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.OUT_OF_RANGE: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
}


def unavailable(exc: grpc.RpcError, what: str) -> Unavailable:
    """Retry later; ``what`` names the consumer's method (never anything from the payload)."""
    return Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", f"{what} is unavailable", {"code": exc.code().name})


def delivery_failure(exc: grpc.RpcError, what: str) -> DomainError:
    """The consumer's refusal, of its own kind with its own reason, when retrying cannot help; else ``unavailable``.

    Only the code and the reason (an ErrorReason name) are kept: the consumer's message may quote the payload."""
    refusal = _REFUSALS.get(exc.code())
    if refusal is None:
        return unavailable(exc, what)
    info = error_info(exc)
    reason = info.reason if info is not None and info.reason else "ERROR_REASON_UNSPECIFIED"
    return refusal(reason, f"{what} refused the event", {"code": exc.code().name})
