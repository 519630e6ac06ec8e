"""Helpers for tests that drive the registry: CSRs, enterprise keys, and a fully admitted platform."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID
from google.protobuf.timestamp_pb2 import Timestamp

from creditnode.registry.v1 import participants_pb2 as pb
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import registry_admin_service_pb2_grpc as admin_grpc
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from creditnode.registry.v1 import registry_service_pb2_grpc as rs_grpc
from services.registry.domain.uscc import ALPHABET, make_uscc

_counter = itertools.count(1)


def csr_pem(platform_id: str = "") -> tuple[str, ec.EllipticCurvePrivateKey]:
    """A CSR for a new key, its common name the platform's id (the registry refuses a CSR naming another platform);
    without an id, an empty subject."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = [x509.NameAttribute(NameOID.COMMON_NAME, platform_id)] if platform_id else []
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(subject)).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode(), key


def ts(dt: datetime) -> Timestamp:
    t = Timestamp()
    t.FromDatetime(dt)
    return t


def change(reason: str = "test", **kw: object) -> admin_pb.Change:
    return admin_pb.Change(actor="operator-test", reason=reason, **kw)  # type: ignore[arg-type]


def random_uscc(rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    body = "".join(rng.choice("0123456789") for _ in range(2)) + "".join(rng.choice(ALPHABET[:10]) for _ in range(6))
    return make_uscc("9", "1", "610100", body)


@dataclass
class RegistryClient:
    channel: grpc.Channel

    @property
    def admin(self) -> admin_grpc.RegistryAdminServiceStub:
        return admin_grpc.RegistryAdminServiceStub(self.channel)

    @property
    def registry(self) -> rs_grpc.RegistryServiceStub:
        return rs_grpc.RegistryServiceStub(self.channel)

    def passed_assessments(self, name: str, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        for kind in (pb.ASSESSMENT_KIND_SECURITY, pb.ASSESSMENT_KIND_AUTHORIZATION):
            self.admin.RecordAssessment(
                admin_pb.RecordAssessmentRequest(
                    name=name,
                    assessment=pb.Assessment(
                        kind=kind,
                        assessor="省信息安全测评中心",
                        assessed_on=ts(now - timedelta(days=1)),
                        result=pb.ASSESSMENT_RESULT_PASSED,
                        findings="no blocking findings",
                        expires_on=ts(now + timedelta(days=365)),
                    ),
                    change=change(),
                )
            )

    def admitted_platform(
        self, platform_id: str | None = None, *, proxy: str = "", kind: int = pb.PLATFORM_KIND_CITY
    ) -> tuple[pb.Platform, admin_pb.Credential]:
        platform_id = platform_id or f"city-{next(_counter)}"
        docking = pb.DOCKING_PROXIED if proxy else pb.DOCKING_DIRECT
        self.admin.CreatePlatform(
            admin_pb.CreatePlatformRequest(
                platform_id=platform_id,
                display_name=f"{platform_id} 融资信用服务平台",
                kind=kind,
                region_code="610100",
                docking=docking,
                proxy=proxy,
                change=change(),
            )
        )
        name = f"platforms/{platform_id}"
        self.admin.StartPlatformReview(admin_pb.StartPlatformReviewRequest(name=name, change=change()))
        self.passed_assessments(name)
        csr, _ = csr_pem(platform_id)
        resp = self.admin.AdmitPlatform(admin_pb.AdmitPlatformRequest(name=name, csr_pem=csr, change=change()))
        return resp.platform, resp.credential

    def enterprise(self, platform: str, uscc: str | None = None) -> tuple[pb.Enterprise, Ed25519PrivateKey]:
        key = Ed25519PrivateKey.generate()
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        resp = self.registry.RegisterEnterprise(
            rs_pb.RegisterEnterpriseRequest(
                platform=platform, uscc=uscc or random_uscc(), display_name="陕西测试科技有限公司", public_key=raw
            )
        )
        return resp.enterprise, key
