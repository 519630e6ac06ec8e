"""Receipts, consistency documents and the offline verifier command: good ones pass, every forgery says why."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.kit import merkle
from services.kit.evidence.entries import Entry, LeafKind
from services.kit.evidence.heads import NodeKey, SignedTreeHead, load_or_create_node_key, parse_public_key
from services.kit.evidence.receipts import (
    ConsistencyDocument,
    Failure,
    Invalid,
    Receipt,
    verify_consistency,
    verify_receipt,
)
from services.kit.evidence.verify import run
from tests.conftest import REPO

ORIGIN = "creditnode/test"
T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


class MemoryLog:
    """A log held in memory, built the way the store builds it, to make receipts without a database."""

    def __init__(self, entries: list[Entry], key: NodeKey, origin: str = ORIGIN) -> None:
        self.entries, self.key, self.origin = entries, key, origin
        self.nodes: dict[merkle.Node, bytes] = {}
        frontier = merkle.Frontier()
        for i, entry in enumerate(entries):
            h = entry.leaf_hash()
            self.nodes[(0, i)] = h
            for level, index, node in frontier.push(h):
                self.nodes[(level, index)] = node

    def read(self, nodes: Any) -> dict[merkle.Node, bytes]:
        return {n: self.nodes[n] for n in nodes}

    def head(self, size: int, key: NodeKey | None = None) -> SignedTreeHead:
        root = merkle.root_at(size, self.read)
        return SignedTreeHead.sign(key or self.key, self.origin, size, root, 1_795_000_000_000 + size)

    def receipt(self, index: int, size: int) -> dict[str, Any]:
        proof = merkle.inclusion_proof(index, size, self.read)
        return Receipt(index, self.entries[index], proof, self.head(size)).to_obj()

    def consistency(self, first: int, second: int) -> dict[str, Any]:
        proof = merkle.consistency_proof(first, second, self.read)
        return ConsistencyDocument(self.origin, first, second, proof).to_obj()


def _entries(n: int, tag: str = "req") -> list[Entry]:
    return [
        Entry(LeafKind.DISCLOSURE, T0 + timedelta(seconds=i), {"request": f"{tag}-{i}", "requester": "platforms/xian"})
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def key() -> NodeKey:
    return NodeKey.generate()


@pytest.fixture(scope="module")
def log(key: NodeKey) -> MemoryLog:
    return MemoryLog(_entries(13), key)


def _keys(*keys: NodeKey) -> dict[str, bytes]:
    return {k.key_id: k.public_bytes for k in keys}


def _reason(fn: Any, *args: Any, **kw: Any) -> Failure:
    with pytest.raises(Invalid) as err:
        fn(*args, **kw)
    assert err.value.message
    return err.value.reason


def _flip(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


# ---- receipts ---------------------------------------------------------------------------------------------------


def test_a_receipt_verifies_and_survives_a_json_round_trip(log: MemoryLog, key: NodeKey) -> None:
    obj = json.loads(json.dumps(log.receipt(5, 13)))
    got = verify_receipt(obj, _keys(key), origin=ORIGIN)
    assert got.leaf_index == 5
    assert got.entry == log.entries[5]
    assert got.tree_head.tree_size == 13
    assert obj["key_id"] == key.key_id


def test_forged_proof_is_rejected(log: MemoryLog, key: NodeKey) -> None:
    obj = log.receipt(5, 13)
    obj["inclusion_proof"][1] = _flip(obj["inclusion_proof"][1])
    assert _reason(verify_receipt, obj, _keys(key)) == Failure.ROOT_MISMATCH


def test_truncated_proof_is_rejected(log: MemoryLog, key: NodeKey) -> None:
    obj = log.receipt(5, 13)
    obj["inclusion_proof"] = obj["inclusion_proof"][:-1]
    assert _reason(verify_receipt, obj, _keys(key)) == Failure.PROOF_TOO_SHORT


def test_wrong_tree_sizes_are_rejected(log: MemoryLog, key: NodeKey) -> None:
    edited = log.receipt(5, 13)
    edited["tree_head"]["tree_size"] = 12  # the signature covers the size
    assert _reason(verify_receipt, edited, _keys(key)) == Failure.SIGNATURE_INVALID
    paired = log.receipt(5, 13)
    paired["tree_head"] = log.head(8).to_obj()  # a genuine head, but of another size than the proof
    assert _reason(verify_receipt, paired, _keys(key)) == Failure.PROOF_TOO_LONG
    beyond = log.receipt(5, 6)
    beyond["leaf_index"] = 6
    assert _reason(verify_receipt, beyond, _keys(key)) == Failure.INDEX_OUT_OF_RANGE


def test_a_head_signed_by_another_key_is_rejected(log: MemoryLog, key: NodeKey) -> None:
    other = NodeKey.generate()
    obj = log.receipt(5, 13)
    obj["tree_head"] = log.head(13, key=other).to_obj()
    obj["key_id"] = other.key_id
    assert _reason(verify_receipt, obj, _keys(key)) == Failure.KEY_UNKNOWN
    obj["tree_head"]["key_id"] = obj["key_id"] = key.key_id  # claims our key, carries the other's signature
    assert _reason(verify_receipt, obj, _keys(key)) == Failure.SIGNATURE_INVALID


def test_one_altered_leaf_is_rejected(log: MemoryLog, key: NodeKey) -> None:
    obj = log.receipt(5, 13)
    obj["leaf"]["payload"]["requester"] = "platforms/baoji"
    assert _reason(verify_receipt, obj, _keys(key)) == Failure.LEAF_HASH_MISMATCH
    del obj["leaf_hash"]  # a forger who also drops the stated hash still meets the signed root
    assert _reason(verify_receipt, obj, _keys(key)) == Failure.ROOT_MISMATCH


def test_reordered_leaves_are_rejected(log: MemoryLog, key: NodeKey) -> None:
    five, six = log.receipt(5, 13), log.receipt(6, 13)
    five["leaf"], five["leaf_hash"] = six["leaf"], six["leaf_hash"]  # leaf 6 claimed at index 5
    assert _reason(verify_receipt, five, _keys(key)) == Failure.ROOT_MISMATCH
    swapped = [*log.entries]
    swapped[5], swapped[6] = swapped[6], swapped[5]
    reordered = MemoryLog(swapped, key)  # a log that rewrote its order and signed it
    assert _reason(verify_receipt, log.receipt(5, 13) | {"tree_head": reordered.head(13).to_obj()}, _keys(key)) == (
        Failure.ROOT_MISMATCH
    )


def test_malformed_receipts_and_foreign_origins_are_rejected(log: MemoryLog, key: NodeKey) -> None:
    obj = log.receipt(5, 13)
    for broken in [
        {k: v for k, v in obj.items() if k != "leaf_index"},
        obj | {"inclusion_proof": ["not base64!"]},
        obj | {"format": "something-else"},
        obj | {"key_id": "0000000000000000"},
        obj | {"tree_head": {**obj["tree_head"], "root_hash": base64.b64encode(b"short").decode()}},
        "not an object",
    ]:
        assert _reason(verify_receipt, broken, _keys(key)) == Failure.MALFORMED
    assert _reason(verify_receipt, obj, _keys(key), origin="creditnode/consent") == Failure.ORIGIN_MISMATCH


def test_a_leaf_that_is_not_exactly_its_canonical_form_is_rejected(log: MemoryLog, key: NodeKey) -> None:
    # Each reads back as the hashed entry, yet the text is not the bytes the leaf hash covers.
    good = log.receipt(5, 13)
    year = good["leaf"]["created_at"][:4]
    for created_at in [
        good["leaf"]["created_at"].replace(year, year.translate(str.maketrans("0123456789", "０１２３４５６７８９"))),
        good["leaf"]["created_at"].replace(year, year.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))),
    ]:
        obj = copy.deepcopy(good)
        obj["leaf"]["created_at"] = created_at
        assert _reason(verify_receipt, obj, _keys(key)) == Failure.MALFORMED
    for version in [1.0, True]:
        obj = copy.deepcopy(good)
        obj["leaf"]["v"] = version
        assert _reason(verify_receipt, obj, _keys(key)) == Failure.MALFORMED


def test_verifier_command_rejects_repeated_keys(tmp_path: Path, log: MemoryLog, key: NodeKey) -> None:
    b64 = base64.b64encode(key.public_bytes).decode()
    text = json.dumps(log.receipt(8, 13), ensure_ascii=False)  # (a test above alters leaf 5's payload in place)
    path = tmp_path / "receipt.json"
    path.write_text(text, encoding="utf-8")
    assert run(["receipt", str(path), "--public-key", b64])[0] == 0
    # A reader taking the first value sees another requester; Python's json alone keeps the last.
    forged = text.replace(
        '"requester": "platforms/xian"', '"requester": "platforms/baoji", "requester": "platforms/xian"'
    )
    assert forged != text
    path.write_text(forged, encoding="utf-8")
    status, line = run(["receipt", str(path), "--public-key", b64])
    assert (status, line.split(":")[1].strip()) == (1, "MALFORMED")
    wrapped = tmp_path / "wrapped.json"  # a GetInclusionProof response carrying the receipt as a string
    wrapped.write_text(json.dumps({"receiptJson": forged}), encoding="utf-8")
    status, line = run(["receipt", str(wrapped), "--public-key", b64])
    assert (status, line.split(":")[1].strip()) == (1, "MALFORMED")
    package = tmp_path / "package.json"
    package.write_text('{"format": "creditnode.evidence.v1.DisputePackage", "dispute": {}, "dispute": {}}')
    status, line = run(["package", str(package), "--public-key", b64])
    assert (status, line.split(":")[1].strip()) == (1, "MALFORMED")
    nan = tmp_path / "nan.json"
    nan.write_text(text.replace('"leaf_index": 8', '"leaf_index": NaN'), encoding="utf-8")
    assert run(["receipt", str(nan), "--public-key", b64])[0] == 1


# ---- consistency ------------------------------------------------------------------------------------------------


def test_consistency_between_two_heads_verifies(log: MemoryLog, key: NodeKey) -> None:
    old, new = verify_consistency(log.head(6).to_obj(), log.head(13).to_obj(), log.consistency(6, 13), _keys(key))
    assert (old.tree_size, new.tree_size) == (6, 13)
    verify_consistency(log.head(13).to_obj(), log.head(13).to_obj(), log.consistency(13, 13), _keys(key))


def test_bad_consistency_documents_are_rejected_with_their_reason(log: MemoryLog, key: NodeKey) -> None:
    old, new, doc = log.head(6).to_obj(), log.head(13).to_obj(), log.consistency(6, 13)
    keys = _keys(key)
    assert _reason(verify_consistency, old, new, doc | {"proof": doc["proof"][:-1]}, keys) == Failure.PROOF_TOO_SHORT
    forged = doc | {"proof": [_flip(doc["proof"][0]), *doc["proof"][1:]]}
    assert _reason(verify_consistency, old, new, forged, keys) == Failure.ROOT_MISMATCH
    assert _reason(verify_consistency, old, new, doc | {"to_tree_size": 12}, keys) == Failure.SIZE_MISMATCH
    assert _reason(verify_consistency, log.head(7).to_obj(), new, doc, keys) == Failure.SIZE_MISMATCH
    backwards = log.consistency(6, 13) | {"from_tree_size": 13, "to_tree_size": 6}
    assert _reason(verify_consistency, new, old, backwards, keys) == Failure.SIZE_ORDER
    other = NodeKey.generate()
    assert _reason(verify_consistency, old, log.head(13, other).to_obj(), doc, keys) == Failure.KEY_UNKNOWN
    elsewhere = MemoryLog(log.entries, key, origin="creditnode/consent")
    assert _reason(verify_consistency, old, elsewhere.head(13).to_obj(), doc, keys) == Failure.ORIGIN_MISMATCH
    assert _reason(verify_consistency, old, new, {"format": "x"}, keys) == Failure.MALFORMED


def test_a_rewritten_history_is_not_consistent_with_the_old_head(log: MemoryLog, key: NodeKey) -> None:
    keys = _keys(key)
    altered = [*log.entries]
    altered[2] = Entry(LeafKind.DISCLOSURE, altered[2].created_at, {"request": "req-2", "requester": "platforms/x"})
    reordered = [*log.entries]
    reordered[0], reordered[1] = reordered[1], reordered[0]
    for history in (altered, reordered):
        rewritten = MemoryLog(history, key)  # the operator signs its rewritten tree with the real key
        doc = rewritten.consistency(6, 13)
        assert _reason(verify_consistency, log.head(6).to_obj(), rewritten.head(13).to_obj(), doc, keys) == (
            Failure.ROOT_MISMATCH
        )


# ---- the command ------------------------------------------------------------------------------------------------


def _write(path: Path, obj: Any) -> str:
    path.write_text(json.dumps(obj))
    return str(path)


def test_verifier_command_accepts_good_documents_with_pem_or_base64_keys(
    tmp_path: Path, log: MemoryLog, key: NodeKey
) -> None:
    pem = tmp_path / "node.pub"
    pem.write_text(key.public_pem())
    b64 = base64.b64encode(key.public_bytes).decode()
    old_key = base64.b64encode(NodeKey.generate().public_bytes).decode()
    receipt = _write(tmp_path / "receipt.json", log.receipt(3, 13))
    status, line = run(["receipt", receipt, "--public-key", str(pem), "--origin", ORIGIN])
    assert (status, line.split(":")[0]) == (0, "valid")
    status, _ = run(["receipt", receipt, "--public-key", old_key, "--public-key", b64])
    assert status == 0
    old = _write(tmp_path / "old.json", log.head(6).to_obj())
    new = _write(tmp_path / "new.json", log.head(13).to_obj())
    proof = _write(tmp_path / "proof.json", log.consistency(6, 13))
    status, line = run(["consistency", old, new, proof, "--public-key", b64])
    assert (status, line.split(":")[0]) == (0, "valid")


def test_verifier_command_rejects_bad_documents_with_the_reason(tmp_path: Path, log: MemoryLog, key: NodeKey) -> None:
    b64 = base64.b64encode(key.public_bytes).decode()
    other = base64.b64encode(NodeKey.generate().public_bytes).decode()
    altered = copy.deepcopy(log.receipt(3, 13))
    altered["leaf"]["payload"]["request"] = "req-4"
    cases = [
        (["receipt", _write(tmp_path / "altered.json", altered), "--public-key", b64], "LEAF_HASH_MISMATCH"),
        (["receipt", _write(tmp_path / "good.json", log.receipt(3, 13)), "--public-key", other], "KEY_UNKNOWN"),
        (["receipt", str(tmp_path / "missing.json"), "--public-key", b64], "MALFORMED"),
        (["receipt", _write(tmp_path / "good2.json", log.receipt(3, 13)), "--public-key", "bm9wZQ=="], "MALFORMED"),
    ]
    reordered = log.receipt(3, 13)
    reordered["leaf"], reordered["leaf_hash"] = log.receipt(4, 13)["leaf"], log.receipt(4, 13)["leaf_hash"]
    cases.append((["receipt", _write(tmp_path / "reordered.json", reordered), "--public-key", b64], "ROOT_MISMATCH"))
    (tmp_path / "truncated.json").write_text(json.dumps(log.receipt(3, 13))[:200])
    cases.append((["receipt", str(tmp_path / "truncated.json"), "--public-key", b64], "MALFORMED"))
    old = _write(tmp_path / "old.json", log.head(6).to_obj())
    new = _write(tmp_path / "new.json", log.head(13).to_obj())
    doc = log.consistency(6, 13)
    short = _write(tmp_path / "short.json", doc | {"proof": doc["proof"][:1]})
    cases.append((["consistency", old, new, short, "--public-key", b64], "PROOF_TOO_SHORT"))
    wrong = _write(tmp_path / "wrong.json", doc | {"from_tree_size": 5})
    cases.append((["consistency", old, new, wrong, "--public-key", b64], "SIZE_MISMATCH"))
    for argv, reason in cases:
        status, line = run(argv)
        assert status == 1, argv
        assert line.startswith(f"invalid: {reason}: "), line


def test_verifier_command_binds_keys_to_their_log(tmp_path: Path, log: MemoryLog, key: NodeKey) -> None:
    b64 = base64.b64encode(key.public_bytes).decode()
    receipt = _write(tmp_path / "receipt.json", log.receipt(3, 13))
    old = _write(tmp_path / "old.json", log.head(6).to_obj())
    new = _write(tmp_path / "new.json", log.head(13).to_obj())
    proof = _write(tmp_path / "proof.json", log.consistency(6, 13))
    for bound, want in [(f"{ORIGIN}={b64}", 0), ("creditnode/consent=" + b64, 1)]:
        assert run(["receipt", receipt, "--public-key", bound])[0] == want
        status, line = run(["consistency", old, new, proof, "--public-key", bound])
        assert status == want, line
        if want:
            assert line.startswith("invalid: KEY_UNKNOWN: ")
    pem = tmp_path / "key=a.pem"  # a file whose name holds '=' is still a plain key
    pem.write_text(key.public_pem())
    assert run(["receipt", receipt, "--public-key", str(pem)])[0] == 0


def test_verifier_reads_protobuf_json_as_printed_by_buf_curl(tmp_path: Path, log: MemoryLog, key: NodeKey) -> None:
    def as_proto_json(head: SignedTreeHead) -> dict[str, Any]:
        stamp = datetime.fromtimestamp(head.timestamp_ms / 1000, UTC).isoformat(timespec="milliseconds")
        return {
            "treeHead": {
                "origin": head.origin,
                "treeSize": str(head.tree_size),
                "rootHash": base64.b64encode(head.root_hash).decode(),
                "timestamp": stamp.replace("+00:00", "Z"),
                "keyId": head.key_id,
                "signature": base64.b64encode(head.signature).decode(),
            }
        }

    old = _write(tmp_path / "old.json", as_proto_json(log.head(6)))
    new = _write(tmp_path / "new.json", as_proto_json(log.head(13)))
    proof = _write(tmp_path / "proof.json", {"proofJson": json.dumps(log.consistency(6, 13))})
    receipt = _write(tmp_path / "receipt.json", {"receiptJson": json.dumps(log.receipt(0, 13))})
    b64 = base64.b64encode(key.public_bytes).decode()
    assert run(["consistency", old, new, proof, "--public-key", b64])[0] == 0
    assert run(["receipt", receipt, "--public-key", b64])[0] == 0


def test_python_dash_m_verifier_exits_0_or_1(tmp_path: Path, log: MemoryLog, key: NodeKey) -> None:
    b64 = base64.b64encode(key.public_bytes).decode()
    good = _write(tmp_path / "good.json", log.receipt(7, 13))
    forged = log.receipt(7, 13)
    forged["inclusion_proof"][0] = _flip(forged["inclusion_proof"][0])
    bad = _write(tmp_path / "bad.json", forged)
    command = [sys.executable, "-m", "services.kit.evidence.verify", "receipt"]
    ok = subprocess.run([*command, good, "--public-key", b64], cwd=REPO, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("valid: leaf 7 (DISCLOSURE)")
    no = subprocess.run([*command, bad, "--public-key", b64], cwd=REPO, capture_output=True, text=True, check=False)
    assert no.returncode == 1, no.stderr
    assert no.stdout.startswith("invalid: ROOT_MISMATCH: ")


def test_node_keys_persist_with_private_permissions(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "evidence.pem"
    first = load_or_create_node_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_node_key(path).key_id == first.key_id
    assert parse_public_key(first.public_pem()) == first.public_bytes
    with pytest.raises(ValueError, match="32 bytes"):
        parse_public_key(base64.b64encode(b"short").decode())
