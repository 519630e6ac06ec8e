"""Group ``grpc``: the bare echo baseline, sync versus asyncio servers, and the cost of the services' bootstrap."""

from __future__ import annotations

from bench.figures import Figure
from bench.load import echo_baseline, median_of


def run(rounds: int = 3) -> list[Figure]:
    sync, aio, kit = [], [], []
    for _ in range(rounds):  # interleaved, so drift on a shared machine hits all alike
        sync.append(echo_baseline("sync"))
        aio.append(echo_baseline("aio"))
        kit.append(echo_baseline("kit"))
    s, a, k = median_of(sync), median_of(aio), median_of(kit)
    sync_c1 = echo_baseline("sync", concurrency=1)
    aio_c1 = echo_baseline("aio", concurrency=1)
    return [
        Figure.reported("grpc.echo_qps", s.qps, "req/s"),
        Figure.reported("grpc.echo_p50_ms", s.p50_ms, "ms"),
        Figure.reported("grpc.echo_aio_qps", a.qps, "req/s"),
        Figure.reported("grpc.kit_echo_ratio", k.qps / s.qps, "ratio", baseline=s.qps),
        Figure.reported("grpc.aio_over_sync_qps", a.qps / s.qps, "ratio", baseline=s.qps),
        Figure.reported("grpc.aio_over_sync_p50_c1", aio_c1.p50_ms / sync_c1.p50_ms, "ratio", baseline=sync_c1.p50_ms),
    ]
