"""No stale window: gateway replicas deciding from memory never release under a Pause/Revoke that has returned."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from creditnode.consent.v1 import consent_service_pb2 as pb
from creditnode.consent.v1 import consent_service_pb2_grpc as pb_grpc
from services.consent.main import ConsentSettings, build
from services.kit.server import RunningServer
from tests.consent_support.fakes import FakeRegistry, FakeSharingList
from tests.consent_support.replica import FAIL_CLOSED, Replica
from tests.consent_support.signing import Enterprise, make_uscc

BANK = "institutions/boc-xian"
LEASE = 0.6


@dataclass
class Node:
    server: RunningServer
    stub: pb_grpc.ConsentServiceStub
    registry: FakeRegistry
    address: str


@pytest.fixture
def node(database_url: str) -> Iterator[Node]:
    registry = FakeRegistry()
    registry.add_requester(BANK)
    settings = ConsentSettings(
        listen_addr="127.0.0.1:0",
        database_url=database_url,
        registry_addr="127.0.0.1:9",
        watch_heartbeat_seconds=0.05,
        watch_lease_seconds=LEASE,
        watch_lease_margin_seconds=0.2,
        max_workers=16,
    )
    server = build(settings, configure_logs=False, registry=registry, sharing=FakeSharingList())
    channel = grpc.insecure_channel(server.address)
    yield Node(server, pb_grpc.ConsentServiceStub(channel), registry, server.address)
    channel.close()
    server.stop(0)


def enterprises(node: Node, n: int, seed: int = 100) -> list[Enterprise]:
    out = [Enterprise(make_uscc(seed + i)) for i in range(n)]
    for e in out:
        node.registry.add_enterprise(e)
    return out


def grant(node: Node, e: Enterprise, **kw: Any) -> pb.Authorization:
    return node.stub.GrantAuthorization(e.grant(BANK, **kw), timeout=10).authorization


def test_replica_lists_then_follows_changes_and_resumes_after_a_broken_stream(node: Node) -> None:
    alice, bob = enterprises(node, 2)
    a = grant(node, alice)
    replica = Replica(node.address, "gw-1").start()
    try:
        replica.wait_serving()
        assert replica.decide(BANK, alice.name, "PRE_LOAN", ("TAX_PAYMENT",)).allowed
        assert replica.streams == 1
        replica.break_stream()
        b = grant(node, bob)  # granted while the replica may be disconnected: resuming must bring it
        replica.wait_revision(b.revision)
        replica.wait_serving()
        assert replica.streams >= 2
        assert replica.decide(BANK, bob.name, "PRE_LOAN", ("TAX_PAYMENT",)).allowed
        node.stub.PauseAuthorization(alice.pause(a.name), timeout=10)
        assert replica.decide(BANK, alice.name, "PRE_LOAN", ("TAX_PAYMENT",)).reason == "PAUSED"
    finally:
        replica.close()


def test_revoke_returns_only_after_every_replica_applied_it(node: Node) -> None:
    (alice,) = enterprises(node, 1)
    a = grant(node, alice)
    replicas = [Replica(node.address, f"gw-{i}").start() for i in range(2)]
    try:
        for r in replicas:
            r.wait_serving()
        node.stub.RevokeAuthorization(alice.revoke(a.name), timeout=10)
        returned = time.monotonic()
        for r in replicas:
            assert r.applied_at[a.name] <= returned
            assert not r.decide(BANK, alice.name, "PRE_LOAN", ("TAX_PAYMENT",)).allowed
    finally:
        for r in replicas:
            r.close()


def test_silent_replica_is_waited_for_only_until_its_lease_lapses_and_then_fails_closed(node: Node) -> None:
    (alice,) = enterprises(node, 1)
    a = grant(node, alice)
    healthy, hung = Replica(node.address, "gw-ok").start(), Replica(node.address, "gw-hung").start()
    try:
        healthy.wait_serving()
        hung.wait_serving()
        hung.partitioned.set()  # it hears nothing more from consent and acknowledges nothing
        node.stub.RevokeAuthorization(alice.revoke(a.name), timeout=30)
        # Consent stopped waiting for the partitioned replica, so by now that replica must refuse on its own.
        assert a.name not in hung.applied_at
        assert hung.decide(BANK, alice.name, "PRE_LOAN", ("TAX_PAYMENT",)).reason == FAIL_CLOSED
        assert not healthy.decide(BANK, alice.name, "PRE_LOAN", ("TAX_PAYMENT",)).allowed
        hung.partitioned.clear()
        hung.wait_serving()  # consent ended its stream; it comes back through a new watch, with the revocation
        assert hung.streams >= 2
        assert hung.decide(BANK, alice.name, "PRE_LOAN", ("TAX_PAYMENT",)).reason == "NO_AUTHORIZATION"
    finally:
        healthy.close()
        hung.close()


def test_two_replicas_racing_thousands_of_queries_against_revocations_release_nothing_after_revoke(
    node: Node,
) -> None:
    population = enterprises(node, 30)
    auths = {e.name: grant(node, e) for e in population}
    replicas = [Replica(node.address, f"gw-{i}").start() for i in range(2)]
    for r in replicas:
        r.wait_serving()
    returned: dict[str, float] = {}
    violations: list[tuple[str, str, float, float]] = []
    counts = {"allow": 0, "deny": 0, "fail_closed": 0}
    stop = threading.Event()
    lock = threading.Condition()
    jobs = [(r, i * 10 + j) for i, r in enumerate(replicas) for j in range(2)]
    made = [0] * len(jobs)  # decisions per worker

    def query(k: int, replica: Replica, seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            e = rng.choice(population)
            d = replica.decide(BANK, e.name, "PRE_LOAN", ("TAX_PAYMENT",))
            with lock:
                key = "allow" if d.allowed else ("fail_closed" if d.reason == FAIL_CLOSED else "deny")
                counts[key] += 1
                made[k] += 1
                lock.notify_all()
                done = returned.get(d.authorization)
                if d.allowed and done is not None and d.started > done:
                    violations.append((replica.replica_id, d.authorization, d.started, done))

    def each_worker_decides(n: int, total: int = 0) -> None:
        """Wait until every worker made ``n`` decisions begun from now (its current one may have begun before)."""
        with lock:
            floor = [m + n + 1 for m in made]

            def ready() -> bool:
                return all(m >= f for m, f in zip(made, floor, strict=True)) and sum(made) >= total

            assert lock.wait_for(ready, timeout=60), f"workers stalled: {made}, waiting for {floor}"

    workers = [threading.Thread(target=query, args=(k, r, seed)) for k, (r, seed) in enumerate(jobs)]
    for t in workers:
        t.start()
    try:
        order = list(population)
        random.Random(7).shuffle(order)
        for i, e in enumerate(order):
            # Counted, not timed: every worker decides between two revocations, however loaded the machine.
            each_worker_decides(10)
            name = auths[e.name].name
            if i % 3 == 0:
                node.stub.PauseAuthorization(e.pause(name), timeout=30)
            else:
                node.stub.RevokeAuthorization(e.revoke(name), timeout=30)
            with lock:
                returned[name] = time.monotonic()
        each_worker_decides(20, total=2000)  # and after the last one returned
    finally:
        stop.set()
        for t in workers:
            t.join()
        for r in replicas:
            r.close()
    assert violations == []
    assert counts["allow"] > 100, counts  # the race was real: replicas were releasing while revocations ran
    for r in replicas:
        assert set(returned) <= set(r.applied_at)
