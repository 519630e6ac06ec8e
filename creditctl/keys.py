"""Key and CSR generation for a platform: the private key goes to a file the operator names, never to the node."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from creditctl.errors import EXIT_USAGE, CtlError


def new_key_and_csr(common_name: str, key_out: Path) -> str:
    """Write a new EC P-256 key (PKCS#8 PEM, mode 0600) to ``key_out`` and return a CSR for it."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    try:
        # O_EXCL: never overwrite a key that may still be in use.
        fd = os.open(key_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise CtlError(f"{key_out} exists; refusing to overwrite a key", EXIT_USAGE) from exc
    except OSError as exc:
        raise CtlError(f"cannot write {key_out}: {exc}", EXIT_USAGE) from exc
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def read_csr(path: Path) -> str:
    """A CSR the platform made itself (its key never leaves the platform)."""
    try:
        text = path.read_text()
        x509.load_pem_x509_csr(text.encode())
    except (OSError, ValueError) as exc:
        raise CtlError(f"{path} is not a readable PEM certificate signing request: {exc}", EXIT_USAGE) from exc
    return text


def csr_for(platform_id: str, key_out: Path | None, csr: Path | None) -> str:
    """Exactly one of --key-out (generate) and --csr (bring your own)."""
    if (key_out is None) == (csr is None):
        raise CtlError("give exactly one of --key-out (generate a key and CSR) and --csr (use a CSR)", EXIT_USAGE)
    if csr is not None:
        return read_csr(csr)
    assert key_out is not None
    return new_key_and_csr(platform_id, key_out)


def check_writable(*paths: Path | None) -> None:
    """Before a call that issues a certificate (and revokes the previous one): every output file can be written."""
    for path in paths:
        if path is None:
            continue
        if path.is_dir():
            raise CtlError(f"cannot write {path}: it is a directory", EXIT_USAGE)
        if not path.parent.is_dir() or not os.access(path.parent, os.W_OK):
            raise CtlError(f"cannot write {path}: {path.parent} is not a writable directory", EXIT_USAGE)
        if path.exists() and not os.access(path, os.W_OK):
            raise CtlError(f"cannot write {path}: permission denied", EXIT_USAGE)


def write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError as exc:
        raise CtlError(f"cannot write {path}: {exc}", EXIT_USAGE) from exc
