"""Enterprise keys: only keys whose signatures prove something are registered or rotated to.

A small-order Ed25519 point (one of the eight torsion points) decodes as a valid public key, yet signatures "by" it
can be made by anyone for any message: with the identity point, (R = s·B, s) verifies for every message. An
enterprise holding such a key could have its authorizations and key rotations forged by anybody, and could disown
its own. Non-canonical encodings (y ≥ p) name a point another encoding names too, under another key id.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.kit.errors import InvalidArgument
from services.registry.domain.participants import (
    Enterprise,
    EnterpriseKey,
    KeyState,
    check_public_key,
    key_id_of,
    rotation_message,
)

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
P = 2**255 - 19


def _le(n: int, sign: int = 0) -> bytes:
    raw = bytearray(n.to_bytes(32, "little"))
    raw[31] |= sign << 7
    return bytes(raw)


# The torsion points' encodings (libsodium's blacklist, with their other sign bits) and non-canonical ones.
ORDER_8_A = bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
ORDER_8_B = bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
WEAK = {
    "identity": _le(1),
    "order-2": _le(P - 1),
    "order-4": _le(0),
    "order-4-other-x": _le(0, sign=1),
    "order-8-a": ORDER_8_A,
    "order-8-a-other-x": ORDER_8_A[:31] + bytes([ORDER_8_A[31] | 0x80]),
    "order-8-b": ORDER_8_B,
    "order-8-b-other-x": ORDER_8_B[:31] + bytes([ORDER_8_B[31] & 0x7F]),
    "y-is-p": _le(P),
    "y-is-p-plus-1": _le(P + 1),
}


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_anyone_can_sign_for_the_identity_point() -> None:
    """Why the check matters: the library verifies a signature nobody made, for any message."""
    base_point = _le(4 * pow(5, P - 2, P) % P)  # B's encoding: y = 4/5, x even
    forged = base_point + (1).to_bytes(32, "little")  # R = 1·B, s = 1
    for message in (b"creditnode.registry.v1.RotateEnterpriseKey", b"anything at all"):
        Ed25519PublicKey.from_public_bytes(WEAK["identity"]).verify(forged, message)  # raises if it does not verify


@pytest.mark.parametrize("name", sorted(WEAK))
def test_a_small_order_or_non_canonical_key_is_refused(name: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        check_public_key(WEAK[name])
    assert err.value.reason == "ERROR_REASON_INVALID_KEY"


def test_ordinary_keys_still_pass() -> None:
    for _ in range(50):
        check_public_key(_raw(Ed25519PrivateKey.generate()))


def test_an_enterprise_cannot_rotate_to_a_small_order_key() -> None:
    old = Ed25519PrivateKey.generate()
    old_id = key_id_of(_raw(old))
    enterprise = Enterprise(
        "USCC", "公司", "xian", [EnterpriseKey(old_id, _raw(old), KeyState.ACTIVE, NOW)], False, NOW, NOW
    )
    weak = WEAK["order-4"]
    with pytest.raises(InvalidArgument):
        enterprise.rotate_key(weak, old_id, NOW, old.sign(rotation_message("USCC", old_id, weak, NOW)), NOW)
    assert [k.key_id for k in enterprise.keys] == [old_id]
    assert enterprise.keys[0].state is KeyState.ACTIVE
