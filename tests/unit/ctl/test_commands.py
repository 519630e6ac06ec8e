"""creditctl's commands against a fake node: what each sends, and what it prints as a table and as JSON."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import code_pb2

from creditctl.commands.render import platform_pairs
from creditctl.keys import new_key_and_csr
from creditnode.evidence.v1 import evidence_log_service_pb2 as ev_pb
from creditnode.objection.v1 import objection_service_pb2 as ob_pb
from creditnode.registry.v1 import participants_pb2 as pb
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from services.kit.evidence import verify
from services.kit.evidence.heads import NodeKey, SignedTreeHead
from services.kit.evidence.receipts import ConsistencyDocument
from tests.unit.ctl.conftest import Ctl
from tests.unit.ctl.fakes import FakeNode, Refusal

CHINA = timezone(timedelta(hours=8))
CHANGE = ("--actor", "ops:test", "--reason", "quarterly review", "--evidence", "TICKET-1", "--evidence", "DOC-2")


def test_onboard_sends_the_application_with_the_change_and_a_fresh_request_id(
    ctl: Ctl, address: str, node: FakeNode
) -> None:
    result = ctl(
        "platform", "onboard", "platforms/xian", "--display-name", "西安市融资信用服务平台", "--kind", "city",
        "--region", "610100", *CHANGE,
    )  # fmt: skip
    assert result.code == 0, result.err
    (request,) = node.requests["CreatePlatform"]
    assert request.platform_id == "xian"
    assert request.kind == pb.PLATFORM_KIND_CITY
    assert request.docking == pb.DOCKING_DIRECT
    assert request.change.actor == "ops:test"
    assert list(request.change.evidence) == ["TICKET-1", "DOC-2"]
    uuid.UUID(request.change.request_id)
    assert "APPLIED" in result.out


def test_the_actor_comes_from_the_environment_and_request_id_and_etag_pass_through(
    ctl: Ctl, address: str, node: FakeNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDITCTL_ACTOR", "ops:env")
    result = ctl("platform", "start-review", "xian", "--reason", "r", "--request-id", "rid-1", "--etag", "e1")
    assert result.code == 0, result.err
    (request,) = node.requests["StartPlatformReview"]
    assert (request.name, request.change.actor, request.change.request_id, request.change.etag) == (
        "platforms/xian", "ops:env", "rid-1", "e1",
    )  # fmt: skip


def test_assess_defaults_to_now_and_a_year_of_validity(ctl: Ctl, address: str, node: FakeNode) -> None:
    before = datetime.now(UTC)
    args = ("--kind", "security", "--result", "passed", "--assessor", "省信息安全测评中心")
    result = ctl("platform", "assess", "xian", *args, *CHANGE)
    assert result.code == 0, result.err
    (request,) = node.requests["RecordAssessment"]
    assessed = request.assessment.assessed_on.ToDatetime(tzinfo=UTC)
    assert before - timedelta(seconds=1) <= assessed <= datetime.now(UTC)
    expires = request.assessment.expires_on.ToDatetime(tzinfo=UTC)
    assert expires - assessed in (timedelta(days=365), timedelta(days=366))  # a calendar year, leap day or not
    assert request.assessment.kind == pb.ASSESSMENT_KIND_SECURITY
    assert request.assessment.result == pb.ASSESSMENT_RESULT_PASSED


@pytest.mark.parametrize(
    ("assessed_on", "expires_on"),
    [
        # 365 days after 1 June 2027 is 31 May 2028 (2028 has a 29 February): a pass lapsed a day early.
        ("2027-06-01", datetime(2028, 6, 1, tzinfo=CHINA)),
        ("2027-06-01T10:30+08:00", datetime(2028, 6, 1, 10, 30, tzinfo=CHINA)),
        # No 29 February next year: the month's last day (Civil Code art. 202).
        ("2028-02-29", datetime(2029, 2, 28, tzinfo=CHINA)),
        # A UTC time late on 31 December is 1 January in Xi'an: the year counts from there.
        ("2027-12-31T20:00Z", datetime(2029, 1, 1, 4, tzinfo=CHINA)),
    ],
)
def test_assess_defaults_to_one_calendar_year_in_xian(
    ctl: Ctl, address: str, node: FakeNode, assessed_on: str, expires_on: datetime
) -> None:
    args = (
        "--kind",
        "security",
        "--result",
        "passed",
        "--assessor",
        "省信息安全测评中心",
        "--assessed-on",
        assessed_on,
    )
    assert ctl("platform", "assess", "xian", *args, *CHANGE).code == 0
    (request,) = node.requests["RecordAssessment"]
    assert request.assessment.expires_on.ToDatetime(tzinfo=UTC) == expires_on


def test_admit_generates_a_private_key_file_and_sends_only_its_csr(
    ctl: Ctl, address: str, node: FakeNode, tmp_path: Path
) -> None:
    key_path, cert_path, ca_path = tmp_path / "xian.key", tmp_path / "xian.crt", tmp_path / "ca.crt"
    result = ctl(
        "--json", "platform", "admit", "xian", "--key-out", str(key_path), "--cert-out", str(cert_path),
        "--ca-out", str(ca_path), *CHANGE,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert key_path.stat().st_mode & 0o777 == 0o600
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    (request,) = node.requests["AdmitPlatform"]
    csr = x509.load_pem_x509_csr(request.csr_pem.encode())
    assert csr.public_key() == key.public_key()
    assert "PRIVATE KEY" not in request.csr_pem
    assert cert_path.read_text() == "CERT\n"
    assert ca_path.read_text() == "CA\n"
    out = json.loads(result.out)
    assert out["platform"]["status"] == "PLATFORM_STATUS_ADMITTED"
    assert out["credential"]["serial"] == "0abc"
    assert out["credential"]["key_file"] == str(key_path)


def test_admit_with_the_platforms_own_csr(ctl: Ctl, address: str, node: FakeNode, tmp_path: Path) -> None:
    pem = new_key_and_csr("xian", tmp_path / "platform-side.key")  # as the platform would make it
    (tmp_path / "xian.csr").write_text(pem)
    result = ctl("platform", "admit", "xian", "--csr", str(tmp_path / "xian.csr"), *CHANGE)
    assert result.code == 0, result.err
    assert node.requests["AdmitPlatform"][0].csr_pem == pem
    assert "CERT" in result.out  # no --cert-out: the certificate goes to stdout


def test_a_file_that_is_not_a_csr_is_a_usage_error(ctl: Ctl, address: str, node: FakeNode, tmp_path: Path) -> None:
    (tmp_path / "bad.csr").write_text("hello")
    assert ctl("platform", "readmit", "xian", "--csr", str(tmp_path / "bad.csr"), *CHANGE).code == 2
    assert "ReadmitPlatform" not in node.requests


def test_cert_revoke_is_a_suspension(ctl: Ctl, address: str, node: FakeNode) -> None:
    assert ctl("cert", "revoke", "xian", *CHANGE).code == 0
    assert node.requests["SuspendPlatform"][0].name == "platforms/xian"


def test_history_pages_through_every_change(ctl: Ctl, address: str, node: FakeNode) -> None:
    first = pb.StatusChange(to_status="PLATFORM_STATUS_APPLIED", actor="ops:a", reason="apply", revision=1)
    second = pb.StatusChange(
        from_status="PLATFORM_STATUS_ADMITTED", to_status="PLATFORM_STATUS_SUSPENDED", actor="ops:b",
        reason="breach", evidence=["TICKET-9"], revision=7,
    )  # fmt: skip
    node.answers["ListPlatformHistory"] = [
        admin_pb.ListPlatformHistoryResponse(changes=[first], next_page_token="p2"),
        admin_pb.ListPlatformHistoryResponse(changes=[second]),
    ]
    table = ctl("platform", "history", "xian")
    assert table.code == 0, table.err
    assert "SUSPENDED" in table.out
    assert "TICKET-9" in table.out
    assert [r.page_token for r in node.requests["ListPlatformHistory"]] == ["", "p2"]
    data = json.loads(ctl("--json", "platform", "history", "xian").out)
    assert [c["to_status"] for c in data["changes"]] == ["PLATFORM_STATUS_APPLIED", "PLATFORM_STATUS_SUSPENDED"]


def test_crl_lists_serials_and_writes_the_der_file(ctl: Ctl, address: str, tmp_path: Path) -> None:
    result = ctl("cert", "crl", "--out", str(tmp_path / "node.crl"))
    assert result.code == 0, result.err
    assert "0abc" in result.out
    assert "0def" in result.out
    assert (tmp_path / "node.crl").read_bytes() == b"\x30\x03DER"


def test_coverage_json_keeps_zero_counts_and_sends_as_of(ctl: Ctl, address: str, node: FakeNode) -> None:
    result = ctl("--json", "coverage", "--as-of", "2025-12-31")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["institutions_connected"] == 0
    assert data["regions"] == [{"region_code": "610100", "platforms_admitted": 2}]
    sent = node.requests["GetCoverage"][0].as_of.ToDatetime(tzinfo=UTC)
    # A date is the start of that day in Xi'an (Asia/Shanghai), the node's days, not 08:00 there (UTC midnight).
    assert sent == datetime(2025, 12, 30, 16, tzinfo=UTC)


def test_coverage_table(ctl: Ctl, address: str) -> None:
    result = ctl("coverage")
    assert "platforms admitted" in result.out
    assert "610100" in result.out


def test_sharing_list_load_publishes_the_file_and_shows_the_diff(
    ctl: Ctl, address: str, node: FakeNode, tmp_path: Path
) -> None:
    doc = tmp_path / "list.yaml"
    doc.write_text("version: 2\ntitle: 清单\n", encoding="utf-8")
    result = ctl("sharing-list", "load", str(doc), "--validate-only", *CHANGE)
    assert result.code == 0, result.err
    (request,) = node.requests["PublishSharingList"]
    assert request.yaml_text == "version: 2\ntitle: 清单\n"
    assert request.validate_only
    assert "validated (not published)" in result.out
    assert "CHANGED" in result.out


def test_sharing_list_show_and_diff(ctl: Ctl, address: str, node: FakeNode) -> None:
    assert "TAX_PAYMENT" in ctl("sharing-list", "show").out
    assert ctl("sharing-list", "show", "--yaml").out == "version: 1\n"
    diff = ctl("sharing-list", "diff", "1", "3")
    assert "BREAKING" in diff.out
    (request,) = node.requests["DiffSharingListVersions"]
    assert (request.from_version, request.to_version) == (1, 3)


def test_model_publish_sends_the_document(ctl: Ctl, address: str, node: FakeNode, tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("version: basic-v2\n")
    result = ctl("--json", "model", "publish", str(tmp_path / "m.yaml"))
    assert result.code == 0, result.err
    assert node.requests["PublishModel"][0].document == "version: basic-v2\n"
    assert json.loads(result.out)["enterprises_reevaluated"] == "1200"  # int64 is a JSON string in proto3 JSON


def test_effectiveness_sends_periods_groups_and_day(ctl: Ctl, address: str, node: FakeNode) -> None:
    args = ("--period", "2025", "--period", "2025-Q4", "--group-by", "institution", "--progress-on", "2025-12-31")
    result = ctl("effectiveness", *args)
    assert result.code == 0, result.err
    (request,) = node.requests["GetEffectiveness"]
    assert list(request.periods) == ["2025", "2025-Q4"]
    assert (request.progress_on.year, request.progress_on.month, request.progress_on.day) == (2025, 12, 31)
    assert "25.0%" in result.out


def test_objections_overdue_pages_and_filters_by_department(ctl: Ctl, address: str, node: FakeNode) -> None:
    node.answers["ListOverdueObjections"] = [
        ob_pb.ListOverdueObjectionsResponse(
            objections=[ob_pb.Objection(name="objections/1", platform="platforms/xian", overdue=True)],
            next_page_token="n",
        ),
        ob_pb.ListOverdueObjectionsResponse(objections=[ob_pb.Objection(name="objections/2", overdue=True)]),
    ]
    result = ctl("--json", "objections", "overdue", "--department", "sx-tax")
    assert result.code == 0, result.err
    assert [o["name"] for o in json.loads(result.out)["objections"]] == ["objections/1", "objections/2"]
    assert node.requests["ListOverdueObjections"][0].department == "departments/sx-tax"


def test_log_lists_disclosure_leaves_with_their_payloads(ctl: Ctl, address: str, node: FakeNode) -> None:
    leaf = ev_pb.Leaf(index=4, kind=ev_pb.LEAF_KIND_DISCLOSURE, payload_json='{"requester": "institutions/boc"}')
    node.answers["ListLeaves"] = ev_pb.ListLeavesResponse(leaves=[leaf])
    result = ctl("--json", "log", "--since", "2026-11-01", "--requester", "institutions/boc")
    assert result.code == 0, result.err
    assert json.loads(result.out)["leaves"][0]["payload"] == {"requester": "institutions/boc"}
    (request,) = node.requests["ListLeaves"]
    assert request.kind == ev_pb.LEAF_KIND_DISCLOSURE
    assert request.start_time.ToDatetime(tzinfo=UTC) == datetime(2026, 10, 31, 16, tzinfo=UTC)  # 00:00 in Xi'an
    assert dict(request.payload_equals) == {"requester": "institutions/boc"}
    assert "institutions/boc" in ctl("log").out


def test_evidence_export_writes_a_receipt_per_leaf_and_the_keys(
    ctl: Ctl, address: str, node: FakeNode, tmp_path: Path
) -> None:
    out = tmp_path / "package"
    result = ctl("--json", "evidence", "export", "--index", "2", "--index", "0", "--out", str(out))
    assert result.code == 0, result.err
    assert json.loads((out / "receipt-0.json").read_text()) == {"leaf_index": 0}
    assert json.loads((out / "receipt-2.json").read_text()) == {"leaf_index": 2}
    keys = json.loads((out / "public-keys.json").read_text())
    # the keys name their log: the offline verifier binds each key to one origin (--public-key ORIGIN=KEY)
    assert (keys["origin"], keys["public_keys"][0]["key_id"]) == ("creditnode/gateway", "k1")
    assert json.loads((out / "tree-head.json").read_text())["tree_size"] == 3
    assert [r.tree_size for r in node.requests["GetInclusionProof"]] == [3, 3]
    assert json.loads(result.out)["receipts"] == [str(out / "receipt-0.json"), str(out / "receipt-2.json")]


def test_evidence_export_refuses_a_leaf_beyond_the_log(ctl: Ctl, address: str, tmp_path: Path) -> None:
    assert ctl("evidence", "export", "--index", "3", "--out", str(tmp_path / "p")).code == 2


def test_history_shows_a_reason_with_brackets_as_written(ctl: Ctl, address: str, node: FakeNode) -> None:
    change = pb.StatusChange(to_status="PLATFORM_STATUS_SUSPENDED", actor="ops:a", reason="breach [/] see [ticket 5]")
    node.answers["ListPlatformHistory"] = admin_pb.ListPlatformHistoryResponse(changes=[change])
    result = ctl("platform", "history", "xian")
    assert result.code == 0, result.err
    assert "breach [/] see [ticket 5]" in result.out


def test_log_filters_take_bare_ids_as_the_names_the_payloads_hold(ctl: Ctl, address: str, node: FakeNode) -> None:
    # Disclosure payloads hold full names; a bare "xian" would match nothing and the table would read "0 leaves".
    result = ctl("log", "--platform", "xian", "--enterprise", "91610000MA6TG1234X", "--authorization", "a-1")
    assert result.code == 0, result.err
    (request,) = node.requests["ListLeaves"]
    assert dict(request.payload_equals) == {
        "platform": "platforms/xian",
        "enterprise": "enterprises/91610000MA6TG1234X",
        "authorization": "authorizations/a-1",
    }
    assert ctl("log", "--platform", "platforms/xian").code == 0
    assert dict(node.requests["ListLeaves"][1].payload_equals) == {"platform": "platforms/xian"}


def test_evidence_export_proves_every_leaf_it_lists_while_the_log_grows(
    ctl: Ctl, address: str, node: FakeNode, tmp_path: Path
) -> None:
    # A live gateway: a disclosure is logged while the supervisor exports. Like the real log, a proof against a
    # tree that does not hold the leaf is refused.
    log = {"size": 3}

    def leaves(request: ev_pb.ListLeavesRequest) -> ev_pb.ListLeavesResponse:
        log["size"] += 1
        return ev_pb.ListLeavesResponse(leaves=[ev_pb.Leaf(index=i) for i in range(log["size"])])

    def head(request: ev_pb.GetSignedTreeHeadRequest) -> ev_pb.GetSignedTreeHeadResponse:
        return ev_pb.GetSignedTreeHeadResponse(
            tree_head=ev_pb.SignedTreeHead(origin="creditnode/gateway", tree_size=log["size"])
        )

    def proof(request: ev_pb.GetInclusionProofRequest) -> object:
        if request.leaf_index >= request.tree_size:
            return Refusal(code_pb2.INVALID_ARGUMENT, "the tree of that size does not contain the leaf",
                           "ERROR_REASON_EVIDENCE_TREE_SIZE_OUT_OF_RANGE")  # fmt: skip
        return ev_pb.GetInclusionProofResponse(
            tree_size=request.tree_size, receipt_json=f'{{"leaf_index": {request.leaf_index}}}'
        )

    node.answers.update(ListLeaves=leaves, GetSignedTreeHead=head, GetInclusionProof=proof)
    out = tmp_path / "export"
    result = ctl("--json", "evidence", "export", "--since", "2026-01-01", "--out", str(out))
    assert result.code == 0, result.err
    assert sorted(p.name for p in out.glob("receipt-*.json")) == [f"receipt-{i}.json" for i in range(4)]


def _answers_a_signed_head(node: FakeNode) -> NodeKey:
    """The node answers GetSignedTreeHead with a head of size 3 signed (at 1,767,225,600,123 ms) by a new key."""
    key = NodeKey.generate()
    signed = SignedTreeHead.sign(key, "creditnode/gateway", 3, bytes(range(32)), 1_767_225_600_123)
    sth = ev_pb.SignedTreeHead(
        origin=signed.origin, tree_size=signed.tree_size, root_hash=signed.root_hash, key_id=signed.key_id,
        signature=signed.signature,
    )  # fmt: skip
    sth.timestamp.FromMilliseconds(signed.timestamp_ms)
    node.answers["GetSignedTreeHead"] = ev_pb.GetSignedTreeHeadResponse(tree_head=sth)
    return key


def test_evidence_export_writes_a_tree_head_the_offline_verifier_reads(
    ctl: Ctl, address: str, node: FakeNode, tmp_path: Path
) -> None:
    key = _answers_a_signed_head(node)
    node.answers["ListPublicKeys"] = ev_pb.ListPublicKeysResponse(
        public_keys=[ev_pb.PublicKey(key_id=key.key_id, public_key=key.public_bytes)]
    )
    out = tmp_path / "export"
    assert ctl("evidence", "export", "--index", "0", "--out", str(out)).code == 0
    public_key = json.loads((out / "public-keys.json").read_text())["public_keys"][0]["public_key"]
    proof = tmp_path / "proof.json"
    proof.write_text(ConsistencyDocument("creditnode/gateway", 3, 3, []).to_json())
    head = str(out / "tree-head.json")
    status, line = verify.run(["consistency", head, head, str(proof), "--public-key", public_key])
    assert (status, line) == (0, "valid: creditnode/gateway at tree size 3 is a prefix of tree size 3")


def test_evidence_exports_public_keys_the_offline_verifier_reads_with_their_retirement(
    ctl: Ctl, address: str, node: FakeNode, tmp_path: Path
) -> None:
    key = _answers_a_signed_head(node)
    proof = tmp_path / "proof.json"
    proof.write_text(ConsistencyDocument("creditnode/gateway", 3, 3, []).to_json())
    # Retired at the head's instant (to the microsecond within it), then a millisecond before it.
    for retired_us, want in [(1_767_225_600_123_999, 0), (1_767_225_600_122_999, 1)]:
        listed = ev_pb.PublicKey(key_id=key.key_id, public_key=key.public_bytes)
        listed.retire_time.FromMicroseconds(retired_us)
        node.answers["ListPublicKeys"] = ev_pb.ListPublicKeysResponse(public_keys=[listed])
        out = tmp_path / f"export-{want}"
        assert ctl("evidence", "export", "--index", "0", "--out", str(out)).code == 0
        head = str(out / "tree-head.json")
        keys = str(out / "public-keys.json")
        status, line = verify.run(["consistency", head, head, str(proof), "--public-keys-file", keys])
        assert status == want, line
        if want:
            assert line.startswith("invalid: KEY_RETIRED: the old tree head was signed by key "), line


def test_evidence_export_pages_through_large_leaves_within_the_nodes_message_limit(
    ctl: Ctl, address: str, node: FakeNode, tmp_path: Path
) -> None:
    # Disclosure payloads may reach 16 KiB (the entry repeats them); the node's servers send at most 8 MiB.
    big = json.dumps({"records": "r" * 15_000})
    total = 300

    def leaves(request: ev_pb.ListLeavesRequest) -> object:
        start, size = int(request.page_token or 0), min(request.page_size or 100, 1000)
        page = [ev_pb.Leaf(index=i, payload_json=big, entry_json=big) for i in range(start, min(start + size, total))]
        response = ev_pb.ListLeavesResponse(
            leaves=page, next_page_token=str(start + size) if start + size < total else ""
        )
        if response.ByteSize() > 8 * 1024 * 1024:
            return Refusal(code_pb2.RESOURCE_EXHAUSTED, "Sent message larger than max")
        return response

    head = ev_pb.SignedTreeHead(origin="creditnode/gateway", tree_size=total)
    node.answers.update(ListLeaves=leaves, GetSignedTreeHead=ev_pb.GetSignedTreeHeadResponse(tree_head=head))
    result = ctl("--json", "evidence", "export", "--since", "2026-01-01", "--out", str(tmp_path / "export"))
    assert result.code == 0, result.err
    assert len(json.loads(result.out)["receipts"]) == total


def test_findings_run_over_one_date_sends_exactly_that_asia_shanghai_day(
    ctl: Ctl, address: str, node: FakeNode
) -> None:
    # Read as UTC midnights, the period ran from 08:00 to 08:00 in Xi'an, and the node (which judges the whole
    # Asia/Shanghai days a period touches) ran the rules over two days, the second one possibly still in progress.
    result = ctl("--json", "findings", "run", "--since", "2026-03-30", "--until", "2026-03-31")
    assert result.code == 0, result.err
    (request,) = node.requests["RunSupervision"]
    assert request.start_time.ToDatetime(tzinfo=UTC) == datetime(2026, 3, 29, 16, tzinfo=UTC)
    assert request.end_time.ToDatetime(tzinfo=UTC) == datetime(2026, 3, 30, 16, tzinfo=UTC)


def test_a_time_without_an_offset_is_beijing_time_and_one_with_an_offset_is_kept(
    ctl: Ctl, address: str, node: FakeNode
) -> None:
    assert ctl("coverage", "--as-of", "2026-03-31T09:30").code == 0
    assert ctl("coverage", "--as-of", "2026-03-31T09:30Z").code == 0
    sent = [r.as_of.ToDatetime(tzinfo=UTC) for r in node.requests["GetCoverage"]]
    assert sent == [datetime(2026, 3, 31, 1, 30, tzinfo=UTC), datetime(2026, 3, 31, 9, 30, tzinfo=UTC)]


def test_effectiveness_progress_on_a_time_is_its_asia_shanghai_day(ctl: Ctl, address: str, node: FakeNode) -> None:
    assert ctl("effectiveness", "--period", "2025", "--progress-on", "2025-12-31T20:00:00Z").code == 0
    (request,) = node.requests["GetEffectiveness"]
    assert (request.progress_on.year, request.progress_on.month, request.progress_on.day) == (2026, 1, 1)


def test_findings_run_help_states_the_default_period_start_as_the_code_computes_it(ctl: Ctl) -> None:
    # The start defaults to a day before --until (not before now), so the help must say so.
    help_text = " ".join(ctl("findings", "run", "--help").out.split())
    assert "24 hours before --until" in help_text


def test_findings_list_takes_a_bare_platform_id_like_every_other_command(
    ctl: Ctl, address: str, node: FakeNode
) -> None:
    # `creditctl platform show xian` and `creditctl log --platform xian` take the bare id; the node's filter needs
    # the name, and refused `findings list --platform xian` as INVALID_ARGUMENT.
    for given in ("xian", "platforms/xian"):
        assert ctl("findings", "list", "--platform", given).code == 0
    assert [r.platform for r in node.requests["ListFindings"]] == ["platforms/xian", "platforms/xian"]


def test_effectiveness_progress_on_past_the_last_date_is_a_usage_error(ctl: Ctl, address: str, node: FakeNode) -> None:
    # 9999-12-31T20:00Z is a Timestamp, but its Xi'an day is in year 10000, which no date holds.
    result = ctl("effectiveness", "--period", "2025", "--progress-on", "9999-12-31T20:00:00Z")
    assert result.code == 2
    assert "GetEffectiveness" not in node.requests


def test_assess_in_the_last_year_a_time_holds_asks_for_expires_on(ctl: Ctl, address: str, node: FakeNode) -> None:
    args = (
        "--kind",
        "security",
        "--result",
        "passed",
        "--assessor",
        "省信息安全测评中心",
        "--assessed-on",
        "9999-06-01",
    )
    assert ctl("platform", "assess", "xian", *args, *CHANGE).code == 2
    assert "RecordAssessment" not in node.requests


def test_platform_show_gives_an_assessments_expiry_in_xian_time() -> None:
    # A pass assessed on 1 June 2027 (Beijing) lapses at 00:00 on 1 June 2028 there, 16:00 UTC on 31 May: the UTC
    # timestamp cut to its date showed "until 2028-05-31", a day before the day it lapses on in Xi'an.
    expires = Timestamp()
    expires.FromDatetime(datetime(2028, 5, 31, 16, tzinfo=UTC))
    passed = pb.Assessment(kind=pb.ASSESSMENT_KIND_SECURITY, result=pb.ASSESSMENT_RESULT_PASSED, expires_on=expires)
    shown = dict(platform_pairs(pb.Platform(name="platforms/xian", assessments=[passed])))
    assert shown["assessments"] == "SECURITY=PASSED until 2028-06-01 00:00 +08:00"
