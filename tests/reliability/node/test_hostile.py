"""Malformed and extreme requests to every GatewayService method: the gateway stays alive and healthy, every answer
is a proper status (with an ErrorInfo reason when the gateway's code produced it), and no stored data changes."""

from __future__ import annotations

import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from creditnode.gateway.v1 import gateway_service_pb2 as gw
from services.kit.status import error_info
from tests.reliability.digest import CONSENT_TABLES, REGISTRY_TABLES, digest
from tests.reliability.figures import record, reported, zero
from tests.reliability.hostile import hostile
from tests.reliability.node.conftest import SharedNode
from tests.reliability.oracle import personal_data_in
from tests.reliability.scale import Scale

# The full scale runs for many minutes; pyproject's 300 s per test is for the usual suites.
pytestmark = pytest.mark.timeout(3600)

SERVICE = gw.DESCRIPTOR.services_by_name["GatewayService"]
# Refusals grpc itself produces before any gateway code runs: these cannot carry an ErrorInfo (a malformed message on
# a stream; a unary request that is not a valid message is answered by the kit, INVALID_ARGUMENT with its reason).
FRAMEWORK = {
    (grpc.StatusCode.INTERNAL, "Exception deserializing request!"),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, "Received message larger than max"),
}


@dataclass
class Answer:
    method: str
    kind: str
    code: grpc.StatusCode
    framework: bool
    reason: str
    leaked: bool
    details: str = ""


def _call(channel: grpc.Channel, method: str, streaming: bool, payload: bytes, kind: str) -> Answer:
    path = f"/{SERVICE.full_name}/{method}"
    try:
        if streaming:
            stream = channel.unary_stream(path, None, None)(payload, timeout=10)
            first = next(iter(stream), b"")
            stream.cancel()  # type: ignore[no-untyped-call]
            leaked = personal_data_in(first)
        else:
            leaked = personal_data_in(channel.unary_unary(path, None, None)(payload, timeout=20))
        return Answer(method, kind, grpc.StatusCode.OK, False, "", leaked)
    except grpc.RpcError as exc:
        code, details = exc.code(), exc.details() or ""
        if code == grpc.StatusCode.CANCELLED and streaming:
            return Answer(method, kind, grpc.StatusCode.OK, False, "", False)
        framework = any(code == c and d in details for c, d in FRAMEWORK)
        info = None if framework else error_info(exc)
        return Answer(method, kind, code, framework, info.reason if info else "", False, details[:120])


def _healthy(node: SharedNode) -> bool:
    gateway = node.c.gateway
    with grpc.insecure_channel(gateway.health) as ch:
        status = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5).status
    return gateway.alive() and status == health_pb2.HealthCheckResponse.SERVING


def test_hostile_input_to_every_gateway_method(shared: SharedNode, scale: Scale) -> None:
    c = shared.c
    registry_db, consent_db = (c.services[s].env["DATABASE_URL"] for s in ("registry", "consent"))
    before = digest(registry_db, REGISTRY_TABLES), digest(consent_db, CONSENT_TABLES)
    pid = c.gateway.pid
    rss_before = c.rss_kb()["gateway"]
    channels = [c.callers[n].channel for n in ("xian", "qinxinrong", "baoji")]
    jobs = []
    for i, m in enumerate(SERVICE.methods):
        rng = random.Random(1000 + i)
        for j in range(scale.hostile_per_rpc):
            kind, payload = hostile(m.input_type, rng)
            jobs.append((channels[j % len(channels)], m.name, m.server_streaming, payload, kind))
    random.Random(7).shuffle(jobs)
    started = time.monotonic()
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda j: _call(*j), jobs))
    elapsed = time.monotonic() - started
    after = digest(registry_db, REGISTRY_TABLES), digest(consent_db, CONSENT_TABLES)
    healthy = _healthy(shared)
    rss_after = c.rss_kb().get("gateway", 0)
    improper = [
        a
        for a in answers
        if a.code == grpc.StatusCode.UNKNOWN or (a.code != grpc.StatusCode.OK and not a.framework and not a.reason)
    ]
    internal = [a for a in answers if a.code == grpc.StatusCode.INTERNAL and not a.framework]
    changed = [t for b, a in zip(before, after, strict=True) for t in b if b[t] != a[t]]
    assert c.gateway.proc is not None
    unlogged = c.gateway.proc.log_path.read_text(errors="replace").count('"event": "denial_not_recorded"')
    record(
        reported("hostile_requests", len(answers), "count"),
        reported("hostile_methods", len(SERVICE.methods), "count"),
        reported("hostile_rps", len(answers) / elapsed, "req/s"),
        zero("hostile_gateway_crashes", 0 if healthy and c.gateway.pid == pid else 1),
        zero("hostile_improper_statuses", len(improper)),
        zero("hostile_internal_errors", len(internal)),
        zero("hostile_stored_tables_changed", len(changed)),
        zero("hostile_personal_data_leaks", sum(a.leaked for a in answers)),
        zero("hostile_denials_not_in_disclosure_log", unlogged),
        reported("hostile_gateway_rss_before_mb", rss_before / 1024, "MB"),
        reported("hostile_gateway_rss_after_mb", rss_after / 1024, "MB"),
        reported("hostile_framework_refusals", sum(a.framework for a in answers), "count"),
    )
    assert len(answers) == scale.hostile_per_rpc * len(SERVICE.methods)
    assert healthy, "the gateway is not SERVING after hostile input"
    assert c.gateway.pid == pid, "the gateway process was replaced"
    assert not improper, Counter((a.method, a.kind, a.code.name, a.details) for a in improper).most_common(10)
    assert not changed, changed
    assert not any(a.leaked for a in answers)
    assert not internal, Counter((a.method, a.kind, a.details) for a in internal).most_common(10)
    assert unlogged == 0, "a denial was not recorded in the disclosure log"
