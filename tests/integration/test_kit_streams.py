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

    def register(server: grpc.Server) -> list[str]:
        handlers = {
            "Watch": grpc.unary_stream_rpc_method_handler(watch),
            "Echo": grpc.unary_unary_rpc_method_handler(lambda request, _: request),
        }
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Busy", handlers),))
        return ["test.Busy"]

    server = RunningServer(
        ServerSpec(
            name="busy",
            listen_addr="127.0.0.1:0",
            register=register,
            max_workers=workers,
            tracer_provider=TracerProvider() if tracing else None,
        )
    )
    streams: list[Any] = []  # a call nothing refers to is cancelled
    try:
        with grpc.insecure_channel(server.address) as ch:
            for _ in range(workers + 1):
                streams.append(ch.unary_stream("/test.Busy/Watch")(b"x", timeout=60))
            for _ in range(workers + 1):
                assert opened.acquire(timeout=10), "a stream never started"
            live = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=LIVENESS), timeout=3)
            assert live.status == health_pb2.HealthCheckResponse.SERVING
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

    def register(server: grpc.Server) -> list[str]:
        handlers = {"Slow": grpc.unary_unary_rpc_method_handler(slow)}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Slow", handlers),))
        return ["test.Slow"]

    server = RunningServer(
        ServerSpec(
            name="slow",
            listen_addr="127.0.0.1:0",
            register=register,
            max_workers=workers,
            tracer_provider=TracerProvider() if tracing else None,
        )
    )
    calls: list[Any] = []  # a call nothing refers to is cancelled
    try:
        with grpc.insecure_channel(server.address) as ch:
            calls.extend(ch.unary_unary("/test.Slow/Slow").future(b"x", timeout=60) for _ in range(workers * 2))
            for _ in range(workers):
                assert entered.acquire(timeout=10), "a call never started"
            live = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=LIVENESS), timeout=3)
            assert live.status == health_pb2.HealthCheckResponse.SERVING
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

    def register(server: grpc.Server) -> list[str]:
        handlers = {"Fast": grpc.unary_unary_rpc_method_handler(record)}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Lanes", handlers),))
        return ["test.Lanes"]

    server = RunningServer(
        ServerSpec(
            name="Lanes",
            listen_addr="127.0.0.1:0",
            register=register,
            fast_lane=frozenset({"/test.Lanes/Fast"}),
            tracer_provider=TracerProvider(),
        )
    )
    try:
        with grpc.insecure_channel(server.address) as ch:
            assert ch.unary_unary("/test.Lanes/Fast")(b"x", timeout=5) == b"x"
    finally:
        server.stop(0)
    assert len(threads) == 1
    assert threads[0].startswith("Lanes-fast")
