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

import grpc
import pytest

from creditnode.evidence.v1 import evidence_log_service_pb2 as ev_pb
from creditnode.evidence.v1 import evidence_log_service_pb2_grpc as ev_grpc
from creditnode.gateway.v1 import gateway_service_pb2 as gw_pb
from creditnode.gateway.v1 import gateway_service_pb2_grpc as gw_grpc
from services.kit.evidence import verify
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


def test_a_supervisor_finds_a_disclosure_by_bare_ids_and_exports_evidence_the_verifier_accepts(
    node: dict[str, str], tmp_path: Path
) -> None:
    uscc = next(iter(json.loads((tmp_path / "var" / "demo" / "enterprise_keys.json").read_text())))
    gateway = node["GATEWAY_ADDR"]
    with grpc.insecure_channel(gateway) as channel:  # make run's gateway: plaintext, identity from metadata
        gw_grpc.GatewayServiceStub(channel).GetCreditReport(
            gw_pb.GetCreditReportRequest(
                enterprise=f"enterprises/{uscc}", purpose="PRE_LOAN", item_codes=["REG_BASIC"]
            ),
            metadata=[("x-creditnode-platform", "platforms/xian")],
            timeout=30,
        )

    # The ids as an operator types them; the payloads hold full names.
    leaves = ok(node, "log", "--platform", "xian", "--enterprise", uscc)["leaves"]
    assert [leaf["payload"]["enterprise"] for leaf in leaves] == [f"enterprises/{uscc}"]
    index = leaves[0]["index"]

    first, second = tmp_path / "first", tmp_path / "second"
    ok(node, "evidence", "export", "--index", str(index), "--out", str(first))
    with grpc.insecure_channel(gateway) as channel:  # one more disclosure, so the second head is larger
        gw_grpc.GatewayServiceStub(channel).GetCreditReport(
            gw_pb.GetCreditReportRequest(
                enterprise=f"enterprises/{uscc}", purpose="PRE_LOAN", item_codes=["REG_BASIC"]
            ),
            metadata=[("x-creditnode-platform", "platforms/xian")],
            timeout=30,
        )
    ok(node, "evidence", "export", "--index", str(index), "--out", str(second))

    key = json.loads((first / "public-keys.json").read_text())["public_keys"][-1]["public_key"]
    receipt = str(first / f"receipt-{index}.json")
    status, line = verify.run(["receipt", receipt, "--public-key", key])
    assert status == 0, line
    # The exported keys as they are, bound to their log with any retirement: a fresh node's key is not retired.
    status, line = verify.run(["receipt", receipt, "--public-keys-file", str(first / "public-keys.json")])
    assert status == 0, line
    old, new = (json.loads((d / "tree-head.json").read_text()) for d in (first, second))
    assert old["tree_size"] < new["tree_size"]
    with grpc.insecure_channel(gateway) as channel:
        request = ev_pb.GetConsistencyProofRequest(from_tree_size=old["tree_size"], to_tree_size=new["tree_size"])
        proof = ev_grpc.EvidenceLogServiceStub(channel).GetConsistencyProof(request, timeout=30).proof_json
    (tmp_path / "proof.json").write_text(proof)
    heads = [str(first / "tree-head.json"), str(second / "tree-head.json")]
    status, line = verify.run(["consistency", *heads, str(tmp_path / "proof.json"), "--public-key", key])
    assert status == 0, line
