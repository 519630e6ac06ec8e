"""Open streams and slow calls cannot take the threads unary calls and health checks are served on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider

from services.kit.server import LIVENESS, RunningServer, ServerSpec


def _serving(service: str, handlers: dict[str, Any], tracing: bool, **spec: Any) -> RunningServer:
    """A kit server on a free port serving ``handlers`` as ``service``, traced or not."""

    def register(server: grpc.Server) -> list[str]:
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
        return [service]

    provider = TracerProvider() if tracing else None
    return RunningServer(
        ServerSpec(name=service, listen_addr="127.0.0.1:0", register=register, tracer_provider=provider, **spec)
    )


def _live(ch: grpc.Channel) -> bool:
    check = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=LIVENESS), timeout=3)
    return bool(check.status == health_pb2.HealthCheckResponse.SERVING)


@pytest.mark.parametrize("tracing", [False, True])
def test_a_full_pool_of_streams_leaves_unary_calls_and_the_liveness_probe_served(tracing: bool) -> None:
    # Every open stream held one of the main pool's threads: as many watches or risk-alert subscriptions as
    # MAX_WORKERS left no thread for any unary call, the kubelet's liveness probe on the main port included, so a
    # healthy pod was restarted, and its watchers reconnected to the next one.
    workers = 3
    opened = threading.Semaphore(0)
    release = threading.Event()

    def watch(_: bytes, __: grpc.ServicerContext) -> Iterator[bytes]:
        opened.release()
        yield b"open"
        release.wait(60)

    handlers = {
        "Watch": grpc.unary_stream_rpc_method_handler(watch),
        "Echo": grpc.unary_unary_rpc_method_handler(lambda request, _: request),
    }
    server = _serving("test.Busy", handlers, tracing, max_workers=workers)
    streams: list[Any] = []  # a call nothing refers to is cancelled
    try:
        with grpc.insecure_channel(server.address) as ch:
            for _ in range(workers + 1):
                streams.append(ch.unary_stream("/test.Busy/Watch")(b"x", timeout=60))
            for _ in range(workers + 1):
                assert opened.acquire(timeout=10), "a stream never started"
            assert _live(ch)
            assert ch.unary_unary("/test.Busy/Echo")(b"ping", timeout=3) == b"ping"
    finally:
        release.set()
        server.stop(0.1)


@pytest.mark.parametrize("tracing", [False, True])
def test_the_liveness_probe_is_answered_while_every_worker_waits_on_a_slow_call(tracing: bool) -> None:
    # During a database outage every handler waits on the database (a connection, the busy timeout) and calls queue
    # behind them. The kubelet's health checks queued there too: the liveness probe timed out, and a pod with nothing
    # wrong but its database was restarted, over and over, for as long as the outage lasted.
    workers = 2
    entered = threading.Semaphore(0)
    release = threading.Event()

    def slow(request: bytes, _: grpc.ServicerContext) -> bytes:
        entered.release()
        release.wait(60)
        return request

    server = _serving("test.Slow", {"Slow": grpc.unary_unary_rpc_method_handler(slow)}, tracing, max_workers=workers)
    calls: list[Any] = []  # a call nothing refers to is cancelled
    try:
        with grpc.insecure_channel(server.address) as ch:
            calls.extend(ch.unary_unary("/test.Slow/Slow").future(b"x", timeout=60) for _ in range(workers * 2))
            for _ in range(workers):
                assert entered.acquire(timeout=10), "a call never started"
            assert _live(ch)
    finally:
        release.set()
        server.stop(0.1)


def test_fast_lane_methods_keep_their_pool_with_tracing_on() -> None:
    # With trace export on, the OpenTelemetry interceptor rebuilt every handler and the fast lane's pool was lost:
    # consent's Check ran on the main pool among 32 threads, which the fast lane exists to avoid.
    threads: list[str] = []

    def record(request: bytes, _: grpc.ServicerContext) -> bytes:
        threads.append(threading.current_thread().name)
        return request

    handlers = {"Fast": grpc.unary_unary_rpc_method_handler(record)}
    server = _serving("test.Lanes", handlers, True, fast_lane=frozenset({"/test.Lanes/Fast"}))
    try:
        with grpc.insecure_channel(server.address) as ch:
            assert ch.unary_unary("/test.Lanes/Fast")(b"x", timeout=5) == b"x"
    finally:
        server.stop(0)
    assert len(threads) == 1
    assert threads[0].startswith("test.Lanes-fast")
