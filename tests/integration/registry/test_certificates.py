"""The node CA through the registry's API: which CSRs admission and rotation accept, and what a refusal leaves."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from creditnode.registry.v1 import participants_pb2 as pb
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from services.kit.status import error_info
from tests.registry_helpers import RegistryClient, change


def _weak_rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 1024)  # noqa: S505 (a breakable key is what the CA must refuse)


@pytest.fixture
def client(registry_server: str) -> Iterator[RegistryClient]:
    channel = grpc.insecure_channel(registry_server)
    yield RegistryClient(channel)
    channel.close()


def _csr(key: object, name: str) -> str:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .sign(key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def _sm2_csr(name: str) -> str:
    """A CSR whose key names the SM2 curve (1.2.156.10197.1.301), which the CA cannot read."""
    der = x509.load_pem_x509_csr(_csr(ec.generate_private_key(ec.SECP256R1()), name).encode()).public_bytes(
        serialization.Encoding.DER
    )
    der = der.replace(bytes.fromhex("06082a8648ce3d030107"), bytes.fromhex("06082a811ccf5501822d"))
    body = base64.encodebytes(der).decode()
    return f"-----BEGIN CERTIFICATE REQUEST-----\n{body}-----END CERTIFICATE REQUEST-----\n"


def _invalid_csr(call: object) -> None:
    with pytest.raises(grpc.RpcError) as err:
        call()  # type: ignore[operator]
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    info = error_info(err.value)
    assert info is not None
    assert info.reason == "ERROR_REASON_INVALID_FIELD"
    assert info.metadata["field"] == "csr_pem"


def test_admission_with_a_weak_key_is_refused_and_leaves_the_platform_under_review(client: RegistryClient) -> None:
    client.admin.CreatePlatform(
        admin_pb.CreatePlatformRequest(
            platform_id="hanzhong",
            display_name="汉中融资信用服务平台",
            kind=pb.PLATFORM_KIND_CITY,
            region_code="610700",
            docking=pb.DOCKING_DIRECT,
            change=change(),
        )
    )
    client.admin.StartPlatformReview(admin_pb.StartPlatformReviewRequest(name="platforms/hanzhong", change=change()))
    client.passed_assessments("platforms/hanzhong")
    weak = _csr(_weak_rsa(), "hanzhong")
    _invalid_csr(
        lambda: client.admin.AdmitPlatform(
            admin_pb.AdmitPlatformRequest(name="platforms/hanzhong", csr_pem=weak, change=change())
        )
    )
    _invalid_csr(
        lambda: client.admin.AdmitPlatform(
            admin_pb.AdmitPlatformRequest(name="platforms/hanzhong", csr_pem=_sm2_csr("hanzhong"), change=change())
        )
    )
    platform = client.registry.GetPlatform(rs_pb.GetPlatformRequest(name="platforms/hanzhong")).platform
    assert platform.status == pb.PLATFORM_STATUS_UNDER_REVIEW
    assert platform.certificate_serial == ""


def test_a_rotation_with_an_unreadable_key_is_refused_and_keeps_the_current_certificate(
    client: RegistryClient,
) -> None:
    platform, credential = client.admitted_platform("ankang")
    _invalid_csr(
        lambda: client.admin.IssuePlatformCertificate(
            admin_pb.IssuePlatformCertificateRequest(name=platform.name, csr_pem=_sm2_csr("ankang"), change=change())
        )
    )
    after = client.registry.GetPlatform(rs_pb.GetPlatformRequest(name=platform.name)).platform
    assert after.certificate_serial == credential.serial
    crl = client.registry.GetCertificateRevocationList(rs_pb.GetCertificateRevocationListRequest())
    assert credential.serial not in crl.revoked_serials


def test_a_csr_naming_another_platform_is_refused_on_admission_and_rotation(client: RegistryClient) -> None:
    platform, credential = client.admitted_platform("yanan")
    client.admin.CreatePlatform(
        admin_pb.CreatePlatformRequest(
            platform_id="yulin",
            display_name="榆林融资信用服务平台",
            kind=pb.PLATFORM_KIND_CITY,
            region_code="610800",
            docking=pb.DOCKING_DIRECT,
            change=change(),
        )
    )
    client.admin.StartPlatformReview(admin_pb.StartPlatformReviewRequest(name="platforms/yulin", change=change()))
    client.passed_assessments("platforms/yulin")
    for_yanan = _csr(ec.generate_private_key(ec.SECP256R1()), "yanan")  # the operator picked up the wrong file
    _invalid_csr(
        lambda: client.admin.AdmitPlatform(
            admin_pb.AdmitPlatformRequest(name="platforms/yulin", csr_pem=for_yanan, change=change())
        )
    )
    assert client.registry.GetPlatform(rs_pb.GetPlatformRequest(name="platforms/yulin")).platform.status == (
        pb.PLATFORM_STATUS_UNDER_REVIEW
    )
    for_yulin = _csr(ec.generate_private_key(ec.SECP256R1()), "platforms/yulin")
    _invalid_csr(
        lambda: client.admin.IssuePlatformCertificate(
            admin_pb.IssuePlatformCertificateRequest(name=platform.name, csr_pem=for_yulin, change=change())
        )
    )
    after = client.registry.GetPlatform(rs_pb.GetPlatformRequest(name=platform.name)).platform
    assert after.certificate_serial == credential.serial
    # Its own CSR, and one with an empty subject, go through.
    admitted = client.admin.AdmitPlatform(
        admin_pb.AdmitPlatformRequest(name="platforms/yulin", csr_pem=for_yulin, change=change())
    )
    assert admitted.credential.serial
    empty = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
        .decode()
    )
    rotated = client.admin.IssuePlatformCertificate(
        admin_pb.IssuePlatformCertificateRequest(name=platform.name, csr_pem=empty, change=change())
    )
    assert rotated.credential.serial not in ("", credential.serial)


def _key_refused(call: object) -> None:
    with pytest.raises(grpc.RpcError) as err:
        call()  # type: ignore[operator]
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION, err.value.details()
    info = error_info(err.value)
    assert info is not None
    assert info.reason == "ERROR_REASON_KEY_ALREADY_CERTIFIED"
    assert info.metadata["field"] == "csr_pem"


def _under_review(client: RegistryClient, platform_id: str) -> str:
    client.admin.CreatePlatform(
        admin_pb.CreatePlatformRequest(
            platform_id=platform_id,
            display_name=f"{platform_id} 融资信用服务平台",
            kind=pb.PLATFORM_KIND_CITY,
            region_code="610100",
            docking=pb.DOCKING_DIRECT,
            change=change(),
        )
    )
    name = f"platforms/{platform_id}"
    client.admin.StartPlatformReview(admin_pb.StartPlatformReviewRequest(name=name, change=change()))
    client.passed_assessments(name)
    return name


def _rotate(client: RegistryClient, name: str, csr: str) -> admin_pb.Credential:
    request = admin_pb.IssuePlatformCertificateRequest(name=name, csr_pem=csr, change=change())
    return client.admin.IssuePlatformCertificate(request).credential


def test_a_key_certified_for_one_platform_is_refused_for_another_while_live_and_after_revocation(
    client: RegistryClient,
) -> None:
    shared = ec.generate_private_key(ec.SECP256R1())
    xian = _under_review(client, "xian")
    first = client.admin.AdmitPlatform(
        admin_pb.AdmitPlatformRequest(name=xian, csr_pem=_csr(shared, "xian"), change=change())
    ).credential
    baoji = _under_review(client, "baoji")
    _key_refused(
        lambda: client.admin.AdmitPlatform(
            admin_pb.AdmitPlatformRequest(name=baoji, csr_pem=_csr(shared, "baoji"), change=change())
        )
    )
    after = client.registry.GetPlatform(rs_pb.GetPlatformRequest(name=baoji)).platform
    assert (after.status, after.certificate_serial) == (pb.PLATFORM_STATUS_UNDER_REVIEW, "")
    own = client.admin.AdmitPlatform(
        admin_pb.AdmitPlatformRequest(name=baoji, csr_pem=_csr(ec.generate_private_key(ec.SECP256R1()), "baoji"),
                                      change=change())
    ).credential  # fmt: skip
    _key_refused(lambda: _rotate(client, baoji, _csr(shared, "baoji")))
    after = client.registry.GetPlatform(rs_pb.GetPlatformRequest(name=baoji)).platform
    assert after.certificate_serial == own.serial  # the refused rotation revoked nothing
    crl = client.registry.GetCertificateRevocationList(rs_pb.GetCertificateRevocationListRequest())
    assert own.serial not in crl.revoked_serials
    # Revoked (xian suspended): the key is compromised or retired, never someone else's.
    client.admin.SuspendPlatform(admin_pb.SuspendPlatformRequest(name=xian, change=change()))
    crl = client.registry.GetCertificateRevocationList(rs_pb.GetCertificateRevocationListRequest())
    assert first.serial in crl.revoked_serials
    _key_refused(lambda: _rotate(client, baoji, _csr(shared, "baoji")))


def test_renewal_keeps_the_key_and_a_key_once_revoked_or_rotated_away_never_comes_back(
    client: RegistryClient,
) -> None:
    first_key, second_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    name = _under_review(client, "weinan")
    first = client.admin.AdmitPlatform(
        admin_pb.AdmitPlatformRequest(name=name, csr_pem=_csr(first_key, "weinan"), change=change())
    ).credential
    renewed = _rotate(client, name, _csr(first_key, "weinan"))  # renewal: same key, new certificate
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    renewed_cert = x509.load_pem_x509_certificate(renewed.certificate_pem.encode())
    assert renewed_cert.public_key().public_bytes(*spki) == first_key.public_key().public_bytes(*spki)
    crl = client.registry.GetCertificateRevocationList(rs_pb.GetCertificateRevocationListRequest())
    assert first.serial in crl.revoked_serials  # the renewed certificate is superseded
    assert renewed.serial not in crl.revoked_serials
    renewed_again = _rotate(client, name, _csr(first_key, "weinan"))
    assert renewed_again.serial not in (first.serial, renewed.serial)
    # Rotating to another key retires the first one, for this platform too.
    _rotate(client, name, _csr(second_key, "weinan"))
    _key_refused(lambda: _rotate(client, name, _csr(first_key, "weinan")))
    # A suspension revokes the certificate and retires its key: readmission needs a new one.
    client.admin.SuspendPlatform(admin_pb.SuspendPlatformRequest(name=name, change=change()))
    _key_refused(
        lambda: client.admin.ReadmitPlatform(
            admin_pb.ReadmitPlatformRequest(name=name, csr_pem=_csr(second_key, "weinan"), change=change())
        )
    )
    assert client.registry.GetPlatform(rs_pb.GetPlatformRequest(name=name)).platform.status == (
        pb.PLATFORM_STATUS_SUSPENDED
    )
    readmitted = client.admin.ReadmitPlatform(
        admin_pb.ReadmitPlatformRequest(
            name=name, csr_pem=_csr(ec.generate_private_key(ec.SECP256R1()), "weinan"), change=change()
        )
    )
    assert readmitted.platform.status == pb.PLATFORM_STATUS_ADMITTED
