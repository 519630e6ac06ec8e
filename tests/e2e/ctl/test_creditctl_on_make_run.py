"""creditctl drives the node `make run` brings up (tools/run_node.py: five services on SQLite, the demo province),
here on free ports and a temporary var directory so a developer's own node is never touched."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PG_URL
from tests.e2e.ctl.test_creditctl_scoring_objection import creditctl
from tests.processes import REPO

SERVICES = ["gateway", "registry", "consent", "scoring", "objection"]


def _free_block(size: int) -> int:
    """A base port with ``size`` consecutive free ports after it."""
    for _ in range(200):
        base = random.randint(20000, 60000)
        try:
            socks = []
            for port in range(base, base + size):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no block of free ports")


@pytest.fixture
def node(tmp_path: Path) -> Iterator[dict[str, str]]:
    if PG_URL:
        pytest.skip("make run is the embedded SQLite default; this runs in the SQLite pass")
    base = _free_block(len(SERVICES))
    env = {
        **os.environ,
        "RUN_NODE_VAR_DIR": str(tmp_path / "var"),
        "RUN_NODE_BASE_PORT": str(base),
        # A smaller demo province: the same kinds of data, loaded in seconds.
        "DEMO_ENTERPRISES": "200",
        "DEMO_RECORD_ENTERPRISES": "30",
    }
    for name in SERVICES:
        env.pop(f"{name.upper()}_ADDR", None)
    proc = subprocess.Popen(
        [sys.executable, "tools/run_node.py"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    up = threading.Event()
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            lines.append(raw.decode(errors="replace"))
            if "creditnode is up" in lines[-1]:
                up.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        deadline = time.monotonic() + 300
        while not up.wait(0.5):
            assert proc.poll() is None, "".join(lines[-40:])
            assert time.monotonic() < deadline, "".join(lines[-40:])
        addresses = {f"{name.upper()}_ADDR": f"127.0.0.1:{base + i}" for i, name in enumerate(SERVICES)}
        yield {**addresses, "SUPERVISION_ADDR": addresses["GATEWAY_ADDR"], "CREDITCTL_ACTOR": "ops:e2e"}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, "".join(lines[-40:])
    finally:
        if proc.poll() is None:
            proc.kill()


def ok(env: dict[str, str], *argv: str) -> Any:
    result = creditctl(env, *argv)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_an_operator_runs_the_demo_node_with_creditctl(node: dict[str, str], tmp_path: Path) -> None:
    assert ok(node, "platform", "show", "xian")["platform"]["status"] == "PLATFORM_STATUS_ADMITTED"
    coverage = ok(node, "coverage")
    assert coverage["enterprises_registered"] == 200  # DEMO_ENTERPRISES
    assert coverage["platforms_admitted"] >= 10
    assert [v["version"] for v in ok(node, "sharing-list", "versions")["versions"]] == [1]

    suspended = ok(node, "platform", "suspend", "baoji", "--reason", "supervision check", "--evidence", "SUP-1")
    assert suspended["platform"]["status"] == "PLATFORM_STATUS_SUSPENDED"
    readmitted = ok(
        node, "platform", "readmit", "baoji", "--key-out", str(tmp_path / "baoji.key"),
        "--cert-out", str(tmp_path / "baoji.crt"), "--reason", "rectified",
    )  # fmt: skip
    assert readmitted["platform"]["status"] == "PLATFORM_STATUS_ADMITTED"
    assert (tmp_path / "baoji.crt").read_text().startswith("-----BEGIN CERTIFICATE-----")

    # Each change is in the registry's evidence log, and supervision runs over the gateway's.
    leaves = ok(node, "log", "--log", "registry", "--kind", "status-change")["leaves"]
    statuses = [leaf["payload"]["to_status"] for leaf in leaves if leaf["payload"]["participant"] == "platforms/baoji"]
    assert statuses[-2:] == ["SUSPENDED", "ADMITTED"]
    ran = ok(node, "findings", "run")
    assert ran.get("findings", []) == []  # the demo made no suspicious access
    assert ok(node, "objections", "overdue") == {"objections": []}
    refused = creditctl(node, "platform", "suspend", "no-such-platform", "--reason", "x")
    assert refused.returncode == 1
    assert "ERROR_REASON" in refused.stderr
