"""Enterprise Ed25519 public keys: whether a key's signatures prove anything, checked where keys are registered and
again wherever a signature is verified with one."""

from __future__ import annotations

from functools import lru_cache

from nacl.bindings import crypto_core_ed25519_is_valid_point

# The message where a stored key that fails ``is_signing_key`` (registered before registration checked keys) signs.
WEAK_KEY_REFUSED = (
    "the signing key is not a prime-order Ed25519 point, so anyone can sign for it; it signs nothing, and the "
    "enterprise needs a new key registered"
)


@lru_cache(maxsize=16384)  # a few MB at most
def is_signing_key(public_key: bytes) -> bool:
    """True for a raw 32-byte Ed25519 public key that canonically encodes a point of the prime-order subgroup
    (libsodium's check). A small-order point decodes and verifies, yet anyone can sign for it (for the neutral point
    (s·B, s) verifies over every message); a non-canonical encoding names a point another encoding names too.

    Cached: a verification re-checks a key each time it signs, and the check costs about a quarter of a verification;
    a key's answer never changes, and an enterprise signs with one key many times."""
    return len(public_key) == 32 and bool(crypto_core_ed25519_is_valid_point(public_key))
