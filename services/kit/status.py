"""Turns domain errors into ``google.rpc.Status`` with exactly one ``ErrorInfo``, and reads them back on clients."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from creditnode.common.v1 import error_reason_pb2
from services.kit.errors import DomainError

ERROR_DOMAIN = "creditnode"

_CODES: dict[str, int] = {
    "INVALID_ARGUMENT": code_pb2.INVALID_ARGUMENT,
    "NOT_FOUND": code_pb2.NOT_FOUND,
    "ALREADY_EXISTS": code_pb2.ALREADY_EXISTS,
    "FAILED_PRECONDITION": code_pb2.FAILED_PRECONDITION,
    "PERMISSION_DENIED": code_pb2.PERMISSION_DENIED,
    "UNAUTHENTICATED": code_pb2.UNAUTHENTICATED,
    "ABORTED": code_pb2.ABORTED,
    "RESOURCE_EXHAUSTED": code_pb2.RESOURCE_EXHAUSTED,
    "UNAVAILABLE": code_pb2.UNAVAILABLE,
    "INTERNAL": code_pb2.INTERNAL,
}


def known_reason(reason: str) -> str:
    """A reason not in the ErrorReason enum is a programming error; never send an unknown name."""
    known = error_reason_pb2.DESCRIPTOR.enum_types_by_name["ErrorReason"].values_by_name
    return reason if reason in known else "ERROR_REASON_UNSPECIFIED"


def _status(code: int, message: str, reason: str, metadata: dict[str, str]) -> grpc.Status:
    info = error_details_pb2.ErrorInfo(reason=known_reason(reason), domain=ERROR_DOMAIN, metadata=metadata)
    detail = any_pb2.Any()
    detail.Pack(info)
    return rpc_status.to_status(status_pb2.Status(code=code, message=message, details=[detail]))


def error_code(exc: DomainError) -> int:
    """The ``google.rpc.Code`` number a call failing with ``exc`` answers with."""
    return _CODES[exc.kind]


def domain_error_status(exc: DomainError) -> grpc.Status:
    return _status(_CODES[exc.kind], exc.message, exc.reason, exc.metadata)


def internal_error_status() -> grpc.Status:
    # Internal details stay in the (redacted) log; the caller learns only that it was our fault.
    return _status(code_pb2.INTERNAL, "internal error", "ERROR_REASON_UNSPECIFIED", {})


def error_info(exc: grpc.RpcError) -> error_details_pb2.ErrorInfo | None:
    """The ErrorInfo a creditnode server attached to a failed call, if any."""
    status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    if status is None:
        return None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    return None
