"""Group ``consent``: Check throughput and latency against the bare echo server, and revocation enforcement lag."""

from __future__ import annotations

import multiprocessing as mp
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc

from bench.figures import Figure
from bench.load import LoadResult, drive, echo_baseline, median_of
from creditnode.consent.v1 import consent_service_pb2 as pb
from creditnode.consent.v1 import consent_service_pb2_grpc as pb_grpc
from tests.consent_support.replica import Replica
from tests.consent_support.signing import Enterprise, make_uscc

CHECK = "/creditnode.consent.v1.ConsentService/CheckAuthorization"
BANK = "institutions/bench-bank"
ENTERPRISES = 40


def _serve(q: Any, db_dir: str, keys: list[tuple[str, str, bytes]]) -> None:
    """Child process: the consent service as deployed (server, interceptors, JSON logs, SQLite), fake registry."""
    from services.consent.domain.ports import EnterpriseKey
    from services.consent.main import ConsentSettings, build
    from services.kit.logging import configure_logging
    from tests.consent_support.fakes import FakeRegistry, FakeSharingList

    configure_logging("consent", "INFO", stream=open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
    registry = FakeRegistry()
    registry.add_requester(BANK)
    for uscc, key_id, public_key in keys:
        registry.keys[uscc] = [EnterpriseKey(key_id, public_key, True)]
    settings = ConsentSettings(
        listen_addr="127.0.0.1:0",
        database_url=f"sqlite:///{Path(db_dir) / 'consent.db'}",
        registry_addr="127.0.0.1:9",
        watch_heartbeat_seconds=0.1,
        watch_lease_seconds=1.0,
    )
    server = build(settings, configure_logs=False, registry=registry, sharing=FakeSharingList())
    q.put(server.port)
    while True:
        time.sleep(3600)


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _revocations(address: str, people: list[Enterprise], names: list[str]) -> tuple[list[float], list[float]]:
    """Revoke each authorization with two replicas watching: (Revoke latency, lag from return to last replica)."""
    replicas = [Replica(address, f"bench-gw-{i}").start() for i in range(2)]
    latencies, lags = [], []
    try:
        for r in replicas:
            r.wait_serving()
        with grpc.insecure_channel(address) as channel:
            stub = pb_grpc.ConsentServiceStub(channel)
            for e, name in zip(people, names, strict=True):
                started = time.monotonic()
                stub.RevokeAuthorization(e.revoke(name), timeout=30)
                returned = time.monotonic()
                for r in replicas:
                    deadline = returned + 30
                    while name not in r.applied_at and time.monotonic() < deadline:
                        time.sleep(0.001)
                enforced = max(r.applied_at.get(name, float("inf")) for r in replicas)
                latencies.append((returned - started) * 1000)
                lags.append(max(0.0, enforced - returned) * 1000)
    finally:
        for r in replicas:
            r.close()
    return latencies, lags


def run(rounds: int = 3) -> list[Figure]:
    people = [Enterprise(make_uscc(900_000 + i)) for i in range(ENTERPRISES)]
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    with tempfile.TemporaryDirectory(prefix="bench-consent-") as db_dir:
        keys = [(e.uscc, e.key_id, e.public_key) for e in people]
        proc = ctx.Process(target=_serve, args=(q, db_dir, keys), daemon=True)
        proc.start()
        try:
            address = f"127.0.0.1:{q.get(timeout=120)}"
            with grpc.insecure_channel(address) as channel:
                stub = pb_grpc.ConsentServiceStub(channel)
                names = [stub.GrantAuthorization(e.grant(BANK), timeout=30).authorization.name for e in people]
            payload = pb.CheckAuthorizationRequest(
                requester=BANK, enterprise=people[0].name, purpose="PRE_LOAN", items=["TAX_PAYMENT"]
            ).SerializeToString()
            checks: list[LoadResult] = []
            echoes: list[LoadResult] = []
            small_pool_echoes: list[LoadResult] = []
            for _ in range(rounds):  # interleaved, so drift on a shared machine hits all alike
                echoes.append(echo_baseline("sync"))
                small_pool_echoes.append(echo_baseline("sync_small_pool"))
                checks.append(drive(address, CHECK, payload))
            check, echo, small = median_of(checks), median_of(echoes), median_of(small_pool_echoes)
            if check.errors:
                raise RuntimeError(f"{check.errors} Check calls failed during the benchmark")
            latencies, lags = _revocations(address, people, names)
        finally:
            proc.kill()
            proc.join()
    return [
        Figure.at_least("consent.check_qps_ratio", check.qps / echo.qps, "ratio", 0.6, baseline=echo.qps),
        Figure.at_most("consent.check_p99_over_echo_p50", check.p99_ms / echo.p50_ms, "ratio", 5, baseline=echo.p50_ms),
        # Check runs on the fast lane's small pool; against a bare echo on a pool that small:
        Figure.reported("consent.check_over_small_pool_echo_qps", check.qps / small.qps, "ratio", baseline=small.qps),
        Figure.reported("consent.check_qps", check.qps, "req/s"),
        Figure.reported("consent.check_p99_ms", check.p99_ms, "ms"),
        Figure.reported("consent.revoke_enforce_p99_ms", _percentile(lags, 0.99), "ms"),
        Figure.reported("consent.revoke_p99_ms", _percentile(latencies, 0.99), "ms"),
        Figure.reported("consent.revoke_p50_ms", statistics.median(latencies), "ms"),
    ]
