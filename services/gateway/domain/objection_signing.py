"""An objection an enterprise files: the canonical lines it signs, so a relaying platform can alter none of it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.gateway.domain.selfquery import EnterpriseKey, Nonces, rfc3339, verify_enterprise_signature
from services.kit.errors import InvalidArgument

ACTION = "creditnode.gateway.v1.FileObjection"


@dataclass(frozen=True)
class Signature:
    """An ``EnterpriseSignature`` as it came: who signed (key id), against replay (nonce, signed_at), the bytes."""

    key_id: str
    nonce: str
    signed_at: datetime
    value: bytes


@dataclass(frozen=True)
class SignedObjection:
    """The signed part of an enterprise's objection: its fields as sent, and the signature."""

    enterprise: str
    filer: str
    records: tuple[tuple[str, int], ...]
    evaluation: str
    reasons: str
    attachment_sha256: tuple[str, ...]
    statement: str
    receive_time: datetime | None
    request_id: str
    key_id: str
    nonce: str
    signed_at: datetime
    signature: bytes


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def canonical_lines(o: SignedObjection) -> bytes:
    """The exact bytes signed (see FileObjectionRequest in the gateway proto). Free text (reasons, statement) is
    signed as its SHA-256, so it may hold any character; every other value must not hold a line break, nor a list
    element a comma, or two different objections could sign alike."""
    for value in (o.enterprise, o.filer, o.evaluation, o.request_id, o.key_id, o.nonce):
        if "\n" in value:
            raise InvalidArgument("ERROR_REASON_INVALID_FIELD", "a signed value holds a line break")
    for value in (*(name for name, _ in o.records), *o.attachment_sha256):
        if any(c in value for c in "\n,"):
            raise InvalidArgument("ERROR_REASON_INVALID_FIELD", "a signed list value holds a line break or a comma")
    lines = [
        ACTION,
        f"enterprise={o.enterprise}",
        f"filer={o.filer}",
        f"records={','.join(sorted(f'{name}@{version}' for name, version in o.records))}",
        f"evaluation={o.evaluation}",
        f"reasons_sha256={_sha256(o.reasons)}",
        f"attachment_sha256={','.join(sorted(o.attachment_sha256))}",
        f"statement_sha256={_sha256(o.statement)}",
        f"receive_time={rfc3339(o.receive_time) if o.receive_time is not None else ''}",
        f"request_id={o.request_id}",
        f"key_id={o.key_id}",
        f"nonce={o.nonce}",
        f"signed_at={rfc3339(o.signed_at)}",
    ]
    return "\n".join(lines).encode()


def verify_objection(
    o: SignedObjection,
    keys: Sequence[EnterpriseKey] | None,
    now: datetime,
    window: timedelta,
    nonces: Nonces,
) -> None:
    """Raise unless an ACTIVE key of the filing enterprise signed these lines within the window with a fresh nonce
    (the self-query's rules and answers)."""
    if o.receive_time is not None and o.receive_time.microsecond:
        # Signed in whole seconds: a fraction would be relayed unsigned.
        raise InvalidArgument("ERROR_REASON_INVALID_FIELD", "objection.receive_time must be whole seconds, as signed")
    verify_enterprise_signature(
        o.filer, o.key_id, o.nonce, o.signed_at, o.signature, lambda: canonical_lines(o), keys, now, window, nonces
    )
