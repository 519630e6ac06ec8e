"""RFC 6962 / RFC 9162 Merkle tree hashing: roots, inclusion and consistency proofs, and their verification.

Hashes are SHA-256 with domain separation: a leaf is ``SHA-256(0x00 || data)`` and an inner node is
``SHA-256(0x01 || left || right)``; the empty tree's root is ``SHA-256("")``.

Proof generation never needs the whole tree. A proof is a list of hashes of leaf ranges ``[start, end)``, and every
such range splits into at most ``log2(n)`` *perfect* subtrees (aligned blocks of ``2**level`` leaves). A store that
keeps the hash of each perfect subtree, addressed as ``(level, index)``, answers any proof with ``O(log n)`` lookups;
``inclusion_proof`` and ``consistency_proof`` ask for all of them at once through a ``NodeReader``.

Verification follows RFC 9162 section 2.1.3.2 and 2.1.4.2, plus the edge cases of the transparency-dev test vectors:
a consistency proof from the empty tree is refused (it proves nothing), and equal sizes need an empty proof.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import StrEnum

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

# (level, index): the perfect subtree covering leaves [index * 2**level, (index + 1) * 2**level).
Node = tuple[int, int]
# Returns the hash of every requested perfect subtree; a missing one is a storage fault (KeyError).
NodeReader = Callable[[Sequence[Node]], Mapping[Node, bytes]]


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf's data."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node from its two children."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2): where RFC 6962 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """The root of a whole tree given all its leaf hashes (in memory; for small trees, tests and recomputation)."""
    if not hashes:
        return EMPTY_ROOT
    frontier = Frontier()
    for h in hashes:
        frontier.push(h)
    return frontier.root()


class Frontier:
    """The right edge of a growing tree: one perfect subtree per set bit of its size, enough to append and to root.

    ``push`` returns the perfect subtrees it completes (level >= 1), which is what a store persists.
    """

    def __init__(self, size: int = 0, hashes: Mapping[int, bytes] | None = None) -> None:
        self.size = size
        # level -> hash of the perfect subtree at that level on the right edge.
        self.levels: dict[int, bytes] = dict(hashes or {})
        if sorted(self.levels) != frontier_levels(size):
            raise ValueError("frontier hashes do not match the tree size")

    def push(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Append one leaf hash; return the (level, index, hash) of each perfect subtree it completes."""
        completed: list[tuple[int, int, bytes]] = []
        cur, level, index = leaf, 0, self.size
        while index & 1:
            cur = node_hash(self.levels.pop(level), cur)
            level, index = level + 1, index >> 1
            completed.append((level, index, cur))
        self.levels[level] = cur
        self.size += 1
        return completed

    def root(self) -> bytes:
        """The root of the tree so far."""
        if self.size == 0:
            return EMPTY_ROOT
        acc: bytes | None = None
        for level in sorted(self.levels):  # smallest (right-most) subtree first
            acc = self.levels[level] if acc is None else node_hash(self.levels[level], acc)
        assert acc is not None
        return acc


def frontier_levels(size: int) -> list[int]:
    """The levels of the perfect subtrees on the right edge of a tree of ``size`` leaves, lowest first."""
    return [level for level in range(size.bit_length()) if size >> level & 1]


def frontier_nodes(size: int) -> list[Node]:
    """The perfect subtrees that together cover leaves [0, size)."""
    return [(level, (size >> level) - 1) for level in frontier_levels(size)]


def perfect_cover(start: int, end: int) -> list[Node]:
    """Split [start, end) into perfect subtrees, largest first; RFC 6962 ranges always split this way."""
    nodes: list[Node] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start % (1 << level):
            raise ValueError(f"range [{start}, {end}) is not aligned like an RFC 6962 subtree")
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def fold_cover(hashes: Sequence[bytes]) -> bytes:
    """The hash of a range from the hashes of its perfect cover (largest first): fold from the right."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form PATH(index, D[size]) of RFC 6962 section 2.1.1, in proof order."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not below tree size {size}")
    ranges: list[tuple[int, int]] = []
    start, m, n = 0, index, size
    while n > 1:
        k = _split(n)
        if m < k:
            ranges.append((start + k, start + n))
            n = k
        else:
            ranges.append((start, start + k))
            start, m, n = start + k, m - k, n - k
    return ranges[::-1]  # the deepest sibling comes first


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form PROOF(first, D[second]) of RFC 6962 section 2.1.2, in proof order."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    ranges: list[tuple[int, int]] = []
    start, m, n, whole = 0, first, second, True
    while m != n:
        k = _split(n)
        if m <= k:
            ranges.append((start + k, start + n))
            n = k
        else:
            ranges.append((start, start + k))
            start, m, n, whole = start + k, m - k, n - k, False
    if not whole:
        ranges.append((start, start + n))
    return ranges[::-1]


def _range_hashes(ranges: Sequence[tuple[int, int]], read: NodeReader) -> list[bytes]:
    covers = [perfect_cover(s, e) for s, e in ranges]
    wanted = list(dict.fromkeys(node for cover in covers for node in cover))
    found = read(wanted) if wanted else {}
    return [fold_cover([found[node] for node in cover]) for cover in covers]


def inclusion_proof(index: int, size: int, read: NodeReader) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves, with one batched read of O(log n) nodes."""
    return _range_hashes(inclusion_ranges(index, size), read)


def consistency_proof(first: int, second: int, read: NodeReader) -> list[bytes]:
    """The proof that the tree of ``first`` leaves is a prefix of the tree of ``second`` leaves."""
    return _range_hashes(consistency_ranges(first, second), read)


def root_at(size: int, read: NodeReader) -> bytes:
    """The root of the first ``size`` leaves, from the O(log n) perfect subtrees that cover them."""
    if size == 0:
        return EMPTY_ROOT
    return _range_hashes([(0, size)], read)[0]


class ProofFailure(StrEnum):
    """Why a proof was rejected; the verifier prints these."""

    MALFORMED_HASH = "MALFORMED_HASH"
    INDEX_OUT_OF_RANGE = "INDEX_OUT_OF_RANGE"
    SIZE_ORDER = "SIZE_ORDER"
    EMPTY_TREE = "EMPTY_TREE"
    PROOF_TOO_SHORT = "PROOF_TOO_SHORT"
    PROOF_TOO_LONG = "PROOF_TOO_LONG"
    ROOT_MISMATCH = "ROOT_MISMATCH"


class ProofError(ValueError):
    """A proof that does not hold; ``reason`` says which check failed."""

    def __init__(self, reason: ProofFailure, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


def _check_hashes(what: str, hashes: Iterable[bytes]) -> None:
    for i, h in enumerate(hashes):
        if len(h) != HASH_SIZE:
            raise ProofError(ProofFailure.MALFORMED_HASH, f"{what}[{i}] is {len(h)} bytes, not {HASH_SIZE}")


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` leads to from ``leaf`` at ``index`` (RFC 9162 section 2.1.3.2)."""
    if not 0 <= index < size:
        raise ProofError(ProofFailure.INDEX_OUT_OF_RANGE, f"leaf index {index} is not below tree size {size}")
    _check_hashes("leaf hash", [leaf])
    _check_hashes("proof", proof)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError(ProofFailure.PROOF_TOO_LONG, f"proof has more than the needed hashes for size {size}")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(ProofFailure.PROOF_TOO_SHORT, f"proof of {len(proof)} hashes is too short for size {size}")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Accept (return) or reject (ProofError) the claim that ``leaf`` sits at ``index`` in the tree with ``root``."""
    _check_hashes("root", [root])
    got = root_from_inclusion_proof(index, size, leaf, proof)
    if got != root:
        raise ProofError(ProofFailure.ROOT_MISMATCH, "the proof leads to a different root")


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> None:
    """Accept (return) or reject (ProofError) the claim that tree ``first`` is a prefix of tree ``second``."""
    if first > second:
        raise ProofError(ProofFailure.SIZE_ORDER, f"first size {first} is larger than second size {second}")
    if first == 0:
        raise ProofError(ProofFailure.EMPTY_TREE, "a consistency proof from the empty tree proves nothing")
    if first == second:
        if proof:
            raise ProofError(ProofFailure.PROOF_TOO_LONG, "equal sizes need an empty proof")
        if first_root != second_root:
            raise ProofError(ProofFailure.ROOT_MISMATCH, "equal sizes but different roots")
        return
    if not proof:
        raise ProofError(ProofFailure.PROOF_TOO_SHORT, "different sizes need a non-empty proof")
    _check_hashes("first root", [first_root])
    _check_hashes("second root", [second_root])
    _check_hashes("proof", proof)
    fr, sr = _roots_from_consistency_proof(first, second, first_root, proof)
    if fr != first_root:
        raise ProofError(ProofFailure.ROOT_MISMATCH, "the proof does not lead to the first root")
    if sr != second_root:
        raise ProofError(ProofFailure.ROOT_MISMATCH, "the proof does not lead to the second root")


def _roots_from_consistency_proof(
    first: int, second: int, first_root: bytes, proof: Sequence[bytes]
) -> tuple[bytes, bytes]:
    """The two roots a consistency proof leads to (RFC 9162 section 2.1.4.2, steps 1-6)."""
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the old root is itself a node of the new tree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(ProofFailure.PROOF_TOO_LONG, "proof has more than the needed hashes")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(ProofFailure.PROOF_TOO_SHORT, f"proof of {len(proof)} hashes is too short")
    return fr, sr
