"""Receipts and consistency documents: JSON anyone can keep and verify offline with only the node's public keys.

A receipt proves that one leaf (its full entry) sits at ``leaf_index`` in the tree a signed head commits to.
A consistency document proves that an older signed head's tree is a prefix of a newer one's, so nothing signed
before was changed, removed or reordered. Verification raises ``Invalid`` with a ``Failure`` reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from services.kit import merkle
from services.kit.evidence.entries import Entry
from services.kit.evidence.heads import (
    SignedTreeHead,
    b64_list_field,
    b64decode,
    b64encode,
    check_origin,
    from_ms,
)

RECEIPT_FORMAT = "creditnode.evidence.v1.Receipt"
CONSISTENCY_FORMAT = "creditnode.evidence.v1.ConsistencyProof"


class Failure(StrEnum):
    """Why a receipt or consistency document was rejected (printed by the verifier)."""

    MALFORMED = "MALFORMED"
    KEY_UNKNOWN = "KEY_UNKNOWN"
    KEY_RETIRED = "KEY_RETIRED"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    ORIGIN_MISMATCH = "ORIGIN_MISMATCH"
    SIZE_MISMATCH = "SIZE_MISMATCH"
    LEAF_HASH_MISMATCH = "LEAF_HASH_MISMATCH"
    MALFORMED_HASH = "MALFORMED_HASH"
    INDEX_OUT_OF_RANGE = "INDEX_OUT_OF_RANGE"
    SIZE_ORDER = "SIZE_ORDER"
    EMPTY_TREE = "EMPTY_TREE"
    PROOF_TOO_SHORT = "PROOF_TOO_SHORT"
    PROOF_TOO_LONG = "PROOF_TOO_LONG"
    ROOT_MISMATCH = "ROOT_MISMATCH"
    OUT_OF_SCOPE = "OUT_OF_SCOPE"
    RECORD_NOT_PROVEN = "RECORD_NOT_PROVEN"
    AUTHORIZATION_NOT_PROVEN = "AUTHORIZATION_NOT_PROVEN"
    PACKAGE_SIGNATURE_INVALID = "PACKAGE_SIGNATURE_INVALID"


class Invalid(Exception):
    """The document does not verify; ``reason`` names the first check that failed."""

    def __init__(self, reason: Failure, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Receipt:
    """A leaf, its index, its audit path and the signed head the path leads to."""

    leaf_index: int
    entry: Entry
    inclusion_proof: Sequence[bytes]
    tree_head: SignedTreeHead

    def to_obj(self) -> dict[str, Any]:
        return {
            "format": RECEIPT_FORMAT,
            "leaf_index": self.leaf_index,
            "leaf": self.entry.to_obj(),
            "leaf_hash": b64encode(self.entry.leaf_hash()),
            "inclusion_proof": [b64encode(p) for p in self.inclusion_proof],
            "tree_head": self.tree_head.to_obj(),
            "key_id": self.tree_head.key_id,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_obj(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_obj(cls, obj: Any) -> Receipt:
        """Parse a receipt; Invalid(MALFORMED) says which part is wrong."""
        try:
            if not isinstance(obj, Mapping) or obj.get("format") != RECEIPT_FORMAT:
                raise ValueError(f"format is not {RECEIPT_FORMAT}")
            index = obj.get("leaf_index")
            if not isinstance(index, int) or isinstance(index, bool) or index < 0:
                raise ValueError("leaf_index is missing or not a non-negative integer")
            entry = Entry.from_obj(obj.get("leaf"))
            proof = b64_list_field(obj, "inclusion_proof")
            head = SignedTreeHead.from_obj(obj.get("tree_head"))
            if obj.get("key_id", head.key_id) != head.key_id:
                raise ValueError("key_id differs from the tree head's key_id")
            receipt = cls(index, entry, proof, head)
            stated = obj.get("leaf_hash")
        except ValueError as exc:
            raise Invalid(Failure.MALFORMED, str(exc)) from None
        if stated is not None and (not isinstance(stated, str) or b64decode_or_none(stated) != entry.leaf_hash()):
            raise Invalid(Failure.LEAF_HASH_MISMATCH, "the leaf does not hash to the stated leaf_hash (altered leaf)")
        return receipt


def b64decode_or_none(text: str) -> bytes | None:
    try:
        return b64decode(text, "leaf_hash")
    except ValueError:
        return None


@dataclass(frozen=True)
class ConsistencyDocument:
    """A consistency proof between two tree sizes of one log, as the verifier reads it."""

    origin: str
    from_tree_size: int
    to_tree_size: int
    proof: Sequence[bytes]

    def to_obj(self) -> dict[str, Any]:
        return {
            "format": CONSISTENCY_FORMAT,
            "origin": self.origin,
            "from_tree_size": self.from_tree_size,
            "to_tree_size": self.to_tree_size,
            "proof": [b64encode(p) for p in self.proof],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_obj(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_obj(cls, obj: Any) -> ConsistencyDocument:
        try:
            if not isinstance(obj, Mapping) or obj.get("format") != CONSISTENCY_FORMAT:
                raise ValueError(f"format is not {CONSISTENCY_FORMAT}")
            origin = obj.get("origin")
            if not isinstance(origin, str):
                raise ValueError("origin is missing")
            check_origin(origin)
            sizes = [obj.get("from_tree_size"), obj.get("to_tree_size")]
            if any(not isinstance(s, int) or isinstance(s, bool) or s < 0 for s in sizes):
                raise ValueError("from_tree_size and to_tree_size are non-negative integers")
            return cls(origin, int(obj["from_tree_size"]), int(obj["to_tree_size"]), b64_list_field(obj, "proof"))
        except ValueError as exc:
            raise Invalid(Failure.MALFORMED, str(exc)) from None


def ms_text(ms: int) -> str:
    """A head's millisecond time as RFC 3339 UTC, for messages."""
    return from_ms(ms).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def check_head(
    head: SignedTreeHead,
    public_keys: Mapping[str, bytes],
    what: str = "tree head",
    retired_ms: Mapping[str, int] | None = None,
) -> None:
    """The head is signed by one of ``public_keys`` (key id -> raw key) over exactly its fields, and not later than
    its key's retirement (``retired_ms``: key id -> milliseconds since the epoch), if the key was retired."""
    key = public_keys.get(head.key_id)
    if key is None:
        raise Invalid(Failure.KEY_UNKNOWN, f"the {what} was signed by key {head.key_id}, which is not a given key")
    if not head.signature_valid(key):
        raise Invalid(Failure.SIGNATURE_INVALID, f"the {what}'s signature does not verify")
    # A key is rotated out because its private half may be in other hands: a head it signs later is not the log's.
    # A head at the retirement instant itself still verifies, as in verify_log (the store retires a key no earlier
    # than its latest head's time, so an honest last head may carry exactly that instant).
    retired = (retired_ms or {}).get(head.key_id)
    if retired is not None and head.timestamp_ms > retired:
        raise Invalid(
            Failure.KEY_RETIRED,
            f"the {what} was signed by key {head.key_id} at {ms_text(head.timestamp_ms)}, after its retirement at "
            f"{ms_text(retired)}",
        )


def _proof_failure(exc: merkle.ProofError) -> Invalid:
    return Invalid(Failure(exc.reason.value), exc.message)


def verify_receipt(
    obj: Any,
    public_keys: Mapping[str, bytes],
    *,
    origin: str | None = None,
    retired_ms: Mapping[str, int] | None = None,
) -> Receipt:
    """The parsed receipt when it verifies; Invalid otherwise. ``retired_ms``: see ``check_head``."""
    receipt = Receipt.from_obj(obj)
    head = receipt.tree_head
    check_head(head, public_keys, retired_ms=retired_ms)
    if origin is not None and head.origin != origin:
        raise Invalid(Failure.ORIGIN_MISMATCH, f"the head is of log {head.origin}, not {origin}")
    try:
        merkle.verify_inclusion(
            receipt.leaf_index, head.tree_size, receipt.entry.leaf_hash(), receipt.inclusion_proof, head.root_hash
        )
    except merkle.ProofError as exc:
        raise _proof_failure(exc) from None
    return receipt


def verify_consistency(
    old: Any, new: Any, proof: Any, public_keys: Mapping[str, bytes], *, retired_ms: Mapping[str, int] | None = None
) -> tuple[SignedTreeHead, SignedTreeHead]:
    """Both heads signed by given keys (each no later than its key's retirement, ``retired_ms``), of one log, and the
    old tree a prefix of the new; Invalid otherwise."""
    try:
        old_head, new_head = SignedTreeHead.from_obj(old), SignedTreeHead.from_obj(new)
    except ValueError as exc:
        raise Invalid(Failure.MALFORMED, str(exc)) from None
    doc = ConsistencyDocument.from_obj(proof)
    check_head(old_head, public_keys, "old tree head", retired_ms)
    check_head(new_head, public_keys, "new tree head", retired_ms)
    if not old_head.origin == new_head.origin == doc.origin:
        raise Invalid(Failure.ORIGIN_MISMATCH, "the heads and the proof are not all of the same log")
    if (doc.from_tree_size, doc.to_tree_size) != (old_head.tree_size, new_head.tree_size):
        raise Invalid(
            Failure.SIZE_MISMATCH,
            f"the proof is from size {doc.from_tree_size} to {doc.to_tree_size}, "
            f"the heads are of sizes {old_head.tree_size} and {new_head.tree_size}",
        )
    try:
        merkle.verify_consistency(
            old_head.tree_size, new_head.tree_size, old_head.root_hash, new_head.root_hash, doc.proof
        )
    except merkle.ProofError as exc:
        raise _proof_failure(exc) from None
    return old_head, new_head
