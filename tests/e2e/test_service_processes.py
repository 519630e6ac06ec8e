"""Each service runs as its own process: it migrates, reports SERVING, lists its API, and stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from creditnode.registry.v1 import registry_service_pb2_grpc as rs_grpc
from tests.conftest import free_port
from tests.processes import REPO, start_service

SERVICES = ["registry", "consent", "scoring", "objection", "gateway"]


def _listed_services(address: str) -> set[str]:
    with grpc.insecure_channel(address) as ch:
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
        return {s.name for r in responses for s in r.list_services_response.service}


@pytest.mark.parametrize("service", SERVICES)
def test_service_serves_then_exits_within_grace_on_sigterm(
    service: str, port: int, tmp_path: Path, database_url: str
) -> None:
    # Downstream addresses must be set (start-up validates them) but need not answer for this test.
    env = {
        "DATABASE_URL": database_url,
        "VAR_DIR": str(tmp_path),
        "CA_AUTOCREATE": "true",
        "GATEWAY_INSECURE_DEV": "true",  # this test is about the process lifecycle, not mTLS (tested in e2e/gateway)
        **{f"{name}_ADDR": "127.0.0.1:9" for name in ("REGISTRY", "CONSENT", "SCORING", "OBJECTION")},
    }
    helpers = []
    if service in ("scoring", "gateway"):
        # scoring and the gateway are ready only while their watch streams are connected: give them what they watch
        registry = start_service(
            "registry", free_port(), tmp_path, {**env, "DATABASE_URL": f"sqlite:///{tmp_path}/r.db"}
        )
        helpers.append(registry)
        registry.wait_serving()
        env["REGISTRY_ADDR"] = registry.address
    if service == "gateway":
        consent = start_service("consent", free_port(), tmp_path, {**env, "DATABASE_URL": f"sqlite:///{tmp_path}/c.db"})
        helpers.append(consent)
        consent.wait_serving()
        env["CONSENT_ADDR"] = consent.address
    proc = start_service(service, port, tmp_path, env)
    try:
        proc.wait_serving()
        assert "grpc.health.v1.Health" in _listed_services(proc.address)
        # A generic client (buf curl, through server reflection) can list the service's methods.
        listed = subprocess.run(
            [
                str(REPO / ".venv" / "bin" / "buf"),
                "curl",
                "--protocol",
                "grpc",
                "--http2-prior-knowledge",
                "--list-methods",
                f"http://{proc.address}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert listed.returncode == 0, listed.stderr
        assert "grpc.health.v1.Health/Check" in listed.stdout.split()
        code = proc.terminate(timeout=10)  # a hang past 10 s raises, with the stacks
        assert code == 0, proc.log()
        events = [json.loads(line)["event"] for line in proc.log().splitlines() if line.startswith("{")]
        # Stopped cleanly: "stopping", then what was in flight (its rpc lines), then "stopped" last.
        assert "stopping" in events
        assert events[-1] == "stopped"
    finally:
        proc.kill()
        for helper in helpers:
            helper.kill()


def test_missing_setting_stops_start_up_with_a_clear_message(port: int, tmp_path: Path) -> None:
    proc = start_service("registry", port, tmp_path, {"SHUTDOWN_GRACE_SECONDS": "-1"})
    assert proc.proc.wait(30) == 2
    assert "SHUTDOWN_GRACE_SECONDS" in proc.log()


@pytest.mark.parametrize("service", ["registry", "gateway"])
def test_migrate_only_then_wait_migrated_for_the_kubernetes_job(
    service: str, tmp_path: Path, database_url: str
) -> None:
    # The gateway's migration Job has no certificates (and must not see the private key): only serving needs them.
    env = {**os.environ, "DATABASE_URL": database_url, "VAR_DIR": str(tmp_path)}
    env |= {f"{s}_ADDR": "127.0.0.1:1" for s in ("REGISTRY", "CONSENT", "SCORING", "OBJECTION")}  # as its ConfigMap
    for name in ("TLS_CERT_FILE", "TLS_KEY_FILE", "TLS_CLIENT_CA_FILE", "GATEWAY_INSECURE_DEV"):
        env.pop(name, None)
    for flag in ("--migrate-only", "--wait-migrated"):
        done = subprocess.run(
            [sys.executable, "-m", f"services.{service}", flag], cwd=REPO, env=env, capture_output=True, timeout=120
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
    if service == "gateway":  # serving still refuses to start without them, naming the variable
        serve = subprocess.run(
            [sys.executable, "-m", "services.gateway"], cwd=REPO, env=env, capture_output=True, timeout=120
        )
        assert (serve.returncode, b"TLS_CERT_FILE" in serve.stderr) == (2, True), serve.stderr.decode()[-2000:]


def test_metrics_count_rpcs_by_code_and_liveness_is_separate_from_readiness(
    port: int, tmp_path: Path, database_url: str
) -> None:
    metrics_port = free_port()
    env = {
        "DATABASE_URL": database_url,
        "VAR_DIR": str(tmp_path),
        "CA_AUTOCREATE": "true",
        "METRICS_PORT": str(metrics_port),
    }
    proc = start_service("registry", port, tmp_path, env)
    try:
        proc.wait_serving()
        with grpc.insecure_channel(proc.address) as ch:
            stub = rs_grpc.RegistryServiceStub(ch)
            stub.ListPlatforms(rs_pb.ListPlatformsRequest())
            with pytest.raises(grpc.RpcError):
                stub.GetPlatform(rs_pb.GetPlatformRequest(name="platforms/nobody"))
            live = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service="creditnode.liveness"))
            assert live.status == health_pb2.HealthCheckResponse.SERVING
        body = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
        method = "/creditnode.registry.v1.RegistryService/"
        for code, rpc in (("OK", "ListPlatforms"), ("NOT_FOUND", "GetPlatform")):
            line = f'creditnode_rpc_requests_total{{code="{code}",method="{method}{rpc}",service="registry"}} 1.0'
            assert line in body
        assert "creditnode_rpc_duration_seconds_bucket" in body
        assert "platforms/nobody" not in body  # labels carry methods and codes, never request content
    finally:
        proc.kill()


def test_objection_exports_sla_counts_and_next_years_calendar(port: int, tmp_path: Path, database_url: str) -> None:
    from services.kit.workdays import WorkCalendar, local_date

    metrics_port = free_port()
    env = {
        "DATABASE_URL": database_url,
        "VAR_DIR": str(tmp_path),
        "REGISTRY_ADDR": "127.0.0.1:9",
        "SCORING_ADDR": "127.0.0.1:9",
        "METRICS_PORT": str(metrics_port),
        "SWEEP_INTERVAL_SECONDS": "0.2",
    }
    proc = start_service("objection", port, tmp_path, env)
    try:
        proc.wait_serving()
        deadline = time.monotonic() + 30
        body = ""
        while 'creditnode_objection_sla{measure="open"}' not in body:
            assert time.monotonic() < deadline, "the sweep never published its figures"
            time.sleep(0.2)
            body = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
        assert 'creditnode_objection_sla{measure="open"} 0.0' in body
        assert 'creditnode_objections_overdue{service="objection"} 0.0' in body
        ready = WorkCalendar.load().alert_ready(local_date(datetime.now(UTC)))
        assert f'creditnode_calendar_next_year_loaded{{service="objection"}} {1.0 if ready else 0.0}' in body
    finally:
        proc.kill()


def test_sigusr1_writes_every_threads_stack_and_the_service_keeps_serving(tmp_path: Path) -> None:
    # How an operator (or a test whose service will not stop) sees where a process is stuck.
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/r.db", "VAR_DIR": str(tmp_path), "CA_AUTOCREATE": "true"}
    registry = start_service("registry", free_port(), tmp_path, env)
    try:
        registry.wait_serving()
        registry.proc.send_signal(signal.SIGUSR1)
        # The main thread, waiting for SIGTERM, is written last (the dump is written while this reads it).
        deadline = time.monotonic() + 10
        while "serve_until_signalled" not in registry.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "serve_until_signalled" in registry.log()
        assert "most recent call first" in registry.log()
        registry.wait_serving()
        assert registry.terminate() == 0
    finally:
        registry.kill()
