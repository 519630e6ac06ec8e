"""`make run`: the whole node on localhost with embedded SQLite under var/, a demo province loaded, Ctrl-C to stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
# RUN_NODE_VAR_DIR and RUN_NODE_BASE_PORT let tests run a second node beside a developer's (defaults: var/, 50051).
VAR = Path(os.environ.get("RUN_NODE_VAR_DIR", str(ROOT / "var")))
_BASE = int(os.environ.get("RUN_NODE_BASE_PORT", "50051"))
PORTS = {name: _BASE + i for i, name in enumerate(["gateway", "registry", "consent", "scoring", "objection"])}
# Start order: what others depend on comes first.
ORDER = ["registry", "consent", "scoring", "objection", "gateway"]


def _env(name: str) -> dict[str, str]:
    env = {
        **os.environ,
        "LISTEN_ADDR": f"127.0.0.1:{PORTS[name]}",
        "VAR_DIR": str(VAR),
        "SHUTDOWN_GRACE_SECONDS": "3",
        "CA_AUTOCREATE": "true",  # local development only: a throwaway node CA under var/
        "GATEWAY_INSECURE_DEV": "true",  # local development only: plaintext, identity from x-creditnode-platform
    }
    env.pop("DATABASE_URL", None)  # make run is the embedded default
    for other, port in PORTS.items():
        env.setdefault(f"{other.upper()}_ADDR", f"127.0.0.1:{port}")
    return env


def _wait_serving(name: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(f"127.0.0.1:{PORTS[name]}") as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited with status {proc.returncode}; see var/log/{name}.log")
            try:
                if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.2)
    raise SystemExit(f"{name} did not become healthy within {timeout}s; see var/log/{name}.log")


def example_report_call(gateway: str) -> str:
    """A credit report on a demo enterprise that has records: public items need no authorization."""
    keys = VAR / "demo" / "enterprise_keys.json"
    uscc = next(iter(json.loads(keys.read_text()))) if keys.exists() else "<USCC>"
    body = json.dumps({"enterprise": f"enterprises/{uscc}", "purpose": "PRE_LOAN", "item_codes": ["REG_BASIC"]})
    return (
        ".venv/bin/buf curl --protocol grpc --http2-prior-knowledge -H 'x-creditnode-platform: platforms/xian' "
        f"-d '{body}' http://{gateway}/creditnode.gateway.v1.GatewayService/GetCreditReport"
    )


def main() -> None:
    (VAR / "log").mkdir(parents=True, exist_ok=True)
    procs: dict[str, subprocess.Popen[bytes]] = {}

    def stop_all(*_: object) -> None:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in procs.items():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop in time; killing it", file=sys.stderr)
                proc.kill()

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        for name in ORDER:
            with (VAR / "log" / f"{name}.log").open("ab") as log:
                procs[name] = subprocess.Popen(
                    [sys.executable, "-m", f"services.{name}"],
                    cwd=ROOT,
                    env=_env(name),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            _wait_serving(name, procs[name])
            print(f"  {name:<10} healthy on 127.0.0.1:{PORTS[name]}")
        print("loading the demo province ...")
        subprocess.run(
            [sys.executable, "-m", "tools.demo_province", "--out", str(VAR / "demo")],
            cwd=ROOT,
            env=_env("registry"),
            check=True,
        )
        gateway = f"127.0.0.1:{PORTS['gateway']}"
        print(f"\ncreditnode is up. The gateway listens on {gateway} (development mode: plaintext, the calling")
        print("platform named in the x-creditnode-platform header instead of an mTLS certificate).")
        print("Example calls (a generic client through server reflection):")
        print(f"  .venv/bin/buf curl --protocol grpc --http2-prior-knowledge --list-methods http://{gateway}")
        print(f"  {example_report_call(gateway)}")
        print("Logs are in var/log/. Press Ctrl-C to stop.")
        while all(p.poll() is None for p in procs.values()):
            time.sleep(0.5)
        dead = [n for n, p in procs.items() if p.poll() is not None]
        print(f"stopping: {', '.join(dead)} exited", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nstopping ...")
    finally:
        stop_all()


if __name__ == "__main__":
    main()
