"""Evidence packages and supervision on a whole node of real processes: an arbitration commission exports a loan
dispute's package over mTLS and anyone verifies it offline; supervisors run the rules on the internal listener, prove
a finding and send it to the registry as a breach."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from creditnode.evidence.v1 import evidence_log_service_pb2 as epb
from creditnode.evidence.v1 import evidence_log_service_pb2_grpc as epb_grpc
from creditnode.gateway.v1 import gateway_service_pb2 as gw
from creditnode.gateway.v1 import supervision_service_pb2 as sv
from creditnode.gateway.v1 import supervision_service_pb2_grpc as sv_grpc
from creditnode.registry.v1 import participants_pb2 as pp
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.scoring.v1 import scoring_service_pb2 as sc
from services.gateway.client_lib import PlatformClient, SelfQuerySigner
from services.kit.evidence.heads import b64encode
from services.kit.evidence.receipts import verify_receipt
from services.kit.evidence.verify import run
from tests.e2e.ctl.test_creditctl_scoring_objection import creditctl
from tests.e2e.gateway.test_gateway_e2e import grant, refused, report, until
from tests.gateway_support import ID_NUMBER, PERSON, PHONE, Node, running_node
from tests.registry_helpers import change, random_uscc

BANK = "institutions/boc-xian"
ARBITER = "institutions/xian-arbitration"


@pytest.fixture
def node(tmp_path: Path, database_url: str) -> Iterator[Node]:
    with running_node(tmp_path, database_url, SUPERVISION_BREADTH_ENTERPRISES="3", SUPERVISION_BURST_DENIALS="3") as n:
        yield n


def _keys(channel: grpc.Channel) -> list[str]:
    listed = epb_grpc.EvidenceLogServiceStub(channel).ListPublicKeys(epb.ListPublicKeysRequest(), timeout=10)
    return [b64encode(k.public_key) for k in listed.public_keys]


def _loan(node: Node) -> str:
    loan_id = f"loan-{secrets.token_hex(4)}"
    request = sc.ReportLoanRequest(
        loan_id=loan_id,
        institution=BANK,
        enterprise=node.enterprise.name,
        amount_yuan="300000.00",
        term_months=12,
        security=sc.LOAN_SECURITY_CREDIT,
        granted_on=sc.CalendarDay(year=2026, month=11, day=2),
    )
    node.callers["xian"].stub.ReportLoan(gw.ReportLoanRequest(loan=request), timeout=10)
    return loan_id


def _package_request(node: Node, loan_id: str, **kw: str) -> gw.GetEvidencePackageRequest:
    fields = {
        "arbiter": ARBITER,
        "dispute_reference": "(2026)西仲字第17号",
        "enterprise": node.enterprise.name,
        "lender": BANK,
        "loan_id": loan_id,
        **kw,
    }
    return gw.GetEvidencePackageRequest(**fields)


def test_an_arbiter_exports_a_dispute_package_that_verifies_offline(node: Node, tmp_path: Path) -> None:
    stub = node.callers["xian"].stub
    node.registry.admin.CreateInstitution(
        admin_pb.CreateInstitutionRequest(
            institution_id="xian-arbitration",
            display_name="西安仲裁委员会",
            licence_number="ARB6101000001",
            type=pp.INSTITUTION_TYPE_ARBITRATION,
            platform="platforms/xian",
            change=change(),
        )
    )
    grant(node, BANK, items=("TAX_PAYMENT",))
    portrait = gw.GetPortraitRequest(enterprise=node.enterprise.name, purpose="PRE_LOAN", institution=BANK)

    def portrait_served() -> bool:
        try:
            return stub.GetPortrait(portrait, timeout=10).receipt.leaf_index >= 0
        except grpc.RpcError:
            return False

    until(portrait_served, "the lender's portrait", timeout=60)
    released = report(node, institution=BANK, items=["REG_BASIC", "TAX_PAYMENT"])
    record = released.records[0].record
    loan_id = _loan(node)

    got: list[gw.GetEvidencePackageResponse] = []

    def exported() -> bool:
        try:
            got.append(stub.GetEvidencePackage(_package_request(node, loan_id), timeout=30))
            return True
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.PERMISSION_DENIED:  # refused only until the watch brings the arbiter
                raise
            return False

    until(exported, "the package", 30)
    response = got[0]
    assert response.leaf_index >= 0
    assert hashlib.sha256(response.package_json.encode()).hexdigest() == response.package_sha256
    package = json.loads(response.package_json)
    # The released record's hash is in the package exactly as a holder of the record computes it.
    mine = hashlib.sha256(record.SerializeToString(deterministic=True)).hexdigest()
    assert mine in {r["sha256"] for r in package["records"]}
    assert len(package["disclosures"]) >= 2  # the portrait and the report
    (authorization,) = package["authorizations"]
    assert [r["event_type"] for r in authorization["receipts"]] == ["GRANTED"]
    # Nothing personal travels in a package: no raw record field, not even the masked ones.
    masked = {f.string_value for f in record.fields.values() if "*" in f.string_value}
    assert masked  # the record did carry masked personal fields
    for secret in (ID_NUMBER, PHONE, PERSON, *masked):
        assert secret not in response.package_json

    path = tmp_path / "package.json"
    path.write_text(response.package_json, encoding="utf-8")
    keys = [
        *(f"creditnode/gateway={k}" for k in _keys(node.callers["xian"].channel)),
        *(f"creditnode/consent={k}" for k in _keys(grpc.insecure_channel(node.consent_address))),
    ]
    key_args = [arg for k in keys for arg in ("--public-key", k)]
    status, line = run(["package", str(path), *key_args])
    assert status == 0, line
    assert "(2026)西仲字第17号: 1 authorizations (1 consent events)" in line
    # The same export through creditctl, as the arbiter's platform over mTLS; the file verifies the same way.
    xian = node.callers["xian"]
    tls = [
        "--ca",
        str(node.pki.write("ctl-ca.crt", node.pki.ca_pem)),
        "--cert",
        str(node.pki.write("ctl-xian.crt", xian.cert)),
        "--key",
        str(node.pki.write("ctl-xian.key", xian.key)),
        "--server-name",
        "localhost",
    ]
    args = ["--arbiter", ARBITER, "--dispute", "(2026)西仲字第17号", "--enterprise", node.enterprise.name]
    args += ["--lender", BANK, "--loan", loan_id, "--out", str(tmp_path / "ctl-package.json")]
    by_ctl = creditctl({"GATEWAY_ADDR": node.gateway.address}, *tls, "evidence", "package", *args)
    assert by_ctl.returncode == 0, by_ctl.stderr
    assert run(["package", str(tmp_path / "ctl-package.json"), *key_args])[0] == 0
    again = creditctl({"GATEWAY_ADDR": node.gateway.address}, *tls, "evidence", "package", *args)
    assert again.returncode == 2  # an existing evidence file is never overwritten

    # The enterprise sees each export in its own history: who received what about it, for which dispute, when.
    e = node.enterprise
    relay = PlatformClient(node.callers["baoji"].channel)
    _, history = relay.self_query_history(SelfQuerySigner(e.name, e.key_id, e.key), page_size=1)
    exports = [d for d in history if d.kind == gw.DISCLOSURE_KIND_EVIDENCE_PACKAGE]
    assert len(exports) == 2  # through the API and through creditctl; the refused ones released nothing
    export = exports[0]
    assert (export.leaf_index, export.payload_sha256) == (response.leaf_index, response.package_sha256)
    assert (export.requester, export.platform, export.authorization) == (ARBITER, "platforms/xian", "")
    assert list(export.item_codes) == ["evidence_package"]
    assert not export.purpose
    assert (export.evidence_package.lender, export.evidence_package.loan_id) == (BANK, loan_id)
    assert export.evidence_package.dispute_reference_sha256 == hashlib.sha256("(2026)西仲字第17号".encode()).hexdigest()
    assert export.release_time.seconds > 0
    assert {d.kind for d in history} == {gw.DISCLOSURE_KIND_RELEASE, gw.DISCLOSURE_KIND_EVIDENCE_PACKAGE}
    # The platform that relayed the self-query proves the export's leaf to the enterprise.
    door = epb_grpc.EvidenceLogServiceStub(node.callers["baoji"].channel)
    proof = door.GetInclusionProof(epb.GetInclusionProofRequest(leaf_index=export.leaf_index), timeout=10)
    assert json.loads(proof.leaf.payload_json)["payload_sha256"] == response.package_sha256

    # Each key verifies only its own log: the two swapped prove nothing.
    swapped = [
        k.replace("creditnode/gateway=", "X=").replace("creditnode/consent=", "creditnode/gateway=") for k in keys
    ]
    swapped = [k.replace("X=", "creditnode/consent=") for k in swapped]
    assert run(["package", str(path), *(arg for k in swapped for arg in ("--public-key", k))])[0] == 1
    package["records"][0]["sha256"] = "0" * 64
    path.write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
    status, line = run(["package", str(path), *key_args])
    assert (status, line.split(":")[1].strip()) == (1, "RECORD_NOT_PROVEN")

    # Refusals: a bank is no arbiter; unknown loan, or a loan of another lender; a bad reference; another platform.
    assert refused(lambda: stub.GetEvidencePackage(_package_request(node, loan_id, arbiter=BANK), timeout=10)) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "ERROR_REASON_NOT_AN_ARBITER",
    )
    assert refused(lambda: stub.GetEvidencePackage(_package_request(node, "loan-none"), timeout=10)) == (
        grpc.StatusCode.NOT_FOUND,
        "ERROR_REASON_LOAN_NOT_FOUND",
    )
    other_lender = _package_request(node, loan_id, lender="institutions/other-bank")
    assert refused(lambda: stub.GetEvidencePackage(other_lender, timeout=10)) == (
        grpc.StatusCode.NOT_FOUND,
        "ERROR_REASON_LOAN_NOT_FOUND",
    )
    bad_reference = _package_request(node, loan_id, dispute_reference="x" * 65)
    assert refused(lambda: stub.GetEvidencePackage(bad_reference, timeout=10))[0] == grpc.StatusCode.INVALID_ARGUMENT
    foreign = node.callers["baoji"].stub
    assert refused(lambda: foreign.GetEvidencePackage(_package_request(node, loan_id), timeout=10)) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "ERROR_REASON_INSTITUTION_NO_ACCESS",
    )


def _period() -> tuple[Timestamp, Timestamp]:
    start, end = Timestamp(), Timestamp()
    now = datetime.now(UTC)
    start.FromDatetime(now - timedelta(hours=1))
    end.FromDatetime(now + timedelta(hours=1))
    return start, end


def test_supervisors_run_rules_prove_findings_and_report_them(node: Node, tmp_path: Path) -> None:
    internal = grpc.insecure_channel(node.gateway_env["INTERNAL_LISTEN_ADDR"])
    supervision = sv_grpc.SupervisionServiceStub(internal)
    # The bank asks about three enterprises it holds no authorization for; baoji asks for xian's bank three times.
    for _ in range(3):
        unknown = gw.GetCreditReportRequest(
            enterprise=f"enterprises/{random_uscc()}", purpose="PRE_LOAN", item_codes=["TAX_PAYMENT"], institution=BANK
        )
        node.callers["xian"].stub.GetCreditReport(unknown, timeout=10)
    for _ in range(3):
        refused(lambda: report(node, "baoji", institution=BANK))
    start, end = _period()
    run_once = supervision.RunSupervision(sv.RunSupervisionRequest(start_time=start, end_time=end), timeout=30)
    found = {(f.rule, f.subject): f for f in run_once.findings}
    # xian's three reports released nothing (unknown enterprises, items withheld), but none was refused: no burst.
    assert set(found) == {
        (sv.FINDING_RULE_UNAUTHORIZED_BREADTH, BANK),
        (sv.FINDING_RULE_DENIAL_BURST, "platforms/baoji"),
    }
    breadth = found[(sv.FINDING_RULE_UNAUTHORIZED_BREADTH, BANK)]
    burst = found[(sv.FINDING_RULE_DENIAL_BURST, "platforms/baoji")]
    assert (breadth.platform, breadth.count, burst.platform, burst.count) == ("platforms/xian", 3, "platforms/baoji", 3)
    # Re-running the period finds the same findings, not new ones.
    again = supervision.RunSupervision(sv.RunSupervisionRequest(start_time=start, end_time=end), timeout=30)
    assert sorted(f.name for f in again.findings) == sorted(f.name for f in run_once.findings)

    # Each finding's leaves come with receipts that verify against the gateway's key.
    proved = supervision.GetFinding(sv.GetFindingRequest(name=burst.name), timeout=10)
    keys = {
        k.key_id: k.public_key
        for k in epb_grpc.EvidenceLogServiceStub(internal)
        .ListPublicKeys(epb.ListPublicKeysRequest(), timeout=10)
        .public_keys
    }
    indices = [
        verify_receipt(json.loads(r), keys, origin="creditnode/gateway").leaf_index for r in proved.receipts_json
    ]
    assert indices == list(burst.leaf_indices)

    # Reported: the registry holds a supervision breach against baoji, referring to the finding.
    reported = supervision.ReportFinding(sv.ReportFindingRequest(name=burst.name), timeout=10)
    assert reported.finding.HasField("report_time")
    breaches = node.registry.admin.ListPlatformBreaches(
        admin_pb.ListPlatformBreachesRequest(platform="platforms/baoji"), timeout=10
    ).breaches
    assert [(b.kind, b.reference) for b in breaches] == [(admin_pb.BREACH_KIND_SUPERVISION_FINDING, burst.name)]
    listed = supervision.ListFindings(sv.ListFindingsRequest(platform="platforms/baoji"), timeout=10).findings
    assert [f.name for f in listed] == [burst.name]

    # Supervisors query the log by requester and period on the internal listener.
    leaves = (
        epb_grpc.EvidenceLogServiceStub(internal)
        .ListLeaves(
            epb.ListLeavesRequest(payload_equals={"requester": BANK}, start_time=start, end_time=end), timeout=10
        )
        .leaves
    )
    assert len(leaves) == 3
    assert all(json.loads(leaf.payload_json)["requester"] == BANK for leaf in leaves)
    # Recorded, as answered reports that released nothing: not as refusals.
    assert {json.loads(leaf.payload_json)["decision"] for leaf in leaves} == {"NOTHING_RELEASED"}

    # Bad input, and no supervision on the platforms' door.
    missing = refused(lambda: supervision.GetFinding(sv.GetFindingRequest(name="findings/999999"), timeout=10))
    assert missing == (grpc.StatusCode.NOT_FOUND, "ERROR_REASON_FINDING_NOT_FOUND")
    backwards = sv.RunSupervisionRequest(start_time=end, end_time=start)
    assert refused(lambda: supervision.RunSupervision(backwards, timeout=10))[0] == grpc.StatusCode.INVALID_ARGUMENT
    door = sv_grpc.SupervisionServiceStub(node.callers["xian"].channel)
    assert refused(lambda: door.ListFindings(sv.ListFindingsRequest(), timeout=10))[0] == grpc.StatusCode.UNIMPLEMENTED
    internal.close()

    # The same through creditctl, the operator's command line.
    env = {"SUPERVISION_ADDR": node.gateway_env["INTERNAL_LISTEN_ADDR"]}
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    ran = creditctl(env, "findings", "run", "--since", since)
    assert ran.returncode == 0, ran.stderr
    assert {f["name"] for f in json.loads(ran.stdout)["findings"]} == {f.name for f in run_once.findings}
    shown = creditctl(env, "findings", "show", breadth.name, "--out", str(tmp_path / "proofs"))
    assert shown.returncode == 0, shown.stderr
    assert len(list((tmp_path / "proofs").glob("receipt-*.json"))) == len(breadth.leaf_indices)
    reported_by_ctl = creditctl(env, "findings", "report", breadth.name)
    assert reported_by_ctl.returncode == 0, reported_by_ctl.stderr
    xian_breaches = node.registry.admin.ListPlatformBreaches(
        admin_pb.ListPlatformBreachesRequest(platform="platforms/xian"), timeout=10
    ).breaches
    assert [b.reference for b in xian_breaches] == [breadth.name]
    listed_by_ctl = creditctl(env, "findings", "list", "--rule", "unauthorized-breadth")
    assert [f["name"] for f in json.loads(listed_by_ctl.stdout)["findings"]] == [breadth.name]
    log = creditctl(env, "log", "--requester", BANK, "--since", since)
    assert len(json.loads(log.stdout)["leaves"]) == 3
    missing_by_ctl = creditctl(env, "findings", "show", "findings/999999")
    assert missing_by_ctl.returncode == 1
    assert "ERROR_REASON_FINDING_NOT_FOUND" in missing_by_ctl.stderr
