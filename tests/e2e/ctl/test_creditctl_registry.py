"""creditctl as an operator runs it (``python -m creditctl`` subprocesses) against a real registry subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.conftest import free_port
from tests.processes import REPO, ServiceProcess, start_service


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> dict[str, object]:
        data = json.loads(self.out)
        assert isinstance(data, dict)
        return data


@pytest.fixture
def registry(port: int, tmp_path: Path, database_url: str) -> Iterator[ServiceProcess]:
    env = {"DATABASE_URL": database_url, "VAR_DIR": str(tmp_path), "CA_AUTOCREATE": "true"}
    proc = start_service("registry", port, tmp_path, env)
    try:
        proc.wait_serving()
        yield proc
        assert proc.terminate() == 0
    finally:
        proc.kill()


def creditctl(address: str, *argv: str) -> Run:
    env = {**os.environ, "REGISTRY_ADDR": address, "CREDITCTL_ACTOR": "ops:e2e", "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-m", "creditctl", *argv], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    return Run(result.returncode, result.stdout, result.stderr)


def ok(address: str, *argv: str) -> dict[str, object]:
    result = creditctl(address, "--json", *argv)
    assert result.code == 0, result.err
    return result.json()


def status(data: dict[str, object]) -> object:
    platform = data["platform"]
    assert isinstance(platform, dict)
    return platform["status"]


def test_an_operator_takes_a_platform_in_and_out_and_sees_it_everywhere(
    registry: ServiceProcess, tmp_path: Path
) -> None:
    addr = registry.address
    onboard = ok(
        addr, "platform", "onboard", "xian", "--display-name", "西安市融资信用服务平台", "--kind", "city",
        "--region", "610100", "--reason", "application 2026-17", "--evidence", "APP-2026-17",
    )  # fmt: skip
    assert status(onboard) == "PLATFORM_STATUS_APPLIED"
    assert status(ok(addr, "platform", "start-review", "xian", "--reason", "documents complete")) == (
        "PLATFORM_STATUS_UNDER_REVIEW"
    )
    for kind in ("security", "authorization"):
        ok(addr, "platform", "assess", "xian", "--kind", kind, "--result", "passed", "--assessor", "省信息安全测评中心",
           "--reason", f"{kind} assessment report")  # fmt: skip

    key_file, cert_file, ca_file = tmp_path / "xian.key", tmp_path / "xian.crt", tmp_path / "ca.crt"
    admitted = ok(
        addr, "platform", "admit", "xian", "--key-out", str(key_file), "--cert-out", str(cert_file),
        "--ca-out", str(ca_file), "--reason", "both assessments passed",
    )  # fmt: skip
    assert status(admitted) == "PLATFORM_STATUS_ADMITTED"
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    assert cert.public_key() == key.public_key()
    ca = x509.load_pem_x509_certificate(ca_file.read_bytes())
    cert.verify_directly_issued_by(ca)
    serial = format(cert.serial_number, "x")
    credential = admitted["credential"]
    assert isinstance(credential, dict)
    assert int(str(credential["serial"]), 16) == cert.serial_number

    suspended = ok(addr, "platform", "suspend", "xian", "--reason", "security incident", "--evidence", "INC-7")
    assert status(suspended) == "PLATFORM_STATUS_SUSPENDED"

    history = ok(addr, "platform", "history", "xian")["changes"]
    assert isinstance(history, list)
    # The proto documents full enum names here; the registry currently sends short ones ("ADMITTED"): accept both.
    assert [str(c["to_status"]).removeprefix("PLATFORM_STATUS_") for c in history] == [
        "APPLIED", "UNDER_REVIEW", "ADMITTED", "SUSPENDED",
    ]  # fmt: skip
    assert history[-1]["actor"] == "ops:e2e"
    assert history[-1]["reason"] == "security incident"
    assert history[-1]["evidence"] == ["INC-7"]
    table = creditctl(addr, "platform", "history", "xian")
    assert table.code == 0
    assert "SUSPENDED" in table.out
    assert "security incident" in table.out

    crl_file = tmp_path / "node.crl"
    revoked = ok(addr, "cert", "crl", "--out", str(crl_file))["revoked_serials"]
    assert isinstance(revoked, list)
    assert serial in [s.lower().lstrip("0") or "0" for s in revoked]
    crl = x509.load_der_x509_crl(crl_file.read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None

    coverage = ok(addr, "coverage")
    assert coverage["platforms_admitted"] == 0  # suspended platforms do not count
    assert ok(addr, "coverage", "--as-of", "2000-01-01")["platforms_admitted"] == 0
    table = creditctl(addr, "coverage")
    assert table.code == 0
    assert "platforms admitted" in table.out


def test_an_illegal_transition_exits_1_with_the_reason(registry: ServiceProcess, tmp_path: Path) -> None:
    addr = registry.address
    ok(addr, "platform", "onboard", "baoji", "--display-name", "宝鸡市融资信用服务平台", "--kind", "city",
       "--region", "610300", "--reason", "application")  # fmt: skip
    key_file = tmp_path / "baoji.key"
    result = creditctl(addr, "platform", "admit", "baoji", "--key-out", str(key_file), "--reason", "too early")
    assert result.code == 1
    assert "ERROR_REASON_" in result.err
    assert "FAILED_PRECONDITION" in result.err
    assert not key_file.exists()  # the key made for a refused admission is not left behind
    suspend = creditctl(addr, "platform", "suspend", "baoji", "--reason", "not admitted yet")
    assert suspend.code == 1
    assert "ERROR_REASON_ILLEGAL_TRANSITION" in suspend.err


def test_an_unreachable_registry_exits_3(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    result = creditctl(address, "coverage")
    assert result.code == 3
    assert "unreachable" in result.err
    assert address in result.err
