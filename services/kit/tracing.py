"""OpenTelemetry tracing: a real provider only when an exporter is configured, otherwise the no-op API.

With no exporter the API's no-op tracer still carries an incoming trace context through the service,
so ids propagate hop to hop at almost no cost.
"""

from __future__ import annotations

from typing import Any

import grpc
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.grpc._server import OpenTelemetryServerInterceptor
from opentelemetry.instrumentation.grpc.version import __version__ as _instrumentation_version
from opentelemetry.propagators.textmap import CarrierT, Getter, default_getter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator


def build_tracer_provider(
    service: str, otlp_endpoint: str = "", extra_processor: SpanProcessor | None = None
) -> trace.TracerProvider:
    """A provider for this service: SDK with OTLP export when configured, else the global no-op one."""
    if not otlp_endpoint and extra_processor is None:
        return trace.NoOpTracerProvider()
    provider = TracerProvider(resource=Resource.create({"service.name": f"creditnode-{service}"}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint, insecure=True)))
    if extra_processor is not None:
        provider.add_span_processor(extra_processor)
    return provider


class TraceParentOnly(TraceContextTextMapPropagator):
    """W3C trace context with the ids and flags only: the caller's ``tracestate`` is dropped, and no ``baggage`` is
    read or passed on (OpenTelemetry's default propagator carries both).

    Both are free text a platform's software chooses; ``tracestate`` would be exported with every span of the trace,
    and baggage would travel into every internal call. A trace id and a span id are hex by the format's grammar, so
    following a call across services loses nothing."""

    def extract(
        self, carrier: CarrierT, context: Context | None = None, getter: Getter[CarrierT] = default_getter
    ) -> Context:
        extracted = super().extract(carrier, context, getter)
        remote = trace.get_current_span(extracted).get_span_context()
        if not remote.is_valid or not remote.trace_state:
            return extracted
        bare = trace.SpanContext(remote.trace_id, remote.span_id, is_remote=True, trace_flags=remote.trace_flags)
        return trace.set_span_in_context(trace.NonRecordingSpan(bare), extracted)


def install_propagator() -> None:
    """Make ``TraceParentOnly`` the process's propagator (every service's start-up does)."""
    propagate.set_global_textmap(TraceParentOnly())


class _ServerSpans(OpenTelemetryServerInterceptor):
    """The instrumentation's server interceptor, starting spans with the RPC's standard attributes only.

    The instrumentation also records the caller's ``user-agent`` (free text a platform's software chooses, which may
    name its user or carry a number) and the peer's address; neither is needed to follow a call, so neither is kept.
    Its status handling (codes set or aborted with, exceptions) is unchanged. ``_start_span`` is the instrumentation's
    own (pinned in requirements.lock); ``tests/integration/test_kit_server.py`` fails if it stops being called."""

    def _start_span(self, handler_call_details: Any, context: Any, set_status_on_exception: bool = False) -> Any:
        service, _, method = str(handler_call_details.method).lstrip("/").partition("/")
        attributes = {
            "rpc.system": "grpc",
            "rpc.service": service,
            "rpc.method": method,
            "rpc.grpc.status_code": grpc.StatusCode.OK.value[0],
        }
        return self._tracer.start_as_current_span(
            name=handler_call_details.method,
            kind=trace.SpanKind.SERVER,
            attributes=attributes,
            set_status_on_exception=set_status_on_exception,
        )


def server_span_interceptor(provider: trace.TracerProvider) -> Any:
    """The server interceptor that traces each call: one SERVER span whose attributes are the rpc.* ones only."""
    tracer = trace.get_tracer(
        "opentelemetry.instrumentation.grpc",
        _instrumentation_version,
        provider,
        schema_url="https://opentelemetry.io/schemas/1.11.0",
    )
    return _ServerSpans(tracer)  # type: ignore[no-untyped-call]  # its __init__ (the instrumentation's) is untyped
