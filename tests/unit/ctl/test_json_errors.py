"""With --json a failure is one JSON object on stderr (code, reason, message, metadata, exit code), not plain text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from google.rpc import code_pb2

from tests.conftest import free_port
from tests.unit.ctl.conftest import Ctl, Result
from tests.unit.ctl.fakes import ILLEGAL, FakeNode, Refusal

CHANGE = ("--actor", "ops:test", "--reason", "test")


def _error(result: Result) -> dict[str, Any]:
    assert result.out == ""  # stdout is for results only
    error: dict[str, Any] = json.loads(result.err)["error"]  # one object: the whole of stderr
    assert error["exit_code"] == result.code
    return error


def test_a_refusal_is_its_code_reason_message_and_metadata(ctl: Ctl, address: str, node: FakeNode) -> None:
    node.answers["SuspendPlatform"] = Refusal(
        code_pb2.FAILED_PRECONDITION, ILLEGAL.message, ILLEGAL.reason, {"platform": "platforms/xian"}
    )
    result = ctl("--json", "platform", "suspend", "xian", *CHANGE)
    assert result.code == 1
    error = _error(result)
    assert error["code"] == "FAILED_PRECONDITION"
    assert error["reason"] == "ERROR_REASON_ILLEGAL_TRANSITION"
    assert error["metadata"] == {"platform": "platforms/xian"}
    assert "cannot admit a platform that is ADMITTED" in error["message"]
    assert f"registry at {address}" in error["message"]


def test_personal_numbers_in_what_the_node_answered_are_masked(ctl: Ctl, address: str, node: FakeNode) -> None:
    node.answers["GetCoverage"] = Refusal(
        code_pb2.INVALID_ARGUMENT, "bad 61010319900307123X", "ERROR_REASON_INVALID_ARGUMENT", {"field": "13912345678"}
    )
    result = ctl("--json", "coverage")
    assert result.code == 1
    assert "61010319900307123X" not in result.err
    assert "13912345678" not in result.err
    assert _error(result)["metadata"].keys() == {"field"}


def test_a_refusal_without_errorinfo_has_an_empty_reason(ctl: Ctl, address: str, node: FakeNode) -> None:
    node.answers["GetCoverage"] = Refusal(code_pb2.PERMISSION_DENIED, "no")
    error = _error(ctl("--json", "coverage"))
    assert (error["code"], error["reason"], error["metadata"], error["exit_code"]) == ("PERMISSION_DENIED", "", {}, 1)


def test_no_server_at_the_address_is_unavailable_exit_3(ctl: Ctl) -> None:
    dead = f"127.0.0.1:{free_port()}"
    result = ctl("--json", "--registry", dead, "coverage")
    assert result.code == 3
    error = _error(result)
    assert error["code"] == "UNAVAILABLE"
    assert error["reason"] == ""
    assert dead in error["message"]


def test_usage_errors_are_json_with_exit_2(ctl: Ctl, address: str, tmp_path: Path) -> None:
    for argv in (
        ("platform", "no-such-command"),
        ("platform", "suspend", "xian", "--reason", "no actor"),
        ("coverage", "--as-of", "yesterday-ish"),
        ("--cert", str(tmp_path / "c.pem"), "coverage"),
        ("sharing-list", "load", str(tmp_path / "missing.yaml"), *CHANGE),
        ("--timeout", "nan", "coverage"),
    ):
        result = ctl("--json", *argv)
        assert result.code == 2, argv
        error = _error(result)
        assert (error["code"], error["reason"], error["metadata"]) == ("", "", {}), argv
        assert error["message"], argv


def test_a_local_failure_names_what_failed(ctl: Ctl, address: str, tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    error = _error(ctl("--json", "sharing-list", "load", str(missing), *CHANGE))
    assert str(missing) in error["message"]


def test_without_json_failures_stay_plain_text(ctl: Ctl, address: str, node: FakeNode) -> None:
    node.answers["SuspendPlatform"] = ILLEGAL
    result = ctl("platform", "suspend", "xian", *CHANGE)
    assert result.err.startswith("error: refused by registry at ")
    assert ctl("platform", "no-such-command").err.startswith("Usage: ")
