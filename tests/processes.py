"""Start services as real subprocesses (``python -m services.<name>``) and wait for them to be healthy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

REPO = Path(__file__).resolve().parents[1]


@dataclass
class ServiceProcess:
    name: str
    address: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    health_address: str = ""  # where readiness is asked when not the service's own port (the gateway's plain one)

    def wait_serving(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        with grpc.insecure_channel(self.health_address or self.address) as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.log()}")
                try:
                    status = stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status
                    if status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                time.sleep(0.1)
        raise TimeoutError(f"{self.name} not SERVING after {timeout}s: {self.log()}")

    def health(self) -> int:
        """The readiness its health service answers now (a ``HealthCheckResponse`` status)."""
        with grpc.insecure_channel(self.health_address or self.address) as ch:
            return health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5).status

    def terminate(self, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            # Where it is stuck, for the failure report: every thread's stack (the kit registers SIGUSR1 for this).
            self.proc.send_signal(signal.SIGUSR1)
            time.sleep(1)
            self.kill()
            raise RuntimeError(f"{self.name} did not stop within {timeout}s of SIGTERM: {self.log()}") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def start_service(name: str, port: int, log_dir: Path, env: Mapping[str, str]) -> ServiceProcess:
    address = f"127.0.0.1:{port}"
    log_path = log_dir / f"{name}-{port}.log"
    full_env = {**os.environ, "LISTEN_ADDR": address, "SHUTDOWN_GRACE_SECONDS": "2", **env}
    # Appended to: a service restarted on its port (the fault tests) keeps what its killed predecessor logged.
    with log_path.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"],
            cwd=REPO,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return ServiceProcess(name, address, proc, log_path)
