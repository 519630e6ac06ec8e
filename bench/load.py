"""A closed-loop load driver run in its own process, and the bare gRPC echo servers used as baselines."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import statistics
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc

from services.kit.server import ServerSpec

ECHO_METHOD = "/bench.Echo/Echo"
FAST_LANE_WORKERS = ServerSpec.fast_lane_workers


@dataclass
class LoadResult:
    qps: float
    p50_ms: float
    p99_ms: float
    errors: int


def _quantile(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _drive(
    target: str,
    method: str,
    payload: bytes,
    concurrency: int,
    seconds: float,
    metadata: tuple[tuple[str, str], ...],
) -> LoadResult:
    async with grpc.aio.insecure_channel(target) as channel:
        call = channel.unary_unary(method)
        for _ in range(20):  # warm-up, also proves the target answers
            await call(payload, metadata=metadata, timeout=10)
        latencies: list[float] = []
        errors = 0
        stop_at = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                t = time.perf_counter()
                try:
                    await call(payload, metadata=metadata, timeout=10)
                    latencies.append((time.perf_counter() - t) * 1000)
                except grpc.aio.AioRpcError:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        return LoadResult(len(latencies) / elapsed, _quantile(latencies, 0.5), _quantile(latencies, 0.99), errors)


def _drive_in_process(q: Any, *args: Any) -> None:
    q.put(asyncio.run(_drive(*args)))


def drive(
    target: str,
    method: str,
    payload: bytes,
    *,
    concurrency: int = 16,
    seconds: float = 3.0,
    metadata: tuple[tuple[str, str], ...] = (),
) -> LoadResult:
    """Run the load from a separate process so the client does not share the server's interpreter."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_drive_in_process, args=(q, target, method, payload, concurrency, seconds, metadata))
    p.start()
    result: LoadResult = q.get(timeout=seconds + 120)
    p.join()
    return result


def _sync_echo_server(q: Any, workers: int = 32) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    handler = grpc.unary_unary_rpc_method_handler(lambda req, _: req)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("bench.Echo", {"Echo": handler}),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    q.put(port)
    server.wait_for_termination()


def _small_pool_echo_server(q: Any) -> None:
    """The bare echo on a pool as small as the services' fast lane: the fair baseline for fast-lane methods."""
    _sync_echo_server(q, FAST_LANE_WORKERS)


def _kit_fast_lane_echo_server(q: Any) -> None:
    _kit_echo_server(q, fast_lane=True)


def _kit_echo_server(q: Any, fast_lane: bool = False) -> None:
    """The same echo behind the services' own bootstrap (interceptors, logging, health): the kit's own cost."""
    import io

    from services.kit.logging import configure_logging
    from services.kit.server import RunningServer, ServerSpec

    configure_logging("bench", stream=io.StringIO())  # render every line, as a service does, but keep the console quiet

    def register(server: grpc.Server) -> list[str]:
        handler = grpc.unary_unary_rpc_method_handler(lambda req, _: req)
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("bench.Echo", {"Echo": handler}),))
        return ["bench.Echo"]

    lane = frozenset({ECHO_METHOD}) if fast_lane else frozenset()
    server = RunningServer(
        ServerSpec(name="bench", listen_addr="127.0.0.1:0", register=register, reflection=False, fast_lane=lane)
    )
    q.put(server.port)
    server.server.wait_for_termination()


def _aio_echo_server(q: Any) -> None:
    async def serve() -> None:
        server = grpc.aio.server()

        async def echo(req: bytes, _: Any) -> bytes:
            return req

        handler = grpc.unary_unary_rpc_method_handler(echo)
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("bench.Echo", {"Echo": handler}),))
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        q.put(port)
        await server.wait_for_termination()

    asyncio.run(serve())


class ServerProcess:
    """A server running in a child process until ``stop``."""

    def __init__(self, target: Callable[[Any], None]) -> None:
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        self.proc = ctx.Process(target=target, args=(q,), daemon=True)
        self.proc.start()
        self.address = f"127.0.0.1:{q.get(timeout=60)}"

    def stop(self) -> None:
        self.proc.kill()
        self.proc.join()


def echo_baseline(flavor: str = "sync", **kw: Any) -> LoadResult:
    target = {
        "sync": _sync_echo_server,
        "sync_small_pool": _small_pool_echo_server,
        "aio": _aio_echo_server,
        "kit": _kit_echo_server,
        "kit_fast_lane": _kit_fast_lane_echo_server,
    }[flavor]
    server = ServerProcess(target)
    try:
        return drive(server.address, ECHO_METHOD, b"x" * 64, **kw)
    finally:
        server.stop()


def median_of(results: list[LoadResult]) -> LoadResult:
    return LoadResult(
        statistics.median(r.qps for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        sum(r.errors for r in results),
    )
