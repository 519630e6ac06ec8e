"""RFC 6962 / 9162 Merkle proofs: the shared test vectors, and proofs we generate from stored subtrees."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from services.kit import merkle
from tests.conftest import SHARED_TESTDATA

VECTORS = SHARED_TESTDATA / "merkle"
INCLUSION = sorted((VECTORS / "inclusion").rglob("*.json"))
CONSISTENCY = sorted((VECTORS / "consistency").rglob("*.json"))

# The 8-leaf reference tree of RFC 6962's test suite, of which every vector's tree is a prefix.
REFERENCE_LEAVES = [
    bytes.fromhex(h)
    for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]

# Tampered variants whose failing check is always the same, whatever the tree.
EXPECTED_REASON = {
    "modified-proof": merkle.ProofFailure.ROOT_MISMATCH,
    "swapped-roots": merkle.ProofFailure.ROOT_MISMATCH,
    "random-root": merkle.ProofFailure.ROOT_MISMATCH,
    "truncated-proof": merkle.ProofFailure.PROOF_TOO_SHORT,
    "empty-proof": merkle.ProofFailure.PROOF_TOO_SHORT,
    "removed-component": merkle.ProofFailure.PROOF_TOO_SHORT,
    "inserted-component": merkle.ProofFailure.PROOF_TOO_LONG,
    "trailing-root": merkle.ProofFailure.PROOF_TOO_LONG,
    "preceding-garbage": merkle.ProofFailure.MALFORMED_HASH,
    "trailing-garbage": merkle.ProofFailure.MALFORMED_HASH,
    "size1-is-greater-than-size2": merkle.ProofFailure.SIZE_ORDER,
}


def _b64(text: str) -> bytes:
    return base64.b64decode(text) if text else b""


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _id(path: Path) -> str:
    return str(path.relative_to(VECTORS))


def _expected_reason(path: Path) -> merkle.ProofFailure | None:
    return next((reason for prefix, reason in EXPECTED_REASON.items() if path.name.startswith(prefix)), None)


def test_vectors_are_found() -> None:
    assert len(INCLUSION) > 50
    assert len(CONSISTENCY) > 50


@pytest.mark.parametrize("path", INCLUSION, ids=_id)
def test_inclusion_vector(path: Path) -> None:
    v = _load(path)
    args = (v["leafIdx"], v["treeSize"], _b64(v["leafHash"]), [_b64(p) for p in v["proof"] or []], _b64(v["root"]))
    if not v["wantErr"]:
        merkle.verify_inclusion(*args)
        return
    with pytest.raises(merkle.ProofError) as err:
        merkle.verify_inclusion(*args)
    assert err.value.message
    expected = _expected_reason(path)
    assert expected is None or err.value.reason == expected


@pytest.mark.parametrize("path", CONSISTENCY, ids=_id)
def test_consistency_vector(path: Path) -> None:
    v = _load(path)
    args = (v["size1"], v["size2"], _b64(v["root1"]), _b64(v["root2"]), [_b64(p) for p in v["proof"] or []])
    if not v["wantErr"]:
        merkle.verify_consistency(*args)
        return
    with pytest.raises(merkle.ProofError) as err:
        merkle.verify_consistency(*args)
    assert err.value.message
    expected = _expected_reason(path)
    assert expected is None or err.value.reason == expected


class MemoryTree:
    """Every perfect subtree of a tree held in memory, addressed like the store addresses them."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.nodes: dict[merkle.Node, bytes] = {}
        self.reads: list[int] = []
        frontier = merkle.Frontier()
        for i, data in enumerate(leaves):
            h = merkle.leaf_hash(data)
            self.nodes[(0, i)] = h
            for level, index, node in frontier.push(h):
                self.nodes[(level, index)] = node
        self.frontier = frontier

    def read(self, nodes: Any) -> dict[merkle.Node, bytes]:
        self.reads.append(len(nodes))
        return {n: self.nodes[n] for n in nodes}


def _naive_root(hashes: list[bytes]) -> bytes:
    """MTH of RFC 6962 section 2.1, literally recursive."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return merkle.node_hash(_naive_root(hashes[:k]), _naive_root(hashes[k:]))


def test_generated_proofs_equal_the_vectors() -> None:
    tree = MemoryTree(REFERENCE_LEAVES)
    for path in sorted((VECTORS / "inclusion").glob("[0-9]/happy-path.json")):
        v = _load(path)
        if v["treeSize"] > 8 or v["treeSize"] < 1:
            continue
        got = merkle.inclusion_proof(v["leafIdx"], v["treeSize"], tree.read)
        assert got == [_b64(p) for p in v["proof"] or []], path
        assert merkle.root_at(v["treeSize"], tree.read) == _b64(v["root"])
        assert tree.nodes[(0, v["leafIdx"])] == _b64(v["leafHash"])
    for path in sorted((VECTORS / "consistency").glob("[0-9]/happy-path.json")):
        v = _load(path)
        got = merkle.consistency_proof(v["size1"], v["size2"], tree.read)
        assert got == [_b64(p) for p in v["proof"] or []], path
        assert merkle.root_at(v["size1"], tree.read) == _b64(v["root1"])
        assert merkle.root_at(v["size2"], tree.read) == _b64(v["root2"])


def test_every_proof_of_small_trees_verifies_and_roots_match_the_rfc_definition() -> None:
    leaves = [f"leaf-{i}".encode() for i in range(70)]
    tree = MemoryTree(leaves)
    hashes = [merkle.leaf_hash(d) for d in leaves]
    for size in range(1, len(leaves) + 1):
        root = merkle.root_at(size, tree.read)
        assert root == _naive_root(hashes[:size]) == merkle.root_from_leaf_hashes(hashes[:size])
        for index in range(size):
            proof = merkle.inclusion_proof(index, size, tree.read)
            merkle.verify_inclusion(index, size, hashes[index], proof, root)
        for first in range(1, size + 1):
            proof = merkle.consistency_proof(first, size, tree.read)
            merkle.verify_consistency(first, size, merkle.root_at(first, tree.read), root, proof)
    assert tree.frontier.root() == _naive_root(hashes)
    assert merkle.root_from_leaf_hashes([]) == merkle.EMPTY_ROOT


def test_a_proof_in_a_million_leaf_tree_reads_few_nodes_in_one_batch() -> None:
    # Sizes only matter here: a reader that invents hashes shows how many nodes one proof needs.
    reads: list[int] = []

    def read(nodes: Any) -> dict[merkle.Node, bytes]:
        reads.append(len(nodes))
        return {n: hashlib.sha256(repr(n).encode()).digest() for n in nodes}

    size = 1_000_003
    for index in (0, 1, 524_287, 999_999, size - 1):
        reads.clear()
        proof = merkle.inclusion_proof(index, size, read)
        assert len(reads) == 1
        assert reads[0] <= 2 * size.bit_length()
        assert len(proof) <= size.bit_length()


def test_a_leaf_at_another_index_or_with_another_root_is_rejected() -> None:
    tree = MemoryTree([b"a", b"b", b"c", b"d", b"e"])
    root = merkle.root_at(5, tree.read)
    proof = merkle.inclusion_proof(2, 5, tree.read)
    merkle.verify_inclusion(2, 5, tree.nodes[(0, 2)], proof, root)
    with pytest.raises(merkle.ProofError) as err:
        merkle.verify_inclusion(3, 5, tree.nodes[(0, 2)], proof, root)
    assert err.value.reason == merkle.ProofFailure.ROOT_MISMATCH
    with pytest.raises(merkle.ProofError) as err:
        merkle.verify_inclusion(2, 5, tree.nodes[(0, 3)], proof, root)
    assert err.value.reason == merkle.ProofFailure.ROOT_MISMATCH
    with pytest.raises(merkle.ProofError) as err:
        merkle.verify_inclusion(5, 5, tree.nodes[(0, 2)], proof, root)
    assert err.value.reason == merkle.ProofFailure.INDEX_OUT_OF_RANGE


def test_frontier_refuses_hashes_that_do_not_fit_its_size() -> None:
    with pytest.raises(ValueError, match="frontier"):
        merkle.Frontier(3, {0: b"x" * 32})
    with pytest.raises(ValueError, match="aligned"):
        merkle.perfect_cover(1, 4)
