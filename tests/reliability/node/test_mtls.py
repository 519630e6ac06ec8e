"""mTLS: expired, not yet valid, wrong CA, revoked, never issued, wrong SAN, a CA certificate as client, and no
certificate are each refused, while the valid certificate is served."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from tests.gateway_support import Pki, admitted, other_ca, report_code
from tests.registry_helpers import change, csr_pem
from tests.reliability.figures import record, zero
from tests.reliability.node.conftest import SharedNode

REFUSED = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAUTHENTICATED)


def _dated(pki: Pki, uri: str, start: timedelta, end: timedelta) -> tuple[bytes, bytes]:
    """A leaf of the node CA for ``uri`` valid from now+start to now+end."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dated")]))
        .issuer_name(pki.ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + start)
        .not_valid_after(now + end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(uri)]), critical=False)
        .sign(pki.ca_key, hashes.SHA256())
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), pem


def test_every_bad_client_certificate_is_refused(shared: SharedNode) -> None:
    c = shared.c
    assert c.pki is not None
    assert c.registry is not None
    xian = "spiffe://creditnode/platforms/xian"
    enterprise = c.enterprises[0].name

    def attempt(cert: bytes | None, key: bytes | None) -> grpc.StatusCode:
        return report_code(c.connect(cert, key), enterprise)

    _, weinan_cert, weinan_key = admitted(c.registry, "weinan")
    deadline = time.monotonic() + 30
    while attempt(weinan_cert, weinan_key) != grpc.StatusCode.OK:  # the admission reaches the gateway's watch
        assert time.monotonic() < deadline, "a newly admitted platform was never served"
        time.sleep(0.2)
    csr, _ = csr_pem("weinan")
    c.registry.admin.IssuePlatformCertificate(
        admin_pb.IssuePlatformCertificateRequest(name="platforms/weinan", csr_pem=csr, change=change())
    )
    # No wait: the re-issue returned only once every gateway replica refuses the old certificate.
    wrong_ca, wrong_key = other_ca()
    cases = {
        "expired": _dated(c.pki, xian, timedelta(days=-10), timedelta(days=-1)),
        "not_yet_valid": _dated(c.pki, xian, timedelta(days=1), timedelta(days=10)),
        "wrong_ca": c.pki.issue(uri=xian, issuer=wrong_ca, issuer_key=wrong_key),
        "revoked": (weinan_cert, weinan_key),
        "wrong_san": c.pki.issue(uri="spiffe://elsewhere/platforms/xian"),
        "unissued": c.pki.issue(uri=xian),  # the node CA signed it, the registry never issued it
        "no_san": c.pki.issue(),
        "ca_as_client": (c.pki.ca_pem, c.pki.ca_key_pem()),
        "no_certificate": (None, None),
    }
    accepted = {}
    for name, (cert, key) in cases.items():
        for _ in range(3):
            got = attempt(cert, key)
            if got not in REFUSED:
                accepted[name] = got.name
            assert attempt(*c.certs["xian"]) == grpc.StatusCode.OK  # the refusal was the certificate, not an outage
    record(zero("mtls_bad_certificates_accepted", len(accepted)))
    assert not accepted, accepted
