"""The anti-reinsertion fingerprint: a corrected item must not quietly come back in a later feed."""

from __future__ import annotations

import hashlib

_DOMAIN = "creditnode.objection.reinsertion.v1"
# Unit separator: cannot appear in codes or hex digests, so no two different tuples encode alike.
_SEP = "\x1f"


def reinsertion_fingerprint(provider: str, enterprise: str, item: str, content_sha256: str) -> str:
    """Hex SHA-256 of the versioned tuple (provider, enterprise, item, content digest).

    Exactly: ``sha256("creditnode.objection.reinsertion.v1" US provider US enterprise US item US digest)`` in UTF-8,
    where US is U+001F and ``digest`` is the lowercase hex content digest. The registry computes the same for each
    incoming record and refuses a match from the same provider (or holds it for review), instead of accepting it.
    """
    parts = (_DOMAIN, provider, enterprise, item, content_sha256.lower())
    if any(_SEP in part for part in parts):
        raise ValueError("fingerprint parts must not contain U+001F")
    return hashlib.sha256(_SEP.join(parts).encode("utf-8")).hexdigest()
