"""A failed call as a creditnode server answers it, for fakes standing in for another service's stub."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status


class Refused(grpc.RpcError):
    """A status code and, when ``reason`` is given, an ErrorInfo in the trailing metadata (as ``kit.status`` reads)."""

    def __init__(self, code: grpc.StatusCode, reason: str = "", message: str = "refused") -> None:
        details = []
        if reason:
            detail = any_pb2.Any()
            detail.Pack(error_details_pb2.ErrorInfo(reason=reason, domain="creditnode"))
            details.append(detail)
        status = rpc_status.to_status(status_pb2.Status(code=code.value[0], message=message, details=details))
        self._code, self._message, self._trailing = code, message, status.trailing_metadata

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._message

    def trailing_metadata(self) -> Any:
        return self._trailing
