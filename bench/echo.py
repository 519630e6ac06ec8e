"""Group ``grpc``: the bare echo baseline, and sync versus asyncio gRPC servers on this machine."""

from __future__ import annotations

from bench.figures import Figure
from bench.load import echo_baseline, median_of


def run(rounds: int = 3) -> list[Figure]:
    sync, aio = [], []
    for _ in range(rounds):  # interleaved, so drift on a shared machine hits both alike
        sync.append(echo_baseline("sync"))
        aio.append(echo_baseline("aio"))
    s, a = median_of(sync), median_of(aio)
    sync_c1 = echo_baseline("sync", concurrency=1)
    aio_c1 = echo_baseline("aio", concurrency=1)
    return [
        Figure.reported("grpc.echo_qps", s.qps, "req/s"),
        Figure.reported("grpc.echo_p50_ms", s.p50_ms, "ms"),
        Figure.reported("grpc.echo_aio_qps", a.qps, "req/s"),
        Figure.reported("grpc.aio_over_sync_qps", a.qps / s.qps, "ratio", baseline=s.qps),
        Figure.reported("grpc.aio_over_sync_p50_c1", aio_c1.p50_ms / sync_c1.p50_ms, "ratio", baseline=sync_c1.p50_ms),
    ]
