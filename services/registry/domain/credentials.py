"""Which platform a public key is certified for: one key, one platform, and a key once retired never comes back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.kit.errors import FailedPrecondition


class RevocationReason(StrEnum):
    """Why a certificate was revoked: the RFC 5280 5.3.1 reason code its CRL entry carries (the values are the
    codes' ASN.1 names)."""

    SUPERSEDED = "superseded"  # the platform's next certificate replaced it (a renewal or a new key)
    PRIVILEGE_WITHDRAWN = "privilegeWithdrawn"  # the platform was suspended or removed
    CESSATION_OF_OPERATION = "cessationOfOperation"  # the platform exited


@dataclass(frozen=True)
class CertifiedKey:
    """A public key (SHA-256 of its SubjectPublicKeyInfo DER) the node CA put in a certificate, and its platform.

    ``retired_at`` is set when a certificate of the key is revoked other than by a renewal of that same key
    (suspension, removal, exit, rotation to another key): the key is then compromised or given up."""

    public_key_sha256: str
    platform_id: str
    certified_at: datetime
    retired_at: datetime | None = None


def check_certifiable(holder: CertifiedKey | None, platform_id: str) -> None:
    """A key may be certified for a platform if nobody holds it yet, or if that platform holds it and it is not retired
    (a renewal). Otherwise one key holder could act as two platforms, or a revoked key could come back."""
    if holder is None:
        return
    if holder.platform_id != platform_id:
        # Which platform holds it is not said: the refusal should not tell a CSR's sender who else uses that key.
        raise FailedPrecondition(
            "ERROR_REASON_KEY_ALREADY_CERTIFIED",
            "the CSR's public key is already certified for another platform; make a new key",
            {"field": "csr_pem"},
        )
    if holder.retired_at is not None:
        raise FailedPrecondition(
            "ERROR_REASON_KEY_ALREADY_CERTIFIED",
            "a certificate of the CSR's public key was revoked; a revoked key is never certified again",
            {"field": "csr_pem"},
        )
