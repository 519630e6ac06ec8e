"""Enterprise signatures: canonical lines signed with a registry key; the window and a nonce bar replay."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.kit.ed25519_keys import WEAK_KEY_REFUSED, is_signing_key
from services.kit.errors import InvalidArgument, PermissionDenied, Unauthenticated

ACTION = "creditnode.gateway.v1.SelfQuery"
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# A page token is URL-safe base64 (kit/paging.py): a newline or anything else in one could make other lines.
_PAGE_TOKEN = re.compile(r"^[A-Za-z0-9_=-]{0,2048}$")
# The widest window SIGNATURE_WINDOW_SECONDS may set. Nonces are kept this long whatever the window in force: kept
# only for that window, a nonce swept under a narrower one let its request pass again as new once the window was
# raised, or on a replica already running with a wider one during a rollout.
MAX_SIGNATURE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class SignedSelfQuery:
    """The signed part of a self-query."""

    enterprise: str
    item_codes: tuple[str, ...]
    key_id: str
    nonce: str
    signed_at: datetime
    signature: bytes
    # Paging of the disclosure history: signed only when either is set (see SelfQueryRequest in the proto).
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True)
class EnterpriseKey:
    """A registry key of the enterprise."""

    key_id: str
    public_key: bytes
    active: bool


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical_lines(q: SignedSelfQuery) -> bytes:
    """The exact bytes signed (see SelfQueryRequest in the proto)."""
    for value in (q.enterprise, q.key_id, q.nonce, *q.item_codes):
        if any(c in value for c in "\n=,"):
            raise InvalidArgument("ERROR_REASON_INVALID_FIELD", "a signed value holds a reserved character")
    lines = [
        ACTION,
        f"enterprise={q.enterprise}",
        f"item_codes={','.join(sorted(q.item_codes))}",
        f"key_id={q.key_id}",
        f"nonce={q.nonce}",
        f"signed_at={rfc3339(q.signed_at)}",
    ]
    if q.page_size or q.page_token:
        if not _PAGE_TOKEN.fullmatch(q.page_token):
            raise InvalidArgument("ERROR_REASON_INVALID_PAGE_TOKEN", "page_token is not valid", {"field": "page_token"})
        lines += [f"page_size={q.page_size}", f"page_token={q.page_token}"]
    return "\n".join(lines).encode()


class Nonces(Protocol):
    """Where nonces are kept while their request could still be in the window: ``use`` is False for one seen."""

    def use(self, enterprise: str, nonce: str, until: datetime, now: datetime) -> bool: ...


class NonceBook:
    """Nonces in memory, for one process; the gateway keeps them in its database (``store/nonces.py``), shared by
    its replicas."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], datetime] = {}

    def use(self, enterprise: str, nonce: str, until: datetime, now: datetime) -> bool:
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {k: v for k, v in self._seen.items() if v > now}
            key = (enterprise, nonce)
            if key in self._seen and self._seen[key] > now:
                return False
            self._seen[key] = until
            return True


def verify_self_query(
    q: SignedSelfQuery,
    keys: Sequence[EnterpriseKey] | None,
    now: datetime,
    window: timedelta,
    nonces: Nonces,
) -> None:
    """Raise unless an ACTIVE key of the enterprise signed these lines within the window with a fresh nonce.
    An unknown enterprise gets the same answer as a bad signature."""
    verify_enterprise_signature(
        q.enterprise, q.key_id, q.nonce, q.signed_at, q.signature, lambda: canonical_lines(q), keys, now, window, nonces
    )


def verify_enterprise_signature(
    enterprise: str,
    key_id: str,
    nonce: str,
    signed_at: datetime,
    signature: bytes,
    lines: Callable[[], bytes],
    keys: Sequence[EnterpriseKey] | None,
    now: datetime,
    window: timedelta,
    nonces: Nonces,
) -> None:
    """The one check of an enterprise's signed request (a self-query, an objection it files): ``lines`` gives the
    exact bytes it signed. An unknown enterprise gets the same answer as a bad signature."""
    if window > MAX_SIGNATURE_WINDOW:
        raise ValueError("the signature window is at most MAX_SIGNATURE_WINDOW (nonces are kept that long)")
    if not _NONCE.fullmatch(nonce):
        raise InvalidArgument("ERROR_REASON_INVALID_FIELD", "nonce must be 16-64 letters, digits, - or _")
    if signed_at.microsecond:
        # The signed line holds whole seconds: a fraction added to a signed request would still verify, and move
        # the window (and the nonce's keeping) past what the enterprise signed.
        raise InvalidArgument("ERROR_REASON_INVALID_FIELD", "signed_at must be whole seconds, as signed")
    bad = Unauthenticated("ERROR_REASON_SIGNATURE_INVALID", "the enterprise signature does not verify")
    key = next((k for k in keys or () if k.key_id == key_id), None)
    if key is None:
        raise bad
    try:
        Ed25519PublicKey.from_public_bytes(key.public_key).verify(signature, lines())
    except (InvalidSignature, ValueError):
        raise bad from None
    if not is_signing_key(key.public_key):
        # Registered before the registry refused such keys: the signature verifies, but anyone could have made it.
        raise PermissionDenied("ERROR_REASON_KEY_NOT_ACTIVE", WEAK_KEY_REFUSED)
    if not key.active:
        raise PermissionDenied("ERROR_REASON_KEY_NOT_ACTIVE", "the signing key is retired")
    if abs(now - signed_at) > window:
        raise Unauthenticated("ERROR_REASON_SIGNATURE_STALE", "signed_at is outside the window")
    # Kept until a second past the last moment the widest window accepts the request.
    if not nonces.use(enterprise, nonce, signed_at + MAX_SIGNATURE_WINDOW + timedelta(seconds=1), now):
        raise Unauthenticated("ERROR_REASON_NONCE_REUSED", "the nonce was already used")
