"""The gateway's plain ports stop with its main port: they leave SERVING as its drain begins and share its grace."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from creditnode.evidence.v1 import evidence_log_service_pb2 as ev_pb
from creditnode.evidence.v1 import evidence_log_service_pb2_grpc as ev_grpc
from services.gateway.clients.consent import ConsentCache
from services.gateway.clients.participants import ParticipantCache
from services.gateway.main import GatewaySettings, build
from services.kit import server as kit_server
from services.kit.evidence.servicer import EvidenceLogServicer
from tests.conftest import free_port

SERVING = health_pb2.HealthCheckResponse.SERVING


def _settings(tmp_path: Path, database_url: str, **ports: str) -> GatewaySettings:
    """A dev-mode gateway whose peers are nowhere (nothing here calls them), with ``ports`` as given."""
    nowhere = "127.0.0.1:9"
    return GatewaySettings(
        database_url=database_url,
        var_dir=tmp_path,
        gateway_insecure_dev=True,
        registry_addr=nowhere,
        consent_addr=nowhere,
        scoring_addr=nowhere,
        objection_addr=nowhere,
        evidence_writer_process=False,
        **ports,  # type: ignore[arg-type]
    )


def _status(address: str) -> int:
    with grpc.insecure_channel(address) as ch:
        return int(health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=2).status)


class _DrainHeldUntil:
    """The kit server's ``time``, but its drain's sleep lasts until ``over`` is set."""

    def __init__(self, over: threading.Event) -> None:
        self._over = over

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    def sleep(self, seconds: float) -> None:
        self._over.wait()


def test_the_health_port_says_not_serving_while_the_gateway_drains(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The kubelet's readiness probe asks the health port (the main port is mTLS). It kept answering SERVING through
    # SHUTDOWN_DRAIN_SECONDS, since only the main port's health left SERVING, so a terminating gateway stayed a
    # serving endpoint for the whole drain, which exists to take it out of them.
    monkeypatch.setattr(ParticipantCache, "live", lambda self: True)  # ready without a registry and consent
    monkeypatch.setattr(ConsentCache, "has_been_live", lambda self: True)
    # The drain lasts until the test ends it: "during the drain" then holds however slow the machine, where a 2 s
    # poll inside a 3 s drain both failed on a loaded machine and could end with the drain.
    drain_over = threading.Event()
    monkeypatch.setattr(kit_server, "time", _DrainHeldUntil(drain_over))
    health_addr = f"127.0.0.1:{free_port()}"
    server = build(_settings(tmp_path, database_url, health_listen_addr=health_addr), configure_logs=False)
    stopper = threading.Thread(target=server.stop, args=(0.1, 3.0))
    try:
        deadline = time.monotonic() + 30
        while _status(health_addr) != SERVING:
            assert time.monotonic() < deadline, "the health port never said SERVING"
            time.sleep(0.1)
        stopper.start()
        deadline = time.monotonic() + 30  # a hang guard: the drain cannot end before the test ends it
        while _status(health_addr) == SERVING:
            assert time.monotonic() < deadline, "the health port said SERVING through the drain"
            time.sleep(0.05)
    finally:
        drain_over.set()
        if not stopper.is_alive() and not stopper.ident:
            stopper.start()
        stopper.join(60)


def test_a_call_on_the_internal_port_gets_the_same_grace_as_the_main_ports(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The plain ports were stopped in a stop hook, after the main port's drain, grace and wait for handlers, and
    # with a grace of their own of 1 s: a supervisor's or objection's call there was cut after a second, and their
    # waits for handlers came on top of the main port's, past what terminationGracePeriodSeconds leaves.
    entered = threading.Event()
    original = EvidenceLogServicer.ListPublicKeys

    def slow(self: EvidenceLogServicer, request: Any, context: grpc.ServicerContext) -> Any:
        entered.set()
        time.sleep(2.5)
        return original(self, request, context)

    monkeypatch.setattr(EvidenceLogServicer, "ListPublicKeys", slow)
    internal_addr = f"127.0.0.1:{free_port()}"
    server = build(_settings(tmp_path, database_url, internal_listen_addr=internal_addr), configure_logs=False)
    try:
        with grpc.insecure_channel(internal_addr) as ch:
            stub = ev_grpc.EvidenceLogServiceStub(ch)
            call = stub.ListPublicKeys.future(ev_pb.ListPublicKeysRequest(), timeout=30)
            assert entered.wait(10), "the call never reached its handler"
            server.stop(5.0)
            assert call.result(timeout=30) is not None
    finally:
        server.stop(0)
