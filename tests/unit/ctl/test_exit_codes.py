"""creditctl's exit codes: 0 ok, 1 refused by the node (reason printed), 2 usage error, 3 node unreachable."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from google.rpc import code_pb2

from creditnode.gateway.v1 import gateway_service_pb2 as gw_pb
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


def test_an_export_that_cannot_be_written_is_a_usage_error_not_a_traceback(
    ctl: Ctl, address: str, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    (out / "receipt-0.json").mkdir(parents=True)  # in the way of the receipt file
    result = ctl("evidence", "export", "--index", "0", "--out", str(out))
    assert result.code == 2
    assert "cannot write" in result.err
    assert "receipt-0.json" in result.err


def test_a_crl_file_that_cannot_be_written_is_a_usage_error_not_a_refusal(
    ctl: Ctl, address: str, tmp_path: Path
) -> None:
    result = ctl("cert", "crl", "--out", str(tmp_path / "no-such-dir" / "node.crl"))
    assert result.code == 2
    assert "node.crl" in result.err


def test_server_name_without_ca_is_a_usage_error_not_silent_plaintext(ctl: Ctl, address: str) -> None:
    result = ctl("--server-name", "registry.creditnode.svc", "coverage")
    assert result.code == 2
    assert "--ca" in result.err


PACKAGE = ("--arbiter", "institutions/xian-arb", "--dispute", "西仲字〔2026〕第17号", "--enterprise",
           "enterprises/91610000MA6TG1234X", "--lender", "institutions/boc", "--loan", "loan-1")  # fmt: skip


def test_an_evidence_package_that_does_not_match_its_logged_digest_is_not_written(
    ctl: Ctl, address: str, node: FakeNode, tmp_path: Path
) -> None:
    node.answers["GetEvidencePackage"] = gw_pb.GetEvidencePackageResponse(
        package_json='{"format": "creditnode.evidence-package.v1"}\n', package_sha256="00" * 32, leaf_index=9
    )
    out = tmp_path / "package.json"
    result = ctl("evidence", "package", *PACKAGE, "--out", str(out))
    assert result.code == 1
    assert "sha256" in result.err
    assert not out.exists()


def test_an_evidence_package_is_written_with_the_digest_of_what_was_written(
    ctl: Ctl, address: str, tmp_path: Path
) -> None:
    out = tmp_path / "package.json"
    result = ctl("--json", "evidence", "package", *PACKAGE, "--out", str(out))
    assert result.code == 0, result.err
    assert json.loads(result.out)["package_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    again = ctl("evidence", "package", *PACKAGE, "--out", str(out))
    assert again.code == 2  # never overwritten


def test_a_call_without_an_answer_in_time_says_the_change_may_have_been_made_and_keeps_the_key(
    ctl: Ctl, address: str, node: FakeNode, tmp_path: Path
) -> None:
    # The node got the admission but answers after the deadline: it may have issued a certificate for the key.
    release = threading.Event()

    def slow(request: object) -> object:
        release.wait(30)
        return ILLEGAL

    node.answers["AdmitPlatform"] = slow
    key = tmp_path / "xian.key"
    try:
        result = ctl("--timeout", "0.2", "platform", "admit", "xian", "--key-out", str(key), *CHANGE)
    finally:
        release.set()
    assert result.code == 3
    assert "DEADLINE_EXCEEDED" in result.err
    assert "unreachable" not in result.err
    assert "may" in result.err
    assert key.exists()


@pytest.mark.parametrize("code", [code_pb2.UNAVAILABLE, code_pb2.UNKNOWN, code_pb2.INTERNAL, code_pb2.CANCELLED])
def test_a_failure_that_does_not_say_the_node_refused_keeps_the_generated_key(
    ctl: Ctl, address: str, node: FakeNode, tmp_path: Path, code: int
) -> None:
    # A connection lost after the request went out (UNAVAILABLE from a proxy, a reset stream) or a server fault after
    # the issuance was committed says nothing about whether the certificate exists; issuing it revoked the platform's
    # previous one, so deleting the key could leave the platform with neither.
    node.answers["AdmitPlatform"] = Refusal(code, "upstream connect error or disconnect/reset before headers")
    key = tmp_path / "xian.key"
    result = ctl("platform", "admit", "xian", "--key-out", str(key), *CHANGE)
    assert result.code != 0
    assert key.exists()
    assert str(key) in result.err


class _GarbledRefusal(Refusal):
    """A refusal whose google.rpc.Status trailer is not a Status at all (a broken proxy, another server)."""

    def status(self) -> grpc.Status:
        return _RawStatus(grpc.StatusCode.INTERNAL, self.message, (("grpc-status-details-bin", b"\xff\xff\xff"),))


@dataclass(frozen=True)
class _RawStatus(grpc.Status):
    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, bytes], ...]


def test_a_refusal_with_an_unreadable_status_trailer_exits_1_without_a_traceback(
    ctl: Ctl, address: str, node: FakeNode
) -> None:
    node.answers["GetCoverage"] = _GarbledRefusal(code_pb2.INTERNAL, "broken")
    result = ctl("coverage")
    assert result.code == 1
    assert "INTERNAL" in result.err
    assert "Traceback" not in result.err


def test_a_timeout_that_is_not_a_finite_number_is_a_usage_error(ctl: Ctl, address: str, node: FakeNode) -> None:
    # "inf" read as "no limit" failed every call at once as DEADLINE_EXCEEDED: exit 3, "a change may have been made".
    for value in ("inf", "nan", "1e300", "-inf"):
        result = ctl("--timeout", value, "platform", "suspend", "xian", *CHANGE)
        assert result.code == 2, (value, result.err)
        assert "--timeout" in result.err
    assert "SuspendPlatform" not in node.requests


def test_a_time_beyond_what_a_timestamp_holds_is_a_usage_error_not_a_traceback(
    ctl: Ctl, address: str, node: FakeNode
) -> None:
    for argv in (
        ("coverage", "--as-of", "0001-01-01T00:00+05:00"),
        ("findings", "run", "--until", "9999-12-31T23:00-05:00"),
        ("log", "--since", "0001-01-01T01:00+05:00"),
    ):
        result = ctl(*argv)
        assert result.code == 2, (argv, result.err)
        assert "Traceback" not in result.err
    assert not node.requests


def test_the_log_of_a_service_that_keeps_none_is_not_offered(ctl: Ctl, address: str, node: FakeNode) -> None:
    # Scoring serves no EvidenceLogService: the call could only fail with UNIMPLEMENTED, read as "refused".
    result = ctl("log", "--log", "scoring")
    assert result.code == 2
    assert "ListLeaves" not in node.requests


def test_an_empty_address_is_a_usage_error_not_a_refusal(ctl: Ctl, address: str) -> None:
    result = ctl("--registry", "", "coverage")
    assert result.code == 2
    assert "--registry" in result.err


def test_a_certificate_file_that_cannot_be_written_is_refused_before_anything_is_issued(
    ctl: Ctl, address: str, node: FakeNode, tmp_path: Path
) -> None:
    # Issuing revokes the platform's previous certificate: finding out after the call that the new one cannot be
    # written left the platform cut off, its new certificate lost, and an exit code saying nothing had happened.
    key = tmp_path / "xian.key"
    (tmp_path / "a-file").write_text("")
    for command, where in (
        (("cert", "issue"), ("--cert-out", str(tmp_path / "no-such-dir" / "xian.crt"))),
        (("platform", "admit"), ("--cert-out", str(tmp_path / "a-file" / "xian.crt"))),
        (("platform", "readmit"), ("--ca-out", str(tmp_path / "no-such-dir" / "ca.crt"))),
    ):
        result = ctl(*command, "xian", "--key-out", str(key), *where, *CHANGE)
        assert result.code == 2, (command, result.err)
        assert "cannot write" in result.err
        assert not key.exists()
    assert not {"IssuePlatformCertificate", "AdmitPlatform", "ReadmitPlatform"} & set(node.requests)


def test_a_certificate_that_cannot_be_written_after_it_was_issued_is_printed_not_lost(
    ctl: Ctl, address: str, node: FakeNode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "xian.crt"
    real_write_text = Path.write_text

    def disk_full(self: Path, *args: object, **kwargs: object) -> int:
        if self == out:
            raise OSError(28, "No space left on device")
        return real_write_text(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", disk_full)
    result = ctl("cert", "issue", "xian", "--key-out", str(tmp_path / "xian.key"), "--cert-out", str(out), *CHANGE)
    assert result.code == 2
    assert "CERT2" in result.out  # the issued certificate, on stdout
    assert "0def" in result.err
    assert "issued" in result.err
