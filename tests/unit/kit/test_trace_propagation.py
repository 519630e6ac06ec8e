"""The services' propagator keeps a caller's trace and span ids and drops its tracestate and baggage."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import baggage, propagate, trace
from opentelemetry.context import attach, detach

from services.kit.tracing import TraceParentOnly, install_propagator

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
INCOMING = {
    "traceparent": PARENT,
    "tracestate": "cn=110101199003077777,ph=13800138000",
    "baggage": "phone=13800138000",
}


def test_the_ids_and_flags_are_kept_and_the_callers_tracestate_is_not() -> None:
    ctx = TraceParentOnly().extract(INCOMING)
    remote = trace.get_current_span(ctx).get_span_context()
    assert (format(remote.trace_id, "032x"), format(remote.span_id, "016x")) == (TRACE_ID, "00f067aa0ba902b7")
    assert (remote.is_remote, remote.trace_flags.sampled) == (True, True)
    assert not remote.trace_state
    assert baggage.get_all(ctx) == {}


def test_a_call_made_in_that_context_carries_the_trace_and_nothing_the_caller_added() -> None:
    propagator = TraceParentOnly()
    token = attach(baggage.set_baggage("phone", "13800138000", propagator.extract(INCOMING)))
    try:
        carrier: dict[str, str] = {}
        propagator.inject(carrier)
    finally:
        detach(token)
    assert set(carrier) == {"traceparent"}
    assert TRACE_ID in carrier["traceparent"]


def test_a_context_without_tracestate_is_extracted_as_the_standard_propagator_does() -> None:
    ctx = TraceParentOnly().extract({"traceparent": PARENT})
    assert format(trace.get_current_span(ctx).get_span_context().trace_id, "032x") == TRACE_ID
    assert not trace.get_current_span(TraceParentOnly().extract({})).get_span_context().is_valid


@pytest.fixture
def global_textmap() -> Iterator[None]:
    before = propagate.get_global_textmap()
    try:
        yield
    finally:
        propagate.set_global_textmap(before)


@pytest.mark.usefixtures("global_textmap")
def test_start_up_installs_it_for_the_whole_process() -> None:
    install_propagator()
    carrier: dict[str, str] = {}
    ctx = propagate.extract(INCOMING)
    token = attach(ctx)
    try:
        propagate.inject(carrier)
    finally:
        detach(token)
    assert set(carrier) == {"traceparent"}
    assert not trace.get_current_span(ctx).get_span_context().trace_state
