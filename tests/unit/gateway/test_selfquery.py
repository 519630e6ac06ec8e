"""Self-query authentication: signature over canonical lines, active key, window and nonce."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services.gateway.domain.selfquery import (
    MAX_SIGNATURE_WINDOW,
    EnterpriseKey,
    NonceBook,
    SignedSelfQuery,
    canonical_lines,
    verify_self_query,
)
from services.kit.errors import DomainError, InvalidArgument

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=5)
KEY = Ed25519PrivateKey.generate()
RAW = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
KEY_ID = hashlib.sha256(RAW).hexdigest()[:16]


def signed(**kw: object) -> SignedSelfQuery:
    base = {
        "enterprise": "enterprises/91610100MA6TG1234E",
        "item_codes": ("TAX_PAYMENT",),
        "key_id": KEY_ID,
        "nonce": "n" * 20,
        "signed_at": NOW,
        "signature": b"",
    }
    base.update(kw)
    q = SignedSelfQuery(**base)  # type: ignore[arg-type]
    return SignedSelfQuery(**{**base, "signature": KEY.sign(canonical_lines(q))})  # type: ignore[arg-type]


def reason(
    q: SignedSelfQuery, keys: list[EnterpriseKey] | None, nonces: NonceBook | None = None, now: datetime = NOW
) -> str:
    try:
        verify_self_query(q, keys, now, WINDOW, nonces or NonceBook())
    except DomainError as exc:
        return exc.reason
    return "OK"


ACTIVE = [EnterpriseKey(KEY_ID, RAW, True)]


def test_canonical_lines_are_exactly_as_documented() -> None:
    q = signed(item_codes=("B", "A"))
    assert canonical_lines(q).decode() == "\n".join(
        [
            "creditnode.gateway.v1.SelfQuery",
            "enterprise=enterprises/91610100MA6TG1234E",
            "item_codes=A,B",
            f"key_id={KEY_ID}",
            "nonce=" + "n" * 20,
            "signed_at=2026-11-29T10:00:00Z",
        ]
    )


def test_a_paged_request_signs_its_page_size_and_token_after_the_documented_lines() -> None:
    unpaged = canonical_lines(signed()).decode()
    assert canonical_lines(signed(page_size=50, page_token="eyJhIjoiNyJ9")).decode() == "\n".join(
        [unpaged, "page_size=50", "page_token=eyJhIjoiNyJ9"]
    )
    assert (
        canonical_lines(signed(page_token="eyJhIjoiNyJ9")).decode().endswith("\npage_size=0\npage_token=eyJhIjoiNyJ9")
    )
    assert canonical_lines(signed(page_size=10)).decode().endswith("\npage_size=10\npage_token=")
    # A token that could pass for other lines is refused, not signed.
    with pytest.raises(InvalidArgument) as err:
        canonical_lines(signed(page_token="x\nnonce=" + "m" * 20))
    assert err.value.reason == "ERROR_REASON_INVALID_PAGE_TOKEN"


def test_valid_signature_passes_once_per_nonce() -> None:
    book = NonceBook()
    assert reason(signed(), ACTIVE, book) == "OK"
    assert reason(signed(), ACTIVE, book) == "ERROR_REASON_NONCE_REUSED"


def test_refusals() -> None:
    q = signed()
    tampered = SignedSelfQuery(q.enterprise, ("REG_BASIC",), q.key_id, q.nonce, q.signed_at, q.signature)
    assert reason(tampered, ACTIVE) == "ERROR_REASON_SIGNATURE_INVALID"
    assert reason(q, None) == "ERROR_REASON_SIGNATURE_INVALID"  # unknown enterprise: same answer
    assert reason(q, [EnterpriseKey(KEY_ID, RAW, False)]) == "ERROR_REASON_KEY_NOT_ACTIVE"
    assert reason(signed(signed_at=NOW - timedelta(minutes=6)), ACTIVE) == "ERROR_REASON_SIGNATURE_STALE"
    assert reason(signed(nonce="short"), ACTIVE) == "ERROR_REASON_INVALID_FIELD"


def test_a_key_anyone_can_sign_for_is_refused_when_it_signs() -> None:
    """The neutral point, registered before the registry refused such keys: (R = 1·B, s = 1), made without any
    private key, verifies for it over any lines, so a stranger could query the enterprise's disclosures."""
    p = 2**255 - 19
    identity = (1).to_bytes(32, "little")
    weak_id = hashlib.sha256(identity).hexdigest()[:16]
    forged = (4 * pow(5, p - 2, p) % p).to_bytes(32, "little") + (1).to_bytes(32, "little")
    q = signed(key_id=weak_id)
    q = SignedSelfQuery(q.enterprise, q.item_codes, weak_id, q.nonce, q.signed_at, forged)
    with pytest.raises(DomainError) as err:
        verify_self_query(q, [EnterpriseKey(weak_id, identity, True)], NOW, WINDOW, NonceBook())
    assert (err.value.kind, err.value.reason) == ("PERMISSION_DENIED", "ERROR_REASON_KEY_NOT_ACTIVE")
    assert "anyone can sign" in err.value.message


def test_a_fraction_of_a_second_added_to_a_signed_request_is_refused() -> None:
    # The signed line holds whole seconds, so the fraction is not signed: it would move the window and the nonce's
    # keeping past what the enterprise signed.
    book = NonceBook()
    q = signed()
    assert reason(q, ACTIVE, book) == "OK"
    moved = SignedSelfQuery(
        q.enterprise, q.item_codes, q.key_id, q.nonce, q.signed_at + timedelta(microseconds=999_999), q.signature
    )
    assert (
        reason(moved, ACTIVE, book, now=NOW + WINDOW + timedelta(microseconds=500_000)) == "ERROR_REASON_INVALID_FIELD"
    )


def test_a_nonce_is_kept_past_the_last_moment_the_window_accepts_its_request() -> None:
    book = NonceBook()
    assert reason(signed(), ACTIVE, book, now=NOW - WINDOW) == "OK"
    assert reason(signed(), ACTIVE, book, now=NOW + WINDOW) == "ERROR_REASON_NONCE_REUSED"


def test_a_nonce_outlives_any_window_the_gateway_may_be_set_to() -> None:
    # Kept only for the window in force, a nonce swept under a narrower window let its request pass again once the
    # window was raised (or on a replica already running with the wider one during a rollout).
    book = NonceBook()
    assert reason(signed(), ACTIVE, book) == "OK"
    later = NOW + timedelta(minutes=10)
    wide = MAX_SIGNATURE_WINDOW
    with pytest.raises(DomainError) as err:
        verify_self_query(signed(), ACTIVE, later, wide, book)
    assert err.value.reason == "ERROR_REASON_NONCE_REUSED"


def test_a_window_wider_than_the_nonces_are_kept_is_refused() -> None:
    with pytest.raises(ValueError, match="at most MAX_SIGNATURE_WINDOW"):
        verify_self_query(signed(), ACTIVE, NOW, MAX_SIGNATURE_WINDOW + timedelta(seconds=1), NonceBook())


@pytest.mark.parametrize("value", ["a\nb", "a=b", "a,b"])
def test_values_that_cannot_be_encoded_are_refused(value: str) -> None:
    assert reason(_raw(value), ACTIVE) == "ERROR_REASON_INVALID_FIELD"


def _raw(value: str) -> SignedSelfQuery:
    return SignedSelfQuery("enterprises/x", (value,), KEY_ID, "n" * 20, NOW, b"\0" * 64)
