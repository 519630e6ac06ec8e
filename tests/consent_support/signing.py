"""An enterprise that signs consent requests, written from the proto's description of the canonical lines.

Deliberately independent of services.consent.domain.signing: if the two disagree, signatures stop verifying.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from google.protobuf.timestamp_pb2 import Timestamp
from stdnum.cn import uscc as uscc_lib

from creditnode.consent.v1 import consent_service_pb2 as pb


def make_uscc(seed: int) -> str:
    """A valid 18-character code (GB 32100-2015 check digit) derived from ``seed``."""
    body = f"91610000{seed:09d}"[:17]
    return body + uscc_lib.calc_check_digit(body)


def ts(at: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(at.astimezone(UTC))
    return out


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_s() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _enum_short(enum_type: Any, number: int, prefix: str) -> str:
    return str(enum_type.Name(number)).removeprefix(prefix)


@dataclass
class Enterprise:
    """An enterprise with an Ed25519 key, signing requests the way the proto describes."""

    uscc: str
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    @property
    def name(self) -> str:
        return f"enterprises/{self.uscc}"

    @property
    def public_key(self) -> bytes:
        return self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.public_key).hexdigest()[:16]

    def signature(
        self, lines: list[str], *, nonce: str | None = None, signed_at: datetime | None = None, key_id: str = ""
    ) -> pb.EnterpriseSignature:
        nonce = nonce or secrets.token_hex(16)
        signed_at = signed_at or now_s()
        key_id = key_id or self.key_id
        text = "\n".join([*lines, f"key_id={key_id}", f"nonce={nonce}", f"signed_at={rfc3339(signed_at)}"])
        return pb.EnterpriseSignature(
            key_id=key_id, nonce=nonce, signed_at=ts(signed_at), signature=self.key.sign(text.encode())
        )

    def grant(
        self,
        requester: str,
        *,
        purpose: str = "PRE_LOAN",
        items: tuple[str, ...] = ("TAX_PAYMENT",),
        categories: tuple[str, ...] = (),
        valid_from: datetime | None = None,
        validity: timedelta = timedelta(days=30),
        lookback: timedelta = timedelta(days=365),
        kind: int = pb.USE_LIMIT_KIND_MAX_USES,
        max_uses: int = 5,
        period_days: int = 0,
        **sig: Any,
    ) -> pb.GrantAuthorizationRequest:
        start = valid_from or now_s() - timedelta(minutes=1)
        until, since = start + validity, start - lookback
        lines = [
            "creditnode.consent.v1.GrantAuthorization",
            f"enterprise={self.name}",
            f"requester={requester}",
            f"purpose={purpose}",
            f"items={','.join(sorted(items))}",
            f"categories={','.join(sorted(categories))}",
            f"valid_from={rfc3339(start)}",
            f"valid_until={rfc3339(until)}",
            f"data_since={rfc3339(since)}",
            f"use_limit={_enum_short(pb.UseLimitKind, kind, 'USE_LIMIT_KIND_')}",
            f"max_uses={max_uses}",
            f"period_days={period_days}",
        ]
        return pb.GrantAuthorizationRequest(
            enterprise=self.name,
            requester=requester,
            purpose=purpose,
            items=list(items),
            categories=list(categories),
            valid_from=ts(start),
            valid_until=ts(until),
            data_since=ts(since),
            use_limit=pb.UseLimit(kind=kind, max_uses=max_uses, period_days=period_days),  # type: ignore[arg-type]
            signature=self.signature(lines, **sig),
        )

    def _lifecycle(self, method: str, authorization: str, **sig: Any) -> dict[str, Any]:
        lines = [f"creditnode.consent.v1.{method}", f"authorization={authorization}", f"enterprise={self.name}"]
        return {"authorization": authorization, "enterprise": self.name, "signature": self.signature(lines, **sig)}

    def pause(self, authorization: str, **sig: Any) -> pb.PauseAuthorizationRequest:
        return pb.PauseAuthorizationRequest(**self._lifecycle("PauseAuthorization", authorization, **sig))

    def resume(self, authorization: str, **sig: Any) -> pb.ResumeAuthorizationRequest:
        return pb.ResumeAuthorizationRequest(**self._lifecycle("ResumeAuthorization", authorization, **sig))

    def revoke(self, authorization: str, **sig: Any) -> pb.RevokeAuthorizationRequest:
        return pb.RevokeAuthorizationRequest(**self._lifecycle("RevokeAuthorization", authorization, **sig))
