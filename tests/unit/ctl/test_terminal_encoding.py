"""creditctl on a terminal whose encoding has no Chinese (latin-1, a C locale): it prints what it can and exits as
it would anywhere, never with a UnicodeEncodeError traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from google.rpc import code_pb2

from tests.unit.ctl.fakes import FakeNode, Refusal

REPO = Path(__file__).resolve().parents[3]
NAME = "西安市融资信用服务平台"  # the fake node's platform


def _creditctl(address: str, *argv: str) -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "gen")]),
        "PYTHONIOENCODING": "latin-1",
        "REGISTRY_ADDR": address,
        "COLUMNS": "250",
    }
    return subprocess.run(
        [sys.executable, "-m", "creditctl", *argv], cwd=REPO, env=env, capture_output=True, timeout=60, check=False
    )


def test_a_table_with_chinese_is_printed_escaped(address: str) -> None:
    result = _creditctl(address, "platform", "show", "xian")
    assert result.returncode == 0, result.stderr.decode("latin-1")
    out = result.stdout.decode("latin-1")
    assert "platforms/xian" in out
    assert NAME.encode("unicode_escape").decode() in out  # \u897f\u5b89…: still readable for what it is


def test_json_stays_json_with_the_text_intact(address: str) -> None:
    result = _creditctl(address, "--json", "platform", "show", "xian")
    assert result.returncode == 0, result.stderr.decode("latin-1")
    assert json.loads(result.stdout.decode("latin-1"))["platform"]["display_name"] == NAME


def test_a_refusal_in_chinese_exits_1_with_its_message(address: str, node: FakeNode) -> None:
    # 𠀀 lies beyond the Basic Multilingual Plane (a rare character of names): escaped as \U00020000, not JSON.
    message = f"没有平台 {NAME}𠀀"
    node.answers["GetPlatform"] = Refusal(code_pb2.NOT_FOUND, message, "ERROR_REASON_NOT_FOUND")
    plain = _creditctl(address, "platform", "show", "xian")
    assert plain.returncode == 1
    err = plain.stderr.decode("latin-1")
    assert err.startswith("error: refused by registry at ")
    assert "ERROR_REASON_NOT_FOUND" in err
    assert "Traceback" not in err
    as_json = _creditctl(address, "--json", "platform", "show", "xian")
    assert as_json.returncode == 1
    assert json.loads(as_json.stderr.decode("latin-1"))["error"]["message"].endswith(message)
