"""Client channels to other services: one per downstream, with deadlines, tracing and retries only on UNAVAILABLE."""

from __future__ import annotations

import contextlib
import json
import queue
import time
from collections.abc import Iterator
from typing import Any, TypeVar

import grpc
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.grpc import client_interceptor as otel_client_interceptor
from opentelemetry.instrumentation.grpc import grpcext
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider

from services.kit.logging import current_call

DEFAULT_TIMEOUT_SECONDS = 5.0

# Retrying anything but UNAVAILABLE could repeat a write the server already made; mutations carry request_id anyway.
# Retries are throttled per channel: once about half the recent calls failed, no call is retried until successes come
# back. A service whose database is down answers every call UNAVAILABLE, and unthrottled retries sent it four times
# the calls for as long as the outage lasted.
_SERVICE_CONFIG = json.dumps(
    {
        "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1},
        "methodConfig": [
            {
                "name": [{}],
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "1s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ],
    }
)


@contextlib.contextmanager
def serving_many_callers() -> Iterator[None]:
    """Calls made inside serve several callers at once (a combined batch): they keep their own deadline, not the rest
    of the one call whose thread happens to make them (a caller in a hurry must not fail the others' requests)."""
    call = current_call.get()
    token = current_call.set(None if call is None else (call[0], call[1], None))
    try:
        yield
    finally:
        current_call.reset(token)


class _DefaultDeadline(grpc.UnaryUnaryClientInterceptor, grpc.StreamUnaryClientInterceptor):  # type: ignore[type-arg]
    """Gives every unary call a deadline unless the caller set one, and never one beyond the deadline of the call
    being served (its caller has given up by then); streams (watches) are left open-ended."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    def _details(self, details: Any) -> Any:
        timeout = self.timeout if details.timeout is None else details.timeout
        serving = current_call.get()
        if serving is not None and serving[2] is not None:
            timeout = max(min(timeout, serving[2] - time.monotonic()), 0.0)
        if timeout == details.timeout:
            return details
        return _CallDetails.of(details, timeout, details.metadata)

    def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return continuation(self._details(client_call_details), request)

    def intercept_stream_unary(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return continuation(self._details(client_call_details), request_iterator)


class _PropagateTrace(
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.UnaryStreamClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamStreamClientInterceptor,  # type: ignore[type-arg]
):
    """With tracing off, only carries the current trace context to the next hop (no spans): the OpenTelemetry
    interceptor cost a fifth of a downstream call's client-side time just to make spans nobody records."""

    @staticmethod
    def _details(details: Any) -> Any:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        if not carrier:
            return details
        return _CallDetails.of(details, details.timeout, [*(details.metadata or ()), *carrier.items()])

    def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return continuation(self._details(client_call_details), request)

    def intercept_stream_unary(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return continuation(self._details(client_call_details), request_iterator)

    def intercept_stream_stream(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return continuation(self._details(client_call_details), request_iterator)


class _CallDetails(grpc.ClientCallDetails):
    def __init__(
        self,
        method: str,
        timeout: float | None,
        metadata: Any,
        credentials: Any,
        wait_for_ready: Any,
        compression: Any,
    ) -> None:
        self.method = method
        self.timeout = timeout
        self.metadata = metadata
        self.credentials = credentials
        self.wait_for_ready = wait_for_ready
        self.compression = compression

    @classmethod
    def of(cls, details: Any, timeout: float | None, metadata: Any) -> _CallDetails:
        """``details`` with another timeout and metadata."""
        return cls(details.method, timeout, metadata, details.credentials, details.wait_for_ready, details.compression)


def make_channel(
    addr: str,
    *,
    tracer_provider: trace.TracerProvider | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    credentials: grpc.ChannelCredentials | None = None,
    options: list[tuple[str, Any]] | None = None,
) -> grpc.Channel:
    """One long-lived channel to ``addr``; reuse it for every call to that downstream."""
    opts: list[tuple[str, Any]] = [
        ("grpc.enable_retries", 1),
        ("grpc.service_config", _SERVICE_CONFIG),
        ("grpc.keepalive_time_ms", 30_000),
        *(options or []),
    ]
    if credentials is not None:
        channel = grpc.secure_channel(addr, credentials, options=opts)
    else:
        channel = grpc.insecure_channel(addr, options=opts)
    provider = tracer_provider or trace.get_tracer_provider()
    if isinstance(provider, SdkTracerProvider):
        traced = grpcext.intercept_channel(channel, otel_client_interceptor(tracer_provider=provider))
    else:
        traced = grpc.intercept_channel(channel, _PropagateTrace())
    return grpc.intercept_channel(traced, _DefaultDeadline(timeout))


class Reconnects:
    """The waits between a watch's attempts: ``first`` after a stream that delivered something, doubling up to
    ``cap`` while none does, so a service refusing every watch (its database down) is not asked again every ``first``
    seconds by every replica for as long as that lasts."""

    def __init__(self, first: float, cap: float = 2.0) -> None:
        self._first = first
        self._cap = max(cap, first)
        self._next = first

    def delivered(self) -> None:
        self._next = self._first

    def next_wait(self) -> float:
        wait = self._next
        self._next = min(wait * 2, self._cap)
        return wait


M = TypeVar("M")


def queued_requests(start: M, more: queue.Queue[M | None]) -> Iterator[M]:
    """A bidirectional stream's requests: ``start``, then what is put on ``more`` until None (the stream's end)."""
    yield start
    while True:
        item = more.get()
        if item is None:
            return
        yield item
