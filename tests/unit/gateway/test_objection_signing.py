"""An enterprise's signed objection: the canonical lines bind every relayed field; the self-query's key, window and
nonce rules apply."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services.gateway.domain.objection_signing import SignedObjection, canonical_lines, verify_objection
from services.gateway.domain.selfquery import EnterpriseKey, NonceBook
from services.kit.errors import DomainError

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=5)
KEY = Ed25519PrivateKey.generate()
RAW = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
KEY_ID = hashlib.sha256(RAW).hexdigest()[:16]
USCC = "91610100MA6TG1234E"
ACTIVE = [EnterpriseKey(KEY_ID, RAW, True)]
DIGEST_A, DIGEST_B = "a" * 64, "b" * 64


def unsigned(**kw: Any) -> SignedObjection:
    base: dict[str, Any] = {
        "enterprise": USCC,
        "filer": f"enterprises/{USCC}",
        "records": ((f"enterprises/{USCC}/records/r2", 1), (f"enterprises/{USCC}/records/r1", 3)),
        "evaluation": "",
        "reasons": "the capital is wrong,\nsee the attachment = 2 pages",
        "attachment_sha256": (DIGEST_B, DIGEST_A),
        "statement": "we paid in full",
        "receive_time": NOW - timedelta(hours=1),
        "request_id": "req-1",
        "key_id": KEY_ID,
        "nonce": "n" * 20,
        "signed_at": NOW,
        "signature": b"",
    }
    base.update(kw)
    return SignedObjection(**base)


def signed(key: Ed25519PrivateKey = KEY, **kw: Any) -> SignedObjection:
    o = unsigned(**kw)
    return dataclasses.replace(o, signature=key.sign(canonical_lines(o)))


def reason(o: SignedObjection, keys: list[EnterpriseKey] | None = ACTIVE, nonces: NonceBook | None = None) -> str:
    try:
        verify_objection(o, keys, NOW, WINDOW, nonces or NonceBook())
    except DomainError as exc:
        return exc.reason
    return "OK"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_canonical_lines_are_exactly_as_documented() -> None:
    assert canonical_lines(unsigned()).decode() == "\n".join(
        [
            "creditnode.gateway.v1.FileObjection",
            f"enterprise={USCC}",
            f"filer=enterprises/{USCC}",
            f"records=enterprises/{USCC}/records/r1@3,enterprises/{USCC}/records/r2@1",
            "evaluation=",
            "reasons_sha256=" + sha("the capital is wrong,\nsee the attachment = 2 pages"),
            f"attachment_sha256={DIGEST_A},{DIGEST_B}",
            "statement_sha256=" + sha("we paid in full"),
            "receive_time=2026-11-29T09:00:00Z",
            "request_id=req-1",
            f"key_id={KEY_ID}",
            "nonce=" + "n" * 20,
            "signed_at=2026-11-29T10:00:00Z",
        ]
    )
    # No statement is the hash of the empty text; an evaluation target names no records.
    lines = canonical_lines(unsigned(statement="", records=(), evaluation=f"enterprises/{USCC}/evaluations/7"))
    assert f"\nstatement_sha256={sha('')}\n".encode() in lines
    assert f"\nrecords=\nevaluation=enterprises/{USCC}/evaluations/7\n".encode() in lines


def test_a_signed_objection_passes_once_per_nonce() -> None:
    book = NonceBook()
    assert reason(signed(), nonces=book) == "OK"
    assert reason(signed(), nonces=book) == "ERROR_REASON_NONCE_REUSED"


OTHER_USCC = "91610100MA6TG5678X"

# Every field a relaying platform could alter after the enterprise signed.
ALTERATIONS: dict[str, dict[str, Any]] = {
    "enterprise": {"enterprise": OTHER_USCC},
    "filer": {"filer": f"enterprises/{OTHER_USCC}"},
    "a record dropped": {"records": ((f"enterprises/{USCC}/records/r1", 3),)},
    "a record's version": {"records": ((f"enterprises/{USCC}/records/r2", 2), (f"enterprises/{USCC}/records/r1", 3))},
    "a record added": {
        "records": (
            (f"enterprises/{USCC}/records/r2", 1),
            (f"enterprises/{USCC}/records/r1", 3),
            (f"enterprises/{USCC}/records/r9", 1),
        )
    },
    "evaluation": {"evaluation": f"enterprises/{USCC}/evaluations/1"},
    "reasons": {"reasons": "the capital is wrong"},
    "an attachment dropped": {"attachment_sha256": (DIGEST_A,)},
    "an attachment changed": {"attachment_sha256": (DIGEST_A, "c" * 64)},
    "statement": {"statement": "we paid in part"},
    "statement removed": {"statement": ""},
    "receive_time": {"receive_time": NOW - timedelta(hours=2)},
    "receive_time removed": {"receive_time": None},
    "request_id": {"request_id": "req-2"},
    "nonce": {"nonce": "m" * 20},
    "signed_at": {"signed_at": NOW - timedelta(seconds=1)},
}


@pytest.mark.parametrize("field", sorted(ALTERATIONS))
def test_every_field_altered_after_signing_fails_the_signature(field: str) -> None:
    original = signed()
    altered = dataclasses.replace(original, **ALTERATIONS[field])
    assert canonical_lines(altered) != canonical_lines(original)
    assert reason(altered) == "ERROR_REASON_SIGNATURE_INVALID"


def test_the_order_of_records_and_attachments_is_not_signed() -> None:
    original = signed()
    reordered = dataclasses.replace(
        original, records=tuple(reversed(original.records)), attachment_sha256=(DIGEST_A, DIGEST_B)
    )
    assert reason(reordered) == "OK"


def test_refusals_match_the_self_query() -> None:
    other = Ed25519PrivateKey.generate()
    assert reason(signed(key=other)) == "ERROR_REASON_SIGNATURE_INVALID"  # another enterprise's key
    assert reason(signed(), None) == "ERROR_REASON_SIGNATURE_INVALID"  # unknown enterprise: same answer
    assert reason(signed(), [EnterpriseKey(KEY_ID, RAW, False)]) == "ERROR_REASON_KEY_NOT_ACTIVE"
    assert reason(signed(signed_at=NOW - timedelta(minutes=6))) == "ERROR_REASON_SIGNATURE_STALE"
    assert reason(signed(nonce="short")) == "ERROR_REASON_INVALID_FIELD"
    assert reason(signed(signed_at=NOW + timedelta(microseconds=1))) == "ERROR_REASON_INVALID_FIELD"


def test_a_fraction_of_a_second_in_the_receive_time_is_refused() -> None:
    # Signed in whole seconds: the fraction would reach the objection service unsigned.
    o = signed()
    moved = dataclasses.replace(o, receive_time=o.receive_time + timedelta(microseconds=5))  # type: ignore[operator]
    assert reason(moved) == "ERROR_REASON_INVALID_FIELD"


@pytest.mark.parametrize(
    "kw",
    [
        {"request_id": "a\nb"},
        {"evaluation": "x\nrequest_id=y"},
        {"records": (("enterprises/x/records/a,b", 1),)},
        {"attachment_sha256": ("a,b",)},
    ],
)
def test_values_that_cannot_be_encoded_are_refused(kw: dict[str, Any]) -> None:
    o = dataclasses.replace(unsigned(), signature=b"\0" * 64, **kw)
    assert reason(o) == "ERROR_REASON_INVALID_FIELD"
