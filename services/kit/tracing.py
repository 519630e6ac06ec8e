"""OpenTelemetry tracing: a real provider only when an exporter is configured, otherwise the no-op API.

With no exporter the API's no-op tracer still carries an incoming trace context through the service,
so ids propagate hop to hop at almost no cost.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


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
