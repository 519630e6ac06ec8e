"""The node's certificate authority: platform client certificates from CSRs, and the revocation list."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from services.kit.errors import FailedPrecondition, InvalidArgument
from services.registry.domain.ports import IssuedCertificate

TRUST_DOMAIN = "creditnode"
LEAF_VALIDITY = timedelta(days=365)
CA_VALIDITY = timedelta(days=3650)
CRL_VALIDITY = timedelta(days=1)
# The client keys a platform certificate may carry: what the gateway's TLS stack takes for client authentication, and
# strong enough to keep the platform's identity (no RSA under 2048 bits, no DSA, no curve outside TLS's P-256/P-384).
CLIENT_KEY_CURVES = (ec.SECP256R1, ec.SECP384R1)
MIN_RSA_BITS = 2048
# The CA's own key: a NIST curve the gateway's TLS stack verifies (gRPC's BoringSSL has no secp256k1) of at least the
# client keys' strength (no P-192 or P-224).
CA_KEY_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)
_CURVE_HASHES: dict[int, hashes.SHA256 | hashes.SHA384 | hashes.SHA512] = {
    256: hashes.SHA256(),
    384: hashes.SHA384(),
    521: hashes.SHA512(),
}


def platform_spiffe_id(platform_id: str) -> str:
    """The one URI SAN a platform certificate carries; the gateway reads the platform identity from it."""
    return f"spiffe://{TRUST_DOMAIN}/platforms/{platform_id}"


def public_key_sha256(key: CertificatePublicKeyTypes) -> str:
    """SHA-256 (hex) of the key's SubjectPublicKeyInfo DER as this library encodes it: one key, one digest, however
    the CSR encoded it (an EC point compressed or not)."""
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


class FileCertificateAuthority:
    """A CA whose key and certificate are files in ``ca_dir`` (a mounted Secret in production)."""

    def __init__(self, ca_dir: Path, *, autocreate: bool, now: datetime) -> None:
        key_path, cert_path = ca_dir / "ca.key", ca_dir / "ca.crt"
        if not key_path.exists() or not cert_path.exists():
            if key_path.exists() or cert_path.exists():
                # One of the pair alone: a development CA made over it would replace a CA key that may be in use.
                raise SystemExit(f"CA_DIR: {ca_dir} holds only one of ca.key and ca.crt")
            if not autocreate:
                raise SystemExit(
                    f"CA_DIR: no ca.key/ca.crt in {ca_dir} (set CA_AUTOCREATE=true only for local development)"
                )
            _create_ca(ca_dir, now)
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, CA_KEY_CURVES):
            raise SystemExit("CA_DIR: ca.key must be an EC private key on P-256, P-384 or P-521")
        self._key = key
        # RFC 5480 section 4: each curve with the hash of its strength (SHA-256 under P-384 or P-521 caps the
        # signature at 128 bits, and profiles allowing only these pairs refuse the certificate).
        self._hash = _CURVE_HASHES[key.curve.key_size]
        self._cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        _check_ca_certificate(self._cert, key)
        self._authority_key_id = _authority_key_identifier(self._cert, key)

    def ca_certificate_pem(self) -> str:
        return self._cert.public_bytes(serialization.Encoding.PEM).decode()

    def requested_key(self, platform_id: str, csr_pem: str) -> str:
        csr = _checked_csr(csr_pem)
        _check_names(csr, platform_id)
        return public_key_sha256(csr.public_key())

    def issue(self, platform_id: str, csr_pem: str, now: datetime) -> IssuedCertificate:
        csr = _checked_csr(csr_pem)
        _check_names(csr, platform_id)
        # Never past the CA's own end: the leaf would stop verifying with it, and not_after would tell the platform
        # a renewal date that is too late.
        not_after = min(now + LEAF_VALIDITY, self._cert.not_valid_after_utc)
        if not_after <= now:
            raise FailedPrecondition(
                "ERROR_REASON_DEPENDENCY_UNAVAILABLE", "the node CA certificate has expired; the operator must renew it"
            )
        # The subject and SAN come from the registry, never from the CSR: the CSR only proves key possession.
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"platforms/{platform_id}")]))
            .issuer_name(self._cert.subject)
            .public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            # Not critical beside a non-empty subject (RFC 5280 4.2.1.6): strict validators refuse it otherwise.
            .add_extension(
                x509.SubjectAlternativeName([x509.UniformResourceIdentifier(platform_spiffe_id(platform_id))]),
                critical=False,
            )
            # The issuer by key, not by name alone: while the gateway trusts an old and a new CA of one name (the
            # runbook's CA rotation), path building picks the CA whose key signed this, not the first of that name.
            .add_extension(self._authority_key_id, critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(csr.public_key()), critical=False)
            .sign(self._key, self._hash)
        )
        return IssuedCertificate(
            serial=format(cert.serial_number, "x"),
            platform_id=platform_id,
            pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
            not_after=cert.not_valid_after_utc,
            public_key_sha256=public_key_sha256(cert.public_key()),
        )

    def crl_der(self, revoked: list[IssuedCertificate], number: int, now: datetime) -> bytes:
        # RFC 5280 5.2.1 and 5.2.3: a conforming CA names itself by key (the same identifier its leaves carry, so
        # during a rotation the CRL is checked with the CA that signed it) and numbers every CRL, greater each time.
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self._cert.subject)
            .last_update(now)
            .next_update(now + CRL_VALIDITY)
            .add_extension(self._authority_key_id, critical=False)
            .add_extension(x509.CRLNumber(number), critical=False)
        )
        for cert in revoked:
            assert cert.revoked_at is not None
            entry = (
                x509.RevokedCertificateBuilder().serial_number(int(cert.serial, 16)).revocation_date(cert.revoked_at)
            )
            if cert.revocation_reason is not None:  # RFC 5280 5.3.1: absent rather than "unspecified" when unknown
                entry = entry.add_extension(x509.CRLReason(x509.ReasonFlags(cert.revocation_reason.value)), False)
            builder = builder.add_revoked_certificate(entry.build())
        return builder.sign(self._key, self._hash).public_bytes(serialization.Encoding.DER)


def _check_ca_certificate(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    """ca.crt must be a CA certificate of ca.key: with a mismatched pair (one file of a rotation replaced and not the
    other) every certificate issued would fail at the gateway, and each issuance revokes the platform's working one."""
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if cert.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        raise SystemExit("CA_DIR: ca.crt is not the certificate of ca.key")
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise SystemExit("CA_DIR: ca.crt needs basicConstraints CA:TRUE and keyUsage keyCertSign, cRLSign") from None
    if not constraints.ca or not usage.key_cert_sign or not usage.crl_sign:
        raise SystemExit("CA_DIR: ca.crt needs basicConstraints CA:TRUE and keyUsage keyCertSign, cRLSign")


def _authority_key_identifier(
    ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey
) -> x509.AuthorityKeyIdentifier:
    """The CA's own subject key identifier when its certificate has one (verifiers match the two), else one derived
    from its key (RFC 5280 method 1)."""
    try:
        ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _bad_csr(message: str, *, problem: str = "") -> InvalidArgument:
    metadata = {"field": "csr_pem", "problem": problem} if problem else {"field": "csr_pem"}
    return InvalidArgument("ERROR_REASON_INVALID_FIELD", f"csr_pem {message}", metadata)


def _checked_csr(csr_pem: str) -> x509.CertificateSigningRequest:
    """A PKCS#10 request for a key the node certifies, signed by that key (proof of possession)."""
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
    except ValueError:
        raise _bad_csr("is not a PEM PKCS#10 request") from None
    try:
        key = csr.public_key()
    except (ValueError, UnsupportedAlgorithm):  # e.g. an SM2 key: a curve the CA cannot read
        raise _bad_csr("holds a key of a type the node CA does not certify") from None
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, CLIENT_KEY_CURVES):
            raise _bad_csr("holds an EC key that is not on P-256 or P-384")
    elif isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise _bad_csr(f"holds an RSA key shorter than {MIN_RSA_BITS} bits")
    else:
        raise _bad_csr("must hold an EC (P-256, P-384) or RSA key")
    try:
        valid = csr.is_signature_valid
    except (ValueError, UnsupportedAlgorithm):
        valid = False
    if not valid:
        raise _bad_csr("signature does not verify")
    return csr


def _check_names(csr: x509.CertificateSigningRequest, platform_id: str) -> None:
    """Names in the CSR must be this platform's, if there are any: a CSR naming another platform (or asking for names
    the registry never certifies) is most likely the wrong file, and signing it silently would hide that. Only the
    common name and the alternative names are read; other subject attributes (organization, country…) are ignored.
    The values are the caller's and are never echoed."""
    spiffe_id = platform_spiffe_id(platform_id)
    own_names = {platform_id, f"platforms/{platform_id}", spiffe_id}
    if any(attr.value not in own_names for attr in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)):
        raise _bad_csr("subject common name does not name this platform", problem="subject common name")
    try:
        sans = list(csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        sans = []
    except ValueError:  # a malformed or duplicated extension
        raise _bad_csr("extensions cannot be read") from None
    for name in sans:
        ours = (isinstance(name, x509.UniformResourceIdentifier) and name.value == spiffe_id) or (
            isinstance(name, x509.DNSName) and name.value == platform_id
        )
        if not ours:
            raise _bad_csr("subject alternative name does not name this platform", problem="subject alternative name")


def _create_ca(ca_dir: Path, now: datetime) -> None:
    """A fresh self-signed CA for local development only."""
    ca_dir.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "creditnode node CA (development)")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    key_path = ca_dir / "ca.key"
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    (ca_dir / "ca.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
