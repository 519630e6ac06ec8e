"""Group ``grpc``: the bare echo baseline, sync versus asyncio servers, and the cost of the services' bootstrap."""

from __future__ import annotations

from bench.figures import Figure
from bench.load import LoadResult, echo_baseline, median_of


def run(rounds: int = 3) -> list[Figure]:
    flavors = ("sync", "sync_small_pool", "aio", "kit", "kit_fast_lane")
    runs: dict[str, list[LoadResult]] = {f: [] for f in flavors}
    for _ in range(rounds):  # interleaved, so drift on a shared machine hits all alike
        for flavor in flavors:
            runs[flavor].append(echo_baseline(flavor))
    s, small, a, k, kf = (median_of(runs[f]) for f in flavors)
    sync_c1 = echo_baseline("sync", concurrency=1)
    aio_c1 = echo_baseline("aio", concurrency=1)
    return [
        Figure.reported("grpc.echo_qps", s.qps, "req/s"),
        Figure.reported("grpc.echo_p50_ms", s.p50_ms, "ms"),
        Figure.reported("grpc.echo_aio_qps", a.qps, "req/s"),
        Figure.reported("grpc.kit_echo_ratio", k.qps / s.qps, "ratio", baseline=s.qps),
        # A pool of a few threads serves more than 32 (less contention for the GIL): fast-lane figures are also
        # reported against this faster echo, so tuning cannot pass for the service's own speed.
        Figure.reported("grpc.small_pool_over_sync_qps", small.qps / s.qps, "ratio", baseline=s.qps),
        Figure.reported("grpc.kit_fast_lane_over_small_pool_qps", kf.qps / small.qps, "ratio", baseline=small.qps),
        Figure.reported("grpc.aio_over_sync_qps", a.qps / s.qps, "ratio", baseline=s.qps),
        Figure.reported("grpc.aio_over_sync_p50_c1", aio_c1.p50_ms / sync_c1.p50_ms, "ratio", baseline=sync_c1.p50_ms),
    ]
