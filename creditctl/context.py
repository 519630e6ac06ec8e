"""What every command gets: the node's channels, the output, and one way to make a call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
import grpc

from creditctl.connection import Node
from creditctl.errors import CtlError, classify
from creditctl.output import Output

R = TypeVar("R")
S = TypeVar("S")


@dataclass
class Ctl:
    """The command context: ``node`` opens channels, ``out`` renders results."""

    node: Node
    out: Output

    def stub(self, service: str, stub_class: Callable[[grpc.Channel], S]) -> S:
        return stub_class(self.node.channel(service))

    def call(self, service: str, rpc: Callable[..., R], request: Any) -> R:
        """Make one unary call; a failure becomes a CtlError with exit code 1 (refused) or 3 (unreachable)."""
        try:
            return rpc(request, timeout=self.node.timeout)
        except grpc.RpcError as exc:
            failure = classify(exc)
            where = f"{service} at {self.node.address(service)}"
            raise CtlError(
                failure.describe(where), failure.exit_code, failure.code, failure.reason, failure.metadata
            ) from exc

    def issue(self, rpc: Callable[..., R], request: Any, generated_key: Path | None) -> R:
        """A registry call that issues a certificate: a key generated for it is deleted when the node refused the
        call, and kept on any other failure (the certificate may exist)."""
        try:
            return self.call("registry", rpc, request)
        except CtlError as exc:
            if generated_key is None:
                raise
            if exc.code not in _REFUSED:
                # No answer in time, a connection lost after the request went out, a fault after the issuance was
                # committed: the node may have issued a certificate for this key (revoking the platform's previous
                # one), and deleting the key could not be undone.
                kept = f"{exc.message}; the generated key is kept at {generated_key}"
                raise CtlError(kept, exc.exit_code, exc.code, exc.reason, exc.metadata) from exc
            generated_key.unlink(missing_ok=True)
            raise


# Codes by which the node says it decided not to act: only then is no certificate for the key possible.
_REFUSED = frozenset(
    c.name
    for c in (
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.UNIMPLEMENTED,
    )
)


pass_ctl = click.make_pass_decorator(Ctl)
