"""The node CA: which CSRs it signs, and what it puts in a platform's client certificate."""

from __future__ import annotations

import base64
import hashlib
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store

from services.kit.errors import FailedPrecondition, InvalidArgument
from services.registry.ca import CA_VALIDITY, LEAF_VALIDITY, FileCertificateAuthority

NOW = datetime.now(UTC)


def _weak_rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 1024)  # noqa: S505 (a breakable key is what the CA must refuse)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> FileCertificateAuthority:
    return FileCertificateAuthority(Path(tmp_path_factory.mktemp("ca")), autocreate=True, now=NOW)


def _csr_der(key: Any, algorithm: Any = None) -> bytes:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xian")]))
        .sign(key, algorithm)
    )
    return csr.public_bytes(serialization.Encoding.DER)


def _pem(der: bytes) -> str:
    body = base64.encodebytes(der).decode()
    return f"-----BEGIN CERTIFICATE REQUEST-----\n{body}-----END CERTIFICATE REQUEST-----\n"


def _refused(ca: FileCertificateAuthority, pem: str) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as err:
        ca.issue("xian", pem, NOW)
    assert err.value.metadata["field"] == "csr_pem"
    return err.value


@pytest.mark.parametrize(
    "make_key",
    [
        pytest.param(lambda: (_weak_rsa(), hashes.SHA256()), id="rsa-1024"),
        pytest.param(lambda: (dsa.generate_private_key(2048), hashes.SHA256()), id="dsa-2048"),
        pytest.param(lambda: (ec.generate_private_key(ec.SECP256K1()), hashes.SHA256()), id="secp256k1"),
        pytest.param(lambda: (ed25519.Ed25519PrivateKey.generate(), None), id="ed25519"),
    ],
)
def test_a_csr_for_a_weak_or_unsupported_key_is_refused(ca: FileCertificateAuthority, make_key: Any) -> None:
    key, algorithm = make_key()
    err = _refused(ca, _pem(_csr_der(key, algorithm)))
    assert err.reason == "ERROR_REASON_INVALID_FIELD"


def test_a_csr_on_a_curve_the_ca_cannot_read_is_invalid_not_an_internal_error(ca: FileCertificateAuthority) -> None:
    # An SM2 key (GM/T 0006 curve 1.2.156.10197.1.301), as a platform on a Chinese PKI may well send.
    der = _csr_der(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    p256, sm2 = bytes.fromhex("06082a8648ce3d030107"), bytes.fromhex("06082a811ccf5501822d")
    assert der.count(p256) == 1
    _refused(ca, _pem(der.replace(p256, sm2)))


def test_a_csr_whose_signature_does_not_verify_is_refused(ca: FileCertificateAuthority) -> None:
    der = bytearray(_csr_der(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256()))
    der[-3] ^= 0x01  # inside the signature
    _refused(ca, _pem(bytes(der)))


@pytest.mark.parametrize(
    "make_key",
    [
        pytest.param(lambda: ec.generate_private_key(ec.SECP256R1()), id="p-256"),
        pytest.param(lambda: ec.generate_private_key(ec.SECP384R1()), id="p-384"),
        pytest.param(lambda: rsa.generate_private_key(65537, 2048), id="rsa-2048"),
    ],
)
def test_a_leaf_for_an_accepted_key_names_only_the_platform_and_is_no_ca(
    ca: FileCertificateAuthority, make_key: Any
) -> None:
    key = make_key()
    issued = ca.issue("xian", _pem(_csr_der(key, hashes.SHA256())), NOW)
    cert = x509.load_pem_x509_certificate(issued.pem.encode())
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert cert.public_key().public_bytes(*spki) == key.public_key().public_bytes(*spki)
    assert cert.subject.rfc4514_string() == "CN=platforms/xian"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert list(san) == [x509.UniformResourceIdentifier("spiffe://creditnode/platforms/xian")]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert not usage.key_cert_sign
    assert not usage.crl_sign
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ]
    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= LEAF_VALIDITY + timedelta(minutes=5)
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.ca_certificate_pem().encode()))


def _named_csr(key: Any, subject: list[x509.NameAttribute], sans: list[x509.GeneralName] | None = None) -> str:
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(subject))
    if sans is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def _cn(value: str) -> x509.NameAttribute:
    return x509.NameAttribute(NameOID.COMMON_NAME, value)


@pytest.mark.parametrize(
    ("subject", "sans", "part"),
    [
        pytest.param([_cn("baoji")], None, "subject", id="cn-other-id"),
        pytest.param([_cn("platforms/baoji")], None, "subject", id="cn-other-name"),
        pytest.param([_cn("spiffe://creditnode/platforms/baoji")], None, "subject", id="cn-other-spiffe"),
        pytest.param([_cn("platform")], None, "subject", id="cn-placeholder"),
        pytest.param([_cn("xian"), _cn("baoji")], None, "subject", id="cn-one-of-two"),
        pytest.param(
            [],
            [x509.UniformResourceIdentifier("spiffe://creditnode/platforms/baoji")],
            "alternative",
            id="san-other-spiffe",
        ),
        pytest.param(
            [_cn("xian")],
            [x509.UniformResourceIdentifier("spiffe://elsewhere/platforms/xian")],
            "alternative",
            id="san-other-trust-domain",
        ),
        pytest.param([], [x509.DNSName("baoji")], "alternative", id="san-other-dns"),
        pytest.param([], [x509.RFC822Name("ops@baoji.example")], "alternative", id="san-email"),
    ],
)
def test_a_csr_naming_another_platform_is_refused_without_echoing_the_name(
    ca: FileCertificateAuthority, subject: list[x509.NameAttribute], sans: list[x509.GeneralName] | None, part: str
) -> None:
    pem = _named_csr(ec.generate_private_key(ec.SECP256R1()), subject, sans)
    err = _refused(ca, pem)
    assert err.reason == "ERROR_REASON_INVALID_FIELD"
    assert part in err.metadata["problem"]
    assert "baoji" not in err.message + str(err.metadata)  # the CSR's names are the caller's: never echoed


@pytest.mark.parametrize(
    ("subject", "sans"),
    [
        pytest.param([], None, id="empty-subject"),
        pytest.param([_cn("xian")], None, id="cn-id"),
        pytest.param([_cn("platforms/xian")], None, id="cn-name"),
        pytest.param([_cn("spiffe://creditnode/platforms/xian")], None, id="cn-spiffe"),
        pytest.param(
            [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "西安融资信用服务平台"), _cn("xian")],
            None,
            id="organization-and-cn",
        ),
        pytest.param([], [x509.UniformResourceIdentifier("spiffe://creditnode/platforms/xian")], id="san-spiffe"),
        pytest.param([_cn("xian")], [x509.DNSName("xian")], id="san-dns-id"),
    ],
)
def test_a_csr_naming_this_platform_or_nothing_is_signed_with_the_registrys_names(
    ca: FileCertificateAuthority, subject: list[x509.NameAttribute], sans: list[x509.GeneralName] | None
) -> None:
    issued = ca.issue("xian", _named_csr(ec.generate_private_key(ec.SECP256R1()), subject, sans), NOW)
    cert = x509.load_pem_x509_certificate(issued.pem.encode())
    assert cert.subject.rfc4514_string() == "CN=platforms/xian"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert list(san) == [x509.UniformResourceIdentifier("spiffe://creditnode/platforms/xian")]


def test_the_requested_key_is_the_sha256_of_its_subject_public_key_info(ca: FileCertificateAuthority) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = _pem(_csr_der(key, hashes.SHA256()))
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    expected = hashlib.sha256(spki).hexdigest()
    assert ca.requested_key("xian", pem) == expected
    assert ca.issue("xian", pem, NOW).public_key_sha256 == expected
    other = ca.requested_key("xian", _pem(_csr_der(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())))
    assert other != expected


def test_the_requested_key_is_only_read_from_a_csr_the_ca_would_sign(ca: FileCertificateAuthority) -> None:
    with pytest.raises(InvalidArgument):
        ca.requested_key("xian", _pem(_csr_der(_weak_rsa(), hashes.SHA256())))
    with pytest.raises(InvalidArgument):
        ca.requested_key("baoji", _pem(_csr_der(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())))


def _client_certificate_accepted(tmp: Path, client_pem: str, client_key: Any, trusted_pem: str) -> bool:
    """A TLS handshake in memory, the server requiring a client certificate from ``trusted_pem`` (as the gateway does,
    through OpenSSL's path building): whether the server accepted the client's certificate."""
    server_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([_cn("gateway")])
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(minutes=5))
        .not_valid_after(NOW + timedelta(days=1))
        .sign(server_key, hashes.SHA256())
    )
    pkcs8 = (serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (tmp / "server.pem").write_bytes(
        server_key.private_bytes(*pkcs8) + server_cert.public_bytes(serialization.Encoding.PEM)
    )
    (tmp / "client.pem").write_bytes(client_key.private_bytes(*pkcs8) + client_pem.encode())
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(tmp / "server.pem")
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    server_ctx.load_verify_locations(cadata=trusted_pem)
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.check_hostname = False
    client_ctx.verify_mode = ssl.CERT_NONE
    client_ctx.load_cert_chain(tmp / "client.pem")
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    from_server, from_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(to_client, from_client, server_side=False)
    server = server_ctx.wrap_bio(to_server, from_server, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(20):
        for side, end in (("client", client), ("server", server)):
            if done[side]:
                continue
            try:
                end.do_handshake()
                done[side] = True
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError:
                return False  # the server refused the certificate (or the client the server's refusal)
        to_server.write(from_client.read())
        to_client.write(from_server.read())
        if done["server"]:
            return True
    raise AssertionError("the in-memory handshake did not finish")


def _issued_to_new_key(ca: FileCertificateAuthority) -> tuple[str, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    return ca.issue("xian", _pem(_csr_der(key, hashes.SHA256())), NOW).pem, key


def test_certificates_of_the_old_and_the_new_ca_both_verify_while_the_gateway_trusts_both(tmp_path: Path) -> None:
    # The runbook's CA rotation: the gateway trusts the old and the new CA certificate, concatenated, while platforms
    # move to the new one. Both CAs may carry one name (the development CA always does); a leaf that names its issuer
    # by subject alone was checked against the first CA of that name, and the new CA's certificates failed.
    old = FileCertificateAuthority(tmp_path / "old", autocreate=True, now=NOW)
    new = FileCertificateAuthority(tmp_path / "new", autocreate=True, now=NOW)
    trusted = old.ca_certificate_pem() + new.ca_certificate_pem()
    for ca in (old, new):
        pem, key = _issued_to_new_key(ca)
        assert _client_certificate_accepted(tmp_path, pem, key, trusted)
    other = FileCertificateAuthority(tmp_path / "other", autocreate=True, now=NOW)
    pem, key = _issued_to_new_key(other)
    assert not _client_certificate_accepted(tmp_path, pem, key, trusted)  # the check can fail: an untrusted CA


def test_a_leaf_passes_rfc_5280_client_path_validation(ca: FileCertificateAuthority) -> None:
    # A strict validator (this library's, after the CA/Browser Forum and RFC 5280 profile) needs the authority key
    # identifier in a leaf, and a SAN beside a non-empty subject that is not critical.
    pem, _ = _issued_to_new_key(ca)
    leaf = x509.load_pem_x509_certificate(pem.encode())
    root = x509.load_pem_x509_certificate(ca.ca_certificate_pem().encode())
    verifier = PolicyBuilder().store(Store([root])).time(NOW).build_client_verifier()
    verified = verifier.verify(leaf, [])
    assert verified.subjects == [x509.UniformResourceIdentifier("spiffe://creditnode/platforms/xian")]
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest


def test_a_leaf_never_outlives_the_ca_that_signed_it(tmp_path: Path) -> None:
    # A CA thirty days from its end: a leaf "valid 365 days" would stop verifying with it, and the not_after the
    # registry reports (and the platform plans its renewal by) would be wrong by eleven months.
    ca = FileCertificateAuthority(tmp_path, autocreate=True, now=NOW - CA_VALIDITY + timedelta(days=30))
    ca_end = x509.load_pem_x509_certificate(ca.ca_certificate_pem().encode()).not_valid_after_utc
    issued = ca.issue("xian", _pem(_csr_der(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())), NOW)
    leaf = x509.load_pem_x509_certificate(issued.pem.encode())
    assert leaf.not_valid_after_utc == issued.not_after == ca_end


def test_an_expired_ca_issues_nothing(tmp_path: Path) -> None:
    ca = FileCertificateAuthority(tmp_path, autocreate=True, now=NOW - CA_VALIDITY - timedelta(days=1))
    with pytest.raises(FailedPrecondition) as err:
        ca.issue("xian", _pem(_csr_der(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())), NOW)
    assert "expired" in err.value.message


def test_a_ca_certificate_that_is_not_the_ca_keys_stops_start_up(tmp_path: Path) -> None:
    # Replacing one file of the pair and not the other (a half-done rotation): every certificate issued would fail at
    # the gateway, and each issuance revokes the platform's working one.
    FileCertificateAuthority(tmp_path / "a", autocreate=True, now=NOW)
    FileCertificateAuthority(tmp_path / "b", autocreate=True, now=NOW)
    (tmp_path / "a" / "ca.crt").write_bytes((tmp_path / "b" / "ca.crt").read_bytes())
    with pytest.raises(SystemExit, match=r"ca\.crt"):
        FileCertificateAuthority(tmp_path / "a", autocreate=False, now=NOW)


def test_a_leaf_certificate_as_ca_crt_stops_start_up(tmp_path: Path) -> None:
    ca = FileCertificateAuthority(tmp_path / "a", autocreate=True, now=NOW)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = ca.issue("xian", _pem(_csr_der(key, hashes.SHA256())), NOW).pem
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "ca.crt").write_text(leaf)
    (tmp_path / "b" / "ca.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    with pytest.raises(SystemExit, match=r"ca\.crt"):
        FileCertificateAuthority(tmp_path / "b", autocreate=False, now=NOW)


def test_a_ca_directory_holding_only_the_key_is_never_overwritten(tmp_path: Path) -> None:
    # Development autocreation made a new key over an existing ca.key when only ca.crt was missing: the CA key, gone.
    FileCertificateAuthority(tmp_path, autocreate=True, now=NOW)
    (tmp_path / "ca.crt").unlink()
    key = (tmp_path / "ca.key").read_bytes()
    with pytest.raises(SystemExit, match=r"ca\.crt"):
        FileCertificateAuthority(tmp_path, autocreate=True, now=NOW)
    assert (tmp_path / "ca.key").read_bytes() == key


def _ca_files(ca_dir: Path, key: Any) -> None:
    """A self-signed CA certificate (CA:TRUE, keyCertSign, cRLSign) of ``key``, and the key, as an operator mounts."""
    name = x509.Name([_cn("creditnode node CA")])
    usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(minutes=5))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    ca_dir.mkdir()
    (ca_dir / "ca.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (ca_dir / "ca.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


@pytest.mark.parametrize("curve", [ec.SECP256K1(), ec.SECP192R1(), ec.SECP224R1()], ids=lambda c: c.name)
def test_a_ca_key_on_a_curve_tls_stacks_do_not_verify_or_too_weak_stops_start_up(tmp_path: Path, curve: Any) -> None:
    # The gateway's TLS stack (gRPC's BoringSSL) verifies no ECDSA signature on secp256k1, and P-192 and P-224 are
    # below the 128-bit strength the client keys must have: every leaf such a CA signed would fail at the gateway
    # (each issuance revoking the platform's working certificate), or be as weak as the CA key.
    _ca_files(tmp_path / "ca", ec.generate_private_key(curve))
    with pytest.raises(SystemExit, match=r"ca\.key"):
        FileCertificateAuthority(tmp_path / "ca", autocreate=False, now=NOW)


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1()], ids=lambda c: c.name)
def test_a_ca_key_on_a_nist_curve_of_128_bits_or_more_is_loaded(tmp_path: Path, curve: Any) -> None:
    _ca_files(tmp_path / "ca", ec.generate_private_key(curve))
    ca = FileCertificateAuthority(tmp_path / "ca", autocreate=False, now=NOW)
    assert ca.issue("xian", _pem(_csr_der(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())), NOW).pem


@pytest.mark.parametrize(
    ("curve", "digest"), [(ec.SECP256R1(), "sha256"), (ec.SECP384R1(), "sha384"), (ec.SECP521R1(), "sha512")]
)
def test_the_ca_signs_with_the_hash_its_curve_calls_for(tmp_path: Path, curve: Any, digest: str) -> None:
    # RFC 5480 section 4 (and the CA/Browser Forum's profile, which makes it a must): ECDSA on P-384 is paired with
    # SHA-384 and on P-521 with SHA-512. SHA-256 under a P-384 or P-521 key caps the signature at 128 bits, and
    # profiles that allow only the paired algorithms refuse the certificate.
    _ca_files(tmp_path / "ca", ec.generate_private_key(curve))
    ca = FileCertificateAuthority(tmp_path / "ca", autocreate=False, now=NOW)
    issued = ca.issue("xian", _pem(_csr_der(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())), NOW)
    leaf = x509.load_pem_x509_certificate(issued.pem.encode())
    crl = x509.load_der_x509_crl(ca.crl_der([], 1, NOW))
    assert leaf.signature_hash_algorithm is not None
    assert crl.signature_hash_algorithm is not None
    assert (leaf.signature_hash_algorithm.name, crl.signature_hash_algorithm.name) == (digest, digest)
