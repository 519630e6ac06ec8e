"""Revocations under load with two gateway replicas: nothing is released under an authorization once its Revoke
returned; the revocation-to-enforcement time is reported."""

from __future__ import annotations

import secrets
import statistics
import threading
import time
from dataclasses import dataclass

import grpc
import pytest

from creditnode.gateway.v1 import gateway_service_pb2 as gw
from tests.gateway_support import Caller
from tests.reliability.figures import record, reported, zero
from tests.reliability.node.conftest import SharedNode
from tests.reliability.scale import Scale

# The full scale runs for many minutes; pyproject's 300 s per test is for the usual suites.
pytestmark = pytest.mark.timeout(3600)


@dataclass
class Sample:
    sent: float
    received: float
    authorization: str  # the authorization a TAX_PAYMENT release was made under ("" when none was released)


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else float("nan")


class Load:
    """Threads asking both replicas for the enterprise's TAX_PAYMENT, under the current round's request id."""

    def __init__(self, callers: list[Caller], enterprise: str) -> None:
        self.callers, self.enterprise = callers, enterprise
        self.rid = secrets.token_hex(8)
        self.samples: list[Sample] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(c,), daemon=True) for c in callers for _ in range(2)]

    def ask(self, caller: Caller) -> str:
        req = gw.GetCreditReportRequest(
            enterprise=self.enterprise, purpose="PRE_LOAN", item_codes=["TAX_PAYMENT"], request_id=self.rid
        )
        sent = time.monotonic()
        try:
            resp = caller.stub.GetCreditReport(req, timeout=10)
            auth = resp.authorization if any(r.record.item_code == "TAX_PAYMENT" for r in resp.records) else ""
        except grpc.RpcError:
            auth = ""
        self.samples.append(Sample(sent, time.monotonic(), auth))
        return auth

    def _run(self, caller: Caller) -> None:
        while not self.stop.is_set():
            self.ask(caller)


def test_no_release_after_revoke_returned_with_two_replicas(shared: SharedNode, scale: Scale) -> None:
    c = shared.c
    c.add_gateway("gateway-b")
    ent = c.add_enterprise()
    xian = c.callers["xian"]
    replicas = [xian, c.connect(*c.certs["xian"], label="gateway-b")]
    load = Load(replicas, ent.name)
    for t in load.threads:
        t.start()
    revoked: list[tuple[str, float, float]] = []
    try:
        for _ in range(scale.revocations):
            load.rid = secrets.token_hex(8)
            auth = xian.stub.GrantAuthorization(
                gw.GrantAuthorizationRequest(grant=ent.grant("platforms/xian", items=("TAX_PAYMENT",), max_uses=10)),
                timeout=30,
            ).result.authorization.name
            deadline = time.monotonic() + 30
            while not all(load.ask(r) == auth for r in replicas):
                assert time.monotonic() < deadline, "the replicas never served the new authorization"
            started = time.monotonic()
            xian.stub.RevokeAuthorization(gw.RevokeAuthorizationRequest(revoke=ent.revoke(auth)), timeout=30)
            revoked.append((auth, started, time.monotonic()))
    finally:
        load.stop.set()
        for t in load.threads:
            t.join(30)
    ends = {auth: (start, end) for auth, start, end in revoked}
    after = [s for s in load.samples if s.authorization in ends and s.sent > ends[s.authorization][1]]
    last_release = [
        max((s.received for s in load.samples if s.authorization == a), default=start) - start
        for a, (start, _) in ends.items()
    ]
    durations = [(end - start) * 1000 for _, start, end in revoked]
    record(
        zero("revoke_releases_after_return", len(after)),
        reported("revocations", len(revoked), "count"),
        reported("revoke_replicas", len(replicas), "count"),
        reported("revoke_enforce_p99_ms", _p99(durations), "ms"),
        reported("revoke_enforce_p50_ms", statistics.median(durations), "ms"),
        reported("revoke_last_release_after_call_p99_ms", _p99([x * 1000 for x in last_release]), "ms"),
        reported("revoke_load_requests", len(load.samples), "count"),
    )
    assert len(revoked) == scale.revocations
    assert not after, after[:5]
