"""creditctl's scoring, objection and evidence-log commands against real registry, scoring and objection processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port, fresh_database
from tests.processes import REPO, ServiceProcess, start_service

MODEL = REPO / "services" / "scoring" / "data" / "basic-v1.yaml"


@pytest.fixture
def node(tmp_path: Path) -> Iterator[dict[str, str]]:
    """registry, scoring and objection on free ports, each on its own fresh database; yields creditctl's env."""
    ports = {name: free_port() for name in ("registry", "scoring", "objection")}
    registry_addr = f"127.0.0.1:{ports['registry']}"
    procs: list[ServiceProcess] = []
    databases = [fresh_database(tmp_path, name) for name in ports]
    try:
        for (name, port), db in zip(ports.items(), databases, strict=True):
            env = {
                "DATABASE_URL": next(db),
                "VAR_DIR": str(tmp_path),
                "CA_AUTOCREATE": "true",
                "REGISTRY_ADDR": registry_addr,
                "SCORING_ADDR": f"127.0.0.1:{ports['scoring']}",
                "CONSENT_ADDR": f"127.0.0.1:{free_port()}",  # not started: these commands never need it
                "METRICS_PORT": "0",
            }
            procs.append(start_service(name, port, tmp_path, env))
            procs[-1].wait_serving()
        yield {
            "REGISTRY_ADDR": registry_addr,
            "SCORING_ADDR": f"127.0.0.1:{ports['scoring']}",
            "OBJECTION_ADDR": f"127.0.0.1:{ports['objection']}",
        }
        for proc in reversed(procs):
            assert proc.terminate() == 0
    finally:
        for proc in procs:
            proc.kill()
        for db in databases:
            for _ in db:  # drop the PostgreSQL databases
                pass


def creditctl(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "creditctl", "--json", *argv],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_publish_a_model_read_effectiveness_overdue_objections_and_the_objection_log(
    node: dict[str, str], tmp_path: Path
) -> None:
    model = tmp_path / "basic-v2.yaml"
    model.write_text(MODEL.read_text(encoding="utf-8").replace("version: basic-v1", "version: basic-v2", 1))
    published = creditctl(node, "model", "publish", str(model))
    assert published.returncode == 0, published.stderr
    assert json.loads(published.stdout)["model"]["version"] == "basic-v2"

    broken = tmp_path / "broken.yaml"
    broken.write_text("version: basic-v3\ntitle: no indicators\n")
    refused = creditctl(node, "model", "publish", str(broken))
    assert refused.returncode == 1
    error = json.loads(refused.stderr)["error"]  # with --json, the failure is one object
    assert (error["code"], error["reason"], error["exit_code"]) == (
        "INVALID_ARGUMENT",
        "ERROR_REASON_MODEL_REJECTED",
        1,
    )
    assert int(error["metadata"]["problem_count"]) >= 1  # the ErrorInfo's metadata too

    effect = creditctl(node, "effectiveness", "--period", "2025", "--progress-on", "2025-12-31")
    assert effect.returncode == 0, effect.stderr
    assert json.loads(effect.stdout)["progress"]["target_share"] == 0.2

    overdue = creditctl(node, "objections", "overdue")
    assert overdue.returncode == 0, overdue.stderr
    assert json.loads(overdue.stdout) == {"objections": []}

    leaves = creditctl(node, "log", "--log", "objection", "--kind", "all")
    assert leaves.returncode == 0, leaves.stderr
    assert json.loads(leaves.stdout)["log"] == "objection"


def test_an_unreachable_objection_service_exits_3(tmp_path: Path) -> None:
    result = creditctl({"OBJECTION_ADDR": f"127.0.0.1:{free_port()}"}, "objections", "overdue")
    assert result.returncode == 3
    error = json.loads(result.stderr)["error"]
    assert (error["code"], error["reason"], error["exit_code"]) == ("UNAVAILABLE", "", 3)
    assert "unreachable" in error["message"]
