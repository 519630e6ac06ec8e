"""Canonical encoding of signed requests and receipts, Ed25519 verification, and the replay window."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.consent.domain.model import EventType, UseLimit, authorization_name, invalid_field
from services.kit.errors import Unauthenticated

NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
KEY_ID = re.compile(r"^[0-9a-f]{16}$")
PREFIX = "creditnode.consent.v1."


class Action(StrEnum):
    """The signed actions; the value is the first line of the signed text."""

    GRANT = "GrantAuthorization"
    PAUSE = "PauseAuthorization"
    RESUME = "ResumeAuthorization"
    REVOKE = "RevokeAuthorization"


def format_time(at: datetime) -> str:
    """RFC 3339, UTC, whole seconds, "Z": the only time form that is signed."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def whole_seconds(at: datetime, field_name: str) -> datetime:
    if at.microsecond:
        raise invalid_field(field_name, "must be whole seconds (it is signed)")
    return at


def _lines(action: Action, pairs: list[tuple[str, str]]) -> bytes:
    for key, value in pairs:
        if any(c in value for c in "\n=,") and key not in ("items", "categories"):
            raise invalid_field(key, "contains a character that cannot be signed")
    return "\n".join([PREFIX + action.value, *(f"{k}={v}" for k, v in pairs)]).encode()


@dataclass(frozen=True)
class Signature:
    """Who signed (key id), against replay (nonce, signed_at), and the signature bytes."""

    key_id: str
    nonce: str
    signed_at: datetime
    value: bytes

    def __post_init__(self) -> None:
        if not KEY_ID.fullmatch(self.key_id):
            raise invalid_field("signature.key_id", "must be 16 lower-case hex digits")
        if not NONCE.fullmatch(self.nonce):
            raise invalid_field("signature.nonce", "must be 16-64 letters, digits, '-' or '_'")
        whole_seconds(self.signed_at, "signature.signed_at")
        if len(self.value) != 64:
            raise invalid_field("signature.signature", "must be 64 bytes")

    def lines(self) -> list[tuple[str, str]]:
        return [("key_id", self.key_id), ("nonce", self.nonce), ("signed_at", format_time(self.signed_at))]


@dataclass(frozen=True)
class GrantRequest:
    """A grant as the enterprise signed it (codes already sorted and unique)."""

    enterprise: str
    requester: str
    purpose: str
    items: tuple[str, ...]
    categories: tuple[str, ...]
    valid_from: datetime
    valid_until: datetime
    data_since: datetime
    use_limit: UseLimit
    signature: Signature

    def canonical(self) -> bytes:
        return _lines(
            Action.GRANT,
            [
                ("enterprise", f"enterprises/{self.enterprise}"),
                ("requester", self.requester),
                ("purpose", self.purpose),
                ("items", ",".join(self.items)),
                ("categories", ",".join(self.categories)),
                ("valid_from", format_time(self.valid_from)),
                ("valid_until", format_time(self.valid_until)),
                ("data_since", format_time(self.data_since)),
                ("use_limit", self.use_limit.kind.value),
                ("max_uses", str(self.use_limit.max_uses)),
                ("period_days", str(self.use_limit.period_days)),
                *self.signature.lines(),
            ],
        )

    def authorization_id(self) -> str:
        """Derived from what was signed, so a relayed retry names the same authorization."""
        return hashlib.sha256(self.canonical()).hexdigest()[:32]


@dataclass(frozen=True)
class LifecycleRequest:
    """A signed pause, resume or revoke of one authorization."""

    action: Action
    authorization_id: str
    enterprise: str
    signature: Signature

    def canonical(self) -> bytes:
        return _lines(
            self.action,
            [
                ("authorization", authorization_name(self.authorization_id)),
                ("enterprise", f"enterprises/{self.enterprise}"),
                *self.signature.lines(),
            ],
        )


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# The widest window SIGNATURE_WINDOW_SECONDS may set. Nonces are kept this long whatever the window in force: kept
# only for that window, a nonce swept under a narrower one let its request pass again as new once the window was
# raised (an old pause replayed after a resume paused again).
MAX_SIGNATURE_WINDOW = timedelta(hours=1)


def check_window(signed_at: datetime, now: datetime, window: timedelta) -> None:
    """UNAUTHENTICATED (SIGNATURE_STALE) when ``signed_at`` is further than ``window`` from the node's clock."""
    if abs(now - signed_at) > window:
        raise Unauthenticated(
            "ERROR_REASON_SIGNATURE_STALE",
            "signed_at is outside the accepted window",
            {"window_seconds": str(int(window.total_seconds()))},
        )


def bad_signature() -> Unauthenticated:
    # One answer for unknown enterprise, foreign key and wrong signature: an attacker learns nothing from it.
    return Unauthenticated("ERROR_REASON_SIGNATURE_INVALID", "the enterprise signature does not verify")


@dataclass(frozen=True)
class Receipt:
    """What the enterprise keeps for one event; digests chain an authorization's receipts."""

    authorization_id: str
    event_type: EventType
    revision: int
    recorded_at: datetime
    signed_payload: bytes
    signature: bytes
    signing_key_id: str
    previous_digest: bytes

    def canonical(self) -> bytes:
        """The receipt's lines (README): what its digest covers."""
        payload_hash = hashlib.sha256(self.signed_payload).hexdigest() if self.signed_payload else ""
        return "\n".join(
            [
                PREFIX + "Receipt",
                f"authorization={authorization_name(self.authorization_id)}",
                f"event_type={self.event_type.value}",
                f"revision={self.revision}",
                f"record_time={self.recorded_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}",
                f"signed_payload_sha256={payload_hash}",
                f"signature={self.signature.hex()}",
                f"signing_key_id={self.signing_key_id}",
                f"previous_digest={self.previous_digest.hex()}",
            ]
        ).encode()

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(self.canonical()).digest()

    @property
    def name(self) -> str:
        return f"{authorization_name(self.authorization_id)}/receipts/{self.revision}"

    def evidence_payload(self) -> dict[str, object]:
        """Ids and hashes only (the evidence log's payload rule), for a CONSENT_EVENT leaf."""
        return {
            "authorization": authorization_name(self.authorization_id),
            "event_type": self.event_type.value,
            "revision": self.revision,
            "receipt_digest": "sha256:" + self.digest.hex(),
        }
