"""One request's trace spans every service it touches: real processes exporting OTLP to an in-memory collector."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as otlp_pb
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as otlp_grpc

from creditnode.gateway.v1 import gateway_service_pb2 as gw
from tests.e2e.telemetry_support import otlp_receiver
from tests.gateway_support import Node, running_node


class Collector(otlp_grpc.TraceServiceServicer):
    """An OTLP trace receiver that keeps (trace id, service name, span name) in memory."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()

    def Export(self, request: otlp_pb.ExportTraceServiceRequest, context: grpc.ServicerContext) -> object:
        with self._lock:
            for resource_spans in request.resource_spans:
                service = next(
                    (a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name"), ""
                )
                for scope in resource_spans.scope_spans:
                    self.spans += [(s.trace_id.hex(), service, s.name) for s in scope.spans]
        return otlp_pb.ExportTraceServiceResponse()

    def services_in(self, trace_id: str) -> set[str]:
        with self._lock:
            return {service for t, service, _ in self.spans if t == trace_id}


@pytest.fixture
def collector() -> Iterator[tuple[Collector, str]]:
    received = Collector()
    with otlp_receiver(received) as endpoint:
        yield received, endpoint


def _traced(trace_id: str) -> list[tuple[str, str]]:
    return [("traceparent", f"00-{trace_id}-{secrets.token_hex(8)}-01")]


def _wait_for(collector: Collector, trace_id: str, services: set[str], timeout: float = 30) -> set[str]:
    deadline = time.monotonic() + timeout
    while not services <= collector.services_in(trace_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    return collector.services_in(trace_id)


def test_a_credit_report_and_a_portrait_are_each_one_trace_across_the_services_they_touch(
    collector: tuple[Collector, str], tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    received, endpoint = collector
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)  # every service process exports its spans here
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
    with running_node(tmp_path, database_url) as node:
        _check(node, received)


def _check(node: Node, received: Collector) -> None:
    stub = node.callers["xian"].stub
    stub.GrantAuthorization(gw.GrantAuthorizationRequest(grant=node.enterprise.grant("platforms/xian")), timeout=10)
    stub.GrantAuthorization(
        gw.GrantAuthorizationRequest(grant=node.enterprise.grant("institutions/boc-xian")), timeout=10
    )

    # A credit report: the gateway reads records from the registry and records the use with consent.
    report_trace = secrets.token_hex(16)
    deadline = time.monotonic() + 60
    while True:  # the gateway's consent cache may need a moment to see the new grant
        try:
            stub.GetCreditReport(
                gw.GetCreditReportRequest(
                    enterprise=node.enterprise.name,
                    purpose="PRE_LOAN",
                    item_codes=["TAX_PAYMENT"],
                    request_id=secrets.token_hex(8),
                ),
                metadata=_traced(report_trace),
                timeout=10,
            )
            break
        except grpc.RpcError:
            assert time.monotonic() < deadline, "the report was never served"
            report_trace = secrets.token_hex(16)
            time.sleep(0.2)
    wanted = {"creditnode-gateway", "creditnode-registry", "creditnode-consent"}
    assert _wait_for(received, report_trace, wanted) >= wanted

    # A portrait for an institution: the gateway asks scoring, and records the use with consent.
    portrait_trace = secrets.token_hex(16)
    request = gw.GetPortraitRequest(
        enterprise=node.enterprise.name, purpose="PRE_LOAN", institution="institutions/boc-xian"
    )
    deadline = time.monotonic() + 60
    while True:  # scoring evaluates the enterprise asynchronously after it registers
        try:
            stub.GetPortrait(request, metadata=_traced(portrait_trace), timeout=10)
            break
        except grpc.RpcError:
            assert time.monotonic() < deadline, "the portrait was never served"
            portrait_trace = secrets.token_hex(16)
            time.sleep(0.2)
    wanted = {"creditnode-gateway", "creditnode-scoring", "creditnode-consent"}
    assert _wait_for(received, portrait_trace, wanted) >= wanted
