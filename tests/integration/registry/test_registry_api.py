"""The registry through real gRPC on the configured backend: lifecycle, credentials, bad input, idempotency."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from creditnode.evidence.v1 import evidence_log_service_pb2 as evidence_pb
from creditnode.evidence.v1 import evidence_log_service_pb2_grpc as evidence_grpc
from creditnode.registry.v1 import participants_pb2 as pb
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from services.kit.evidence.receipts import verify_receipt
from services.kit.paging import encode_token
from services.kit.status import error_info
from services.registry.domain.participants import rotation_message
from services.registry.domain.uscc import make_uscc
from tests.registry_helpers import RegistryClient, change, csr_pem, random_uscc, ts


@pytest.fixture
def client(registry_server: str) -> Iterator[RegistryClient]:
    channel = grpc.insecure_channel(registry_server)
    yield RegistryClient(channel)
    channel.close()


def _fails(call: object, code: grpc.StatusCode, reason: str) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        call()  # type: ignore[operator]
    assert err.value.code() == code, err.value.details()
    info = error_info(err.value)
    assert info is not None
    assert info.reason == reason
    return err.value


def _create(client: RegistryClient, platform_id: str, **kw: object) -> pb.Platform:
    fields: dict[str, object] = {
        "platform_id": platform_id,
        "display_name": "测试平台",
        "kind": pb.PLATFORM_KIND_CITY,
        "region_code": "610100",
        "docking": pb.DOCKING_DIRECT,
        "change": change(),
    }
    fields.update(kw)
    return client.admin.CreatePlatform(admin_pb.CreatePlatformRequest(**fields)).platform  # type: ignore[arg-type]


def test_full_lifecycle_issues_and_revokes_certificates(client: RegistryClient) -> None:
    platform, credential = client.admitted_platform("xian")
    assert platform.status == pb.PLATFORM_STATUS_ADMITTED
    assert platform.access == pb.ACCESS_ALLOWED
    cert = x509.load_pem_x509_certificate(credential.certificate_pem.encode())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == ["spiffe://creditnode/platforms/xian"]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    ca = x509.load_pem_x509_certificate(credential.ca_certificate_pem.encode())
    cert.verify_directly_issued_by(ca)

    suspended = client.admin.SuspendPlatform(
        admin_pb.SuspendPlatformRequest(name="platforms/xian", change=change("监管检查发现问题"))
    ).platform
    assert suspended.status == pb.PLATFORM_STATUS_SUSPENDED
    assert suspended.access == pb.ACCESS_DENIED
    crl_resp = client.registry.GetCertificateRevocationList(rs_pb.GetCertificateRevocationListRequest())
    crl = x509.load_der_x509_crl(crl_resp.crl_der)
    assert crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None

    csr, _ = csr_pem("xian")
    readmitted = client.admin.ReadmitPlatform(
        admin_pb.ReadmitPlatformRequest(name="platforms/xian", csr_pem=csr, change=change("整改完成"))
    )
    assert readmitted.platform.status == pb.PLATFORM_STATUS_ADMITTED
    assert readmitted.credential.serial not in ("", credential.serial)

    removed = client.admin.RemovePlatform(admin_pb.RemovePlatformRequest(name="platforms/xian", change=change()))
    assert removed.platform.status == pb.PLATFORM_STATUS_REMOVED
    assert removed.platform.certificate_serial == ""
    serials = client.registry.GetCertificateRevocationList(rs_pb.GetCertificateRevocationListRequest()).revoked_serials
    assert {credential.serial, readmitted.credential.serial} <= set(serials)

    history = client.admin.ListPlatformHistory(admin_pb.ListPlatformHistoryRequest(name="platforms/xian")).changes
    assert [h.to_status for h in history] == [
        "APPLIED",
        "UNDER_REVIEW",
        "ADMITTED",
        "SUSPENDED",
        "ADMITTED",
        "REMOVED",
    ]
    assert history[3].reason == "监管检查发现问题"
    assert all(h.actor == "operator-test" for h in history)
    revisions = [h.revision for h in history]
    assert revisions == sorted(revisions)

    # Every change is a STATUS_CHANGE leaf of the registry's log (reason and actor only as hashes), provable offline.
    log = evidence_grpc.EvidenceLogServiceStub(client.channel)
    leaves = log.ListLeaves(
        evidence_pb.ListLeavesRequest(
            kind=evidence_pb.LEAF_KIND_STATUS_CHANGE, payload_equals={"participant": "platforms/xian"}
        )
    ).leaves
    payloads = [json.loads(leaf.payload_json) for leaf in leaves]
    assert [(p["to_status"], p["revision"]) for p in payloads] == [(h.to_status, h.revision) for h in history]
    assert payloads[3]["reason_sha256"] == hashlib.sha256("监管检查发现问题".encode()).hexdigest()
    assert "监管" not in leaves[3].entry_json
    proof = log.GetInclusionProof(evidence_pb.GetInclusionProofRequest(leaf_index=leaves[3].index))
    keys = {k.key_id: k.public_key for k in log.ListPublicKeys(evidence_pb.ListPublicKeysRequest()).public_keys}
    verify_receipt(json.loads(proof.receipt_json), keys, origin="creditnode/registry")


def test_illegal_transition_is_failed_precondition_with_states(client: RegistryClient) -> None:
    _create(client, "weinan")
    err = _fails(
        lambda: client.admin.SuspendPlatform(admin_pb.SuspendPlatformRequest(name="platforms/weinan", change=change())),
        grpc.StatusCode.FAILED_PRECONDITION,
        "ERROR_REASON_ILLEGAL_TRANSITION",
    )
    info = error_info(err)
    assert info is not None
    assert info.metadata["from"] == "APPLIED"


def test_admission_needs_both_assessments(client: RegistryClient) -> None:
    _create(client, "baoji")
    client.admin.StartPlatformReview(admin_pb.StartPlatformReviewRequest(name="platforms/baoji", change=change()))
    csr, _ = csr_pem("baoji")
    err = _fails(
        lambda: client.admin.AdmitPlatform(
            admin_pb.AdmitPlatformRequest(name="platforms/baoji", csr_pem=csr, change=change())
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "ERROR_REASON_ASSESSMENT_MISSING",
    )
    assert error_info(err).metadata["missing"] == "SECURITY,AUTHORIZATION"  # type: ignore[union-attr]


def test_expired_assessment_puts_admitted_platform_due_for_review(client: RegistryClient) -> None:
    client.admitted_platform("hanzhong")
    now = datetime.now(UTC)
    client.admin.RecordAssessment(
        admin_pb.RecordAssessmentRequest(
            name="platforms/hanzhong",
            assessment=pb.Assessment(
                kind=pb.ASSESSMENT_KIND_SECURITY,
                assessor="测评中心",
                assessed_on=ts(now - timedelta(days=400)),
                result=pb.ASSESSMENT_RESULT_PASSED,
                findings="",
                expires_on=ts(now - timedelta(days=35)),
            ),
            change=change(),
        )
    )
    due = client.admin.ListPlatformsDueForReview(admin_pb.ListPlatformsDueForReviewRequest()).platforms
    assert [p.name for p in due] == ["platforms/hanzhong"]
    assert due[0].due_for_review


def test_an_assessment_dated_in_the_future_is_refused_and_admits_nothing(client: RegistryClient) -> None:
    _create(client, "yulin")
    name = "platforms/yulin"
    client.admin.StartPlatformReview(admin_pb.StartPlatformReviewRequest(name=name, change=change()))
    now = datetime.now(UTC)

    def record(kind: int, assessed_on: datetime) -> None:
        client.admin.RecordAssessment(
            admin_pb.RecordAssessmentRequest(
                name=name,
                assessment=pb.Assessment(
                    kind=kind,
                    assessor="测评中心",
                    assessed_on=ts(assessed_on),
                    result=pb.ASSESSMENT_RESULT_PASSED,
                    findings="",
                    expires_on=ts(now + timedelta(days=400)),
                ),
                change=change(),
            )
        )

    record(pb.ASSESSMENT_KIND_AUTHORIZATION, now - timedelta(days=1))
    err = _fails(
        lambda: record(pb.ASSESSMENT_KIND_SECURITY, now + timedelta(days=2)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_INVALID_FIELD",
    )
    assert error_info(err).metadata["field"] == "assessment.assessed_on"  # type: ignore[union-attr]
    # The last hours of 9999 in UTC are a Timestamp but no day in Xi'an: they failed as INTERNAL (OverflowError).
    err = _fails(
        lambda: record(pb.ASSESSMENT_KIND_SECURITY, datetime(9999, 12, 31, 23, tzinfo=UTC)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_INVALID_FIELD",
    )
    assert error_info(err).metadata["field"] == "assessment.assessed_on"  # type: ignore[union-attr]
    csr, _ = csr_pem("yulin")
    err = _fails(
        lambda: client.admin.AdmitPlatform(admin_pb.AdmitPlatformRequest(name=name, csr_pem=csr, change=change())),
        grpc.StatusCode.FAILED_PRECONDITION,
        "ERROR_REASON_ASSESSMENT_MISSING",
    )
    assert error_info(err).metadata["missing"] == "SECURITY"  # type: ignore[union-attr]


def test_suspending_the_aggregator_cuts_off_proxied_platforms_and_institutions(client: RegistryClient) -> None:
    client.admitted_platform("qinxinrong", kind=pb.PLATFORM_KIND_AGGREGATOR)
    child, credential = client.admitted_platform("zhouzhi", proxy="platforms/qinxinrong", kind=pb.PLATFORM_KIND_COUNTY)
    assert credential.certificate_pem == ""  # proxied platforms call over the aggregator's connection
    client.admin.CreateInstitution(
        admin_pb.CreateInstitutionRequest(
            institution_id="zhouzhi-rcb",
            display_name="周至农商银行",
            licence_number="B1234H261010001",
            type=pb.INSTITUTION_TYPE_BANK,
            platform="platforms/zhouzhi",
            change=change(),
        )
    )
    client.admin.SuspendPlatform(admin_pb.SuspendPlatformRequest(name="platforms/qinxinrong", change=change()))
    child = client.registry.GetPlatform(rs_pb.GetPlatformRequest(name="platforms/zhouzhi")).platform
    assert child.status == pb.PLATFORM_STATUS_ADMITTED  # its own status is not rewritten...
    assert child.access == pb.ACCESS_DENIED  # ...but it loses access at once
    inst = client.registry.GetInstitution(rs_pb.GetInstitutionRequest(name="institutions/zhouzhi-rcb")).institution
    assert inst.status == pb.INSTITUTION_STATUS_ACTIVE
    assert inst.access == pb.ACCESS_DENIED


def test_institution_under_a_platform_that_is_not_admitted_is_refused(client: RegistryClient) -> None:
    _create(client, "ankang")
    _fails(
        lambda: client.admin.CreateInstitution(
            admin_pb.CreateInstitutionRequest(
                institution_id="ankang-bank",
                display_name="安康银行",
                licence_number="X1",
                type=pb.INSTITUTION_TYPE_BANK,
                platform="platforms/ankang",
                change=change(),
            )
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "ERROR_REASON_PARENT_NOT_ADMITTED",
    )


@pytest.mark.parametrize(
    ("fields", "code", "reason"),
    [
        ({"platform_id": "Bad_Id"}, grpc.StatusCode.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD"),
        ({"display_name": "平" * 201}, grpc.StatusCode.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD"),
        ({"display_name": ""}, grpc.StatusCode.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD"),
        ({"kind": pb.PLATFORM_KIND_UNSPECIFIED}, grpc.StatusCode.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD"),
        ({"kind": 99}, grpc.StatusCode.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD"),
        ({"region_code": "61a100"}, grpc.StatusCode.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD"),
        ({"change": admin_pb.Change()}, grpc.StatusCode.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD"),
        # PostgreSQL cannot store a NUL: it failed INTERNAL there (and SQLite kept it)
        ({"change": change(request_id="req\x00-1")}, grpc.StatusCode.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD"),
        (
            {"docking": pb.DOCKING_PROXIED, "proxy": "platforms/nobody"},
            grpc.StatusCode.NOT_FOUND,
            "ERROR_REASON_PLATFORM_NOT_FOUND",
        ),
    ],
)
def test_bad_platform_applications_are_refused_and_store_nothing(
    client: RegistryClient, fields: dict[str, object], code: grpc.StatusCode, reason: str
) -> None:
    fields = {"platform_id": "tongchuan", **fields}
    _fails(lambda: _create(client, **fields), code, reason)  # type: ignore[arg-type]
    assert client.registry.ListPlatforms(rs_pb.ListPlatformsRequest()).platforms == []


def test_duplicate_registration_is_already_exists(client: RegistryClient) -> None:
    _create(client, "yulin")
    _fails(lambda: _create(client, "yulin"), grpc.StatusCode.ALREADY_EXISTS, "ERROR_REASON_ALREADY_REGISTERED")


def test_request_id_replay_returns_first_result_and_reuse_is_refused(client: RegistryClient) -> None:
    first = _create(client, "yanan", change=change(request_id="req-1"))
    again = _create(client, "yanan", change=change(request_id="req-1"))
    assert again == first
    _fails(
        lambda: _create(client, "shangluo", change=change(request_id="req-1")),
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_REQUEST_ID_REUSED",
    )


def test_unknown_platform_is_not_found(client: RegistryClient) -> None:
    _fails(
        lambda: client.registry.GetPlatform(rs_pb.GetPlatformRequest(name="platforms/nowhere")),
        grpc.StatusCode.NOT_FOUND,
        "ERROR_REASON_PLATFORM_NOT_FOUND",
    )


def test_concurrent_transitions_exactly_one_wins_the_other_is_aborted(client: RegistryClient) -> None:
    platform, _ = client.admitted_platform("xianyang")
    etag = platform.etag
    results: list[object] = []
    barrier = threading.Barrier(2)

    def act(request: object) -> None:
        barrier.wait()
        try:
            if isinstance(request, admin_pb.SuspendPlatformRequest):
                results.append(client.admin.SuspendPlatform(request))
            else:
                results.append(client.admin.RemovePlatform(request))  # type: ignore[arg-type]
        except grpc.RpcError as exc:
            results.append(exc)

    threads = [
        threading.Thread(
            target=act, args=(admin_pb.SuspendPlatformRequest(name="platforms/xianyang", change=change(etag=etag)),)
        ),
        threading.Thread(
            target=act, args=(admin_pb.RemovePlatformRequest(name="platforms/xianyang", change=change(etag=etag)),)
        ),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failures = [r for r in results if isinstance(r, grpc.RpcError)]
    assert len(results) == 2
    assert len(failures) == 1
    assert failures[0].code() == grpc.StatusCode.ABORTED
    assert error_info(failures[0]).reason == "ERROR_REASON_CONCURRENT_MODIFICATION"  # type: ignore[union-attr]
    history = client.admin.ListPlatformHistory(admin_pb.ListPlatformHistoryRequest(name="platforms/xianyang")).changes
    assert len(history) == 4  # APPLIED, UNDER_REVIEW, ADMITTED, then exactly one winner


def test_enterprise_registration_and_bad_input(client: RegistryClient) -> None:
    platform, _ = client.admitted_platform()
    uscc = make_uscc("9", "1", "610000", "22052111")
    enterprise, key = client.enterprise(platform.name, uscc=uscc)
    assert enterprise.name == f"enterprises/{uscc}"
    assert enterprise.keys[0].state == pb.KEY_STATE_ACTIVE
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def register(uscc: str, public_key: bytes = raw, on: str = platform.name) -> object:
        return client.registry.RegisterEnterprise(
            rs_pb.RegisterEnterpriseRequest(platform=on, uscc=uscc, display_name="某公司", public_key=public_key)
        )

    _fails(lambda: register(uscc), grpc.StatusCode.ALREADY_EXISTS, "ERROR_REASON_ALREADY_REGISTERED")
    wrong_check = uscc[:17] + ("0" if uscc[17] != "0" else "1")
    for bad in (uscc[:16], uscc[:17] + "I", wrong_check, "Z" + uscc[1:]):
        err = _fails(lambda b=bad: register(b), grpc.StatusCode.INVALID_ARGUMENT, "ERROR_REASON_INVALID_USCC")
        assert bad not in (err.details() or "")
    _fails(lambda: register(random_uscc(), b"short"), grpc.StatusCode.INVALID_ARGUMENT, "ERROR_REASON_INVALID_KEY")
    # Permission before existence: an unknown or non-admitted platform learns nothing about the enterprise.
    _fails(
        lambda: register(uscc, on="platforms/ghost"),
        grpc.StatusCode.PERMISSION_DENIED,
        "ERROR_REASON_PERMISSION_DENIED",
    )
    client.admin.SuspendPlatform(admin_pb.SuspendPlatformRequest(name=platform.name, change=change()))
    _fails(lambda: register(random_uscc()), grpc.StatusCode.PERMISSION_DENIED, "ERROR_REASON_PERMISSION_DENIED")


def test_key_rotation_needs_a_fresh_signature_by_an_active_key(client: RegistryClient) -> None:
    platform, _ = client.admitted_platform()
    enterprise, key = client.enterprise(platform.name)
    old_id = enterprise.keys[0].key_id
    new_key = Ed25519PrivateKey.generate()
    new_raw = new_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    now = datetime.now(UTC).replace(microsecond=0)

    def rotate(signer: Ed25519PrivateKey, signed_at: datetime, key_id: str = old_id) -> object:
        sig = signer.sign(rotation_message(enterprise.uscc, key_id, new_raw, signed_at))
        return client.registry.RotateEnterpriseKey(
            rs_pb.RotateEnterpriseKeyRequest(
                name=enterprise.name,
                new_public_key=new_raw,
                signing_key_id=key_id,
                signed_at=ts(signed_at),
                signature=sig,
            )
        )

    _fails(
        lambda: rotate(Ed25519PrivateKey.generate(), now),
        grpc.StatusCode.PERMISSION_DENIED,
        "ERROR_REASON_PERMISSION_DENIED",
    )
    _fails(
        lambda: rotate(key, now - timedelta(minutes=10)),
        grpc.StatusCode.PERMISSION_DENIED,
        "ERROR_REASON_PERMISSION_DENIED",
    )
    rotated = rotate(key, now).enterprise  # type: ignore[attr-defined]
    states = {k.key_id: k.state for k in rotated.keys}
    assert states[old_id] == pb.KEY_STATE_RETIRED  # kept, to verify old signatures
    assert list(states.values()).count(pb.KEY_STATE_ACTIVE) == 1
    _fails(lambda: rotate(key, now), grpc.StatusCode.FAILED_PRECONDITION, "ERROR_REASON_KEY_NOT_ACTIVE")


def test_lists_paginate_and_refuse_foreign_tokens(client: RegistryClient) -> None:
    for i in range(5):
        _create(client, f"p{i}")
    page1 = client.registry.ListPlatforms(rs_pb.ListPlatformsRequest(page_size=2))
    page2 = client.registry.ListPlatforms(rs_pb.ListPlatformsRequest(page_size=2, page_token=page1.next_page_token))
    page3 = client.registry.ListPlatforms(rs_pb.ListPlatformsRequest(page_size=2, page_token=page2.next_page_token))
    names = [p.name for p in [*page1.platforms, *page2.platforms, *page3.platforms]]
    assert names == [f"platforms/p{i}" for i in range(5)]
    assert page3.next_page_token == ""
    _fails(
        lambda: client.registry.ListPlatforms(
            rs_pb.ListPlatformsRequest(page_size=2, page_token=page1.next_page_token, region_code="610200")
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_INVALID_PAGE_TOKEN",
    )
    _fails(
        lambda: client.registry.ListPlatforms(rs_pb.ListPlatformsRequest(page_token="garbage!")),
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_INVALID_PAGE_TOKEN",
    )


def test_coverage_counts_what_stood_at_the_time(client: RegistryClient) -> None:
    before = datetime.now(UTC)
    platform, _ = client.admitted_platform("xian")
    client.admin.CreateInstitution(
        admin_pb.CreateInstitutionRequest(
            institution_id="xa-bank",
            display_name="西安银行",
            licence_number="B0001",
            type=pb.INSTITUTION_TYPE_BANK,
            platform=platform.name,
            change=change(),
        )
    )
    client.enterprise(platform.name)
    now = client.registry.GetCoverage(rs_pb.GetCoverageRequest())
    assert now.platforms_admitted == 1
    assert [(r.region_code, r.platforms_admitted) for r in now.regions] == [("610100", 1)]
    assert now.institutions_connected == 1
    assert now.enterprises_registered == 1
    earlier = client.registry.GetCoverage(rs_pb.GetCoverageRequest(as_of=ts(before)))
    assert (earlier.platforms_admitted, earlier.institutions_connected, earlier.enterprises_registered) == (0, 0, 0)


def test_coverage_counts_lenders_not_arbitration_bodies_or_courts(client: RegistryClient) -> None:
    platform, _ = client.admitted_platform("xian")
    for institution_id, kind in (
        ("xa-bank", pb.INSTITUTION_TYPE_BANK),
        ("xa-arbitration", pb.INSTITUTION_TYPE_ARBITRATION),
        ("xa-court", pb.INSTITUTION_TYPE_COURT),
    ):
        client.admin.CreateInstitution(
            admin_pb.CreateInstitutionRequest(
                institution_id=institution_id,
                display_name="机构",
                licence_number=f"L-{institution_id}",
                type=kind,
                platform=platform.name,
                change=change(),
            )
        )
    assert client.registry.GetCoverage(rs_pb.GetCoverageRequest()).institutions_connected == 1


def test_breaches_are_recorded_once_per_case_and_listed_for_supervision(client: RegistryClient) -> None:
    platform, _ = client.admitted_platform("xian")

    def record(reference: str, platform_name: str = platform.name) -> object:
        return client.admin.RecordPlatformBreach(
            admin_pb.RecordPlatformBreachRequest(
                breach=admin_pb.PlatformBreach(
                    platform=platform_name,
                    kind=admin_pb.BREACH_KIND_OBJECTION_FORWARDED_LATE,
                    reference=reference,
                    detail="forwarded late",
                    occur_time=ts(datetime.now(UTC)),
                )
            )
        )

    for i in range(3):
        record(f"objections/o{i}")
    record("objections/o1")  # redelivered by an at-least-once dispatcher: still one breach
    first = client.admin.ListPlatformBreaches(admin_pb.ListPlatformBreachesRequest(platform=platform.name, page_size=2))
    rest = client.admin.ListPlatformBreaches(
        admin_pb.ListPlatformBreachesRequest(platform=platform.name, page_size=2, page_token=first.next_page_token)
    )
    assert [b.reference for b in [*first.breaches, *rest.breaches]] == [
        "objections/o2",
        "objections/o1",
        "objections/o0",
    ]
    _fails(
        lambda: record("objections/x", "platforms/ghost"), grpc.StatusCode.NOT_FOUND, "ERROR_REASON_PLATFORM_NOT_FOUND"
    )
    # A token forged around a position that is not a number is a bad token, not an internal error.
    platform_id = platform.name.split("/")[1]
    breaches = admin_pb.ListPlatformBreachesRequest(
        platform=platform.name, page_token=encode_token("1; DROP", ["breaches", platform_id])
    )
    history = admin_pb.ListPlatformHistoryRequest(
        name=platform.name, page_token=encode_token("-1", ["history", platform_id])
    )
    for call in (
        lambda: client.admin.ListPlatformBreaches(breaches),
        lambda: client.admin.ListPlatformHistory(history),
    ):
        _fails(call, grpc.StatusCode.INVALID_ARGUMENT, "ERROR_REASON_INVALID_PAGE_TOKEN")
