"""creditctl's exit codes: 0 ok, 1 refused by the node (reason printed), 2 usage error, 3 node unreachable."""

from __future__ import annotations

from pathlib import Path

from google.rpc import code_pb2

from tests.conftest import free_port
from tests.unit.ctl.conftest import Ctl
from tests.unit.ctl.fakes import ILLEGAL, FakeNode, Refusal

CHANGE = ("--actor", "ops:test", "--reason", "test")


def test_a_successful_call_exits_0(ctl: Ctl, address: str) -> None:
    assert ctl("coverage").code == 0


def test_a_refusal_exits_1_and_prints_the_code_and_errorinfo_reason(ctl: Ctl, address: str, node: FakeNode) -> None:
    node.answers["SuspendPlatform"] = ILLEGAL
    result = ctl("platform", "suspend", "xian", *CHANGE)
    assert result.code == 1
    assert "FAILED_PRECONDITION" in result.err
    assert "ERROR_REASON_ILLEGAL_TRANSITION" in result.err
    assert "cannot admit a platform that is ADMITTED" in result.err
    assert result.out == ""


def test_unavailable_with_an_errorinfo_is_the_node_refusing_not_unreachable(
    ctl: Ctl, address: str, node: FakeNode
) -> None:
    node.answers["GetCoverage"] = Refusal(code_pb2.UNAVAILABLE, "consent down", "ERROR_REASON_DEPENDENCY_UNAVAILABLE")
    result = ctl("coverage")
    assert result.code == 1
    assert "ERROR_REASON_DEPENDENCY_UNAVAILABLE" in result.err


def test_a_refusal_without_errorinfo_still_exits_1(ctl: Ctl, address: str, node: FakeNode) -> None:
    node.answers["GetCoverage"] = Refusal(code_pb2.PERMISSION_DENIED, "no")
    result = ctl("coverage")
    assert result.code == 1
    assert "PERMISSION_DENIED" in result.err


def test_no_server_at_the_address_exits_3_and_names_it(ctl: Ctl) -> None:
    dead = f"127.0.0.1:{free_port()}"
    result = ctl("--registry", dead, "coverage")
    assert result.code == 3
    assert "unreachable" in result.err
    assert dead in result.err


def test_an_unreachable_scoring_service_is_named_as_such(ctl: Ctl, address: str) -> None:
    dead = f"127.0.0.1:{free_port()}"
    result = ctl("--scoring", dead, "effectiveness", "--period", "2025")
    assert result.code == 3
    assert f"scoring at {dead}" in result.err


def test_usage_errors_exit_2(ctl: Ctl, address: str, tmp_path: Path) -> None:
    assert ctl("platform", "no-such-command").code == 2
    assert ctl("platform", "suspend", "xian", "--reason", "no actor").code == 2
    assert ctl("coverage", "--as-of", "yesterday-ish").code == 2
    assert ctl("--cert", str(tmp_path / "c.pem"), "coverage").code == 2
    assert ctl("sharing-list", "load", str(tmp_path / "missing.yaml"), *CHANGE).code == 2


def test_admit_needs_exactly_one_of_key_out_and_csr(ctl: Ctl, address: str, tmp_path: Path, node: FakeNode) -> None:
    assert ctl("platform", "admit", "xian", *CHANGE).code == 2
    both = ctl("platform", "admit", "xian", "--key-out", str(tmp_path / "k"), "--csr", str(tmp_path / "c"), *CHANGE)
    assert both.code == 2
    assert "exactly one" in both.err
    assert "AdmitPlatform" not in node.requests


def test_an_existing_key_file_is_never_overwritten(ctl: Ctl, address: str, tmp_path: Path, node: FakeNode) -> None:
    key = tmp_path / "xian.key"
    key.write_text("the platform's current key")
    result = ctl("platform", "admit", "xian", "--key-out", str(key), *CHANGE)
    assert result.code == 2
    assert key.read_text() == "the platform's current key"
    assert "AdmitPlatform" not in node.requests


def test_a_refused_admission_deletes_the_key_it_generated(
    ctl: Ctl, address: str, tmp_path: Path, node: FakeNode
) -> None:
    node.answers["AdmitPlatform"] = ILLEGAL
    key = tmp_path / "xian.key"
    result = ctl("platform", "admit", "xian", "--key-out", str(key), *CHANGE)
    assert result.code == 1
    assert not key.exists()


def test_help_exits_0(ctl: Ctl) -> None:
    result = ctl("--help")
    assert result.code == 0
    assert "Exit codes" in result.out
