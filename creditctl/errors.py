"""Exit codes scripts can trust, and how a failed gRPC call maps onto them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from services.kit.logging import redact_text
from services.kit.status import error_info

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3

# Codes a client library raises itself when no server answered; with an ErrorInfo attached they came from the node.
_TRANSPORT_CODES = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


class CtlError(Exception):
    """An error creditctl reports itself: a message for stderr and the exit code."""

    def __init__(
        self, message: str, exit_code: int, code: str = "", reason: str = "", metadata: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.code = code  # the gRPC status code name, when a call failed
        self.reason = reason  # the ErrorInfo reason the node answered with, if any
        self.metadata = metadata or {}  # and that ErrorInfo's metadata


@dataclass(frozen=True)
class Failure:
    """What a failed call means for the operator."""

    exit_code: int
    code: str
    reason: str
    message: str
    metadata: dict[str, str] = field(default_factory=dict)

    def describe(self, address: str) -> str:
        if self.exit_code == EXIT_UNREACHABLE and self.code == grpc.StatusCode.DEADLINE_EXCEEDED.name:
            # The request may have reached the node: a change may have been made, so "unreachable" would mislead.
            return (
                f"no answer from {address} in time ({self.code}: {self.message}); "
                "a change may still have been made: check before retrying"
            )
        if self.exit_code == EXIT_UNREACHABLE:
            return f"node unreachable: {address} ({self.code}: {self.message})"
        reason = f" [{self.reason}]" if self.reason else ""
        return f"refused by {address}: {self.code}{reason}: {self.message}"


def classify(exc: grpc.RpcError) -> Failure:
    """Refusals (the node answered, with an ErrorInfo or any non-transport code) exit 1; no answer exits 3."""
    code: grpc.StatusCode = exc.code()
    message: str = exc.details() or ""
    info = None
    try:
        info = error_info(exc)
    except (ValueError, AttributeError, DecodeError):
        info = None  # a status without a readable google.rpc.Status (garbled by a proxy): treat as no ErrorInfo
    reason = info.reason if info is not None else ""
    if code in _TRANSPORT_CODES and not reason:
        return Failure(EXIT_UNREACHABLE, code.name, "", message)
    return Failure(EXIT_REFUSED, code.name, reason, message, dict(info.metadata) if info is not None else {})


def error_json(
    message: str, exit_code: int, code: str = "", reason: str = "", metadata: dict[str, str] | None = None
) -> dict[str, Any]:
    """A failure as ``--json`` prints it: ``code`` is the gRPC status code name and ``reason`` the ErrorInfo reason
    when a call failed (both empty for a failure of creditctl's own, such as a usage error). A script may keep this
    in its own logs, so personal numbers (ID, mobile, card) in the text are masked; the node never sends any."""
    return {
        "error": {
            "code": code,
            "reason": reason,
            "message": redact_text(message),
            "metadata": {k: redact_text(v) for k, v in (metadata or {}).items()},
            "exit_code": exit_code,
        }
    }
