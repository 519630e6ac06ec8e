"""Offline verifier: ``python -m services.kit.evidence.verify receipt|consistency … --public-key KEY``.

    python -m services.kit.evidence.verify receipt RECEIPT.json --public-key KEY [--public-key OLD_KEY]
    python -m services.kit.evidence.verify consistency OLD_STH.json NEW_STH.json PROOF.json --public-key KEY
    python -m services.kit.evidence.verify package PACKAGE.json --public-key GATEWAY_KEY --public-key CONSENT_KEY

KEY is a file (PEM public key, or base64 of the raw 32 bytes) or the base64 text itself; repeat it to accept heads
signed by older (rotated) keys. Tree heads, receipts and proofs are the JSON the log hands out (``receipt_json``,
``proof_json``; a head as ``SignedTreeHead.to_json``, or a ``GetSignedTreeHead`` response printed by ``buf curl``).
Prints ``valid: …`` and exits 0, or ``invalid: REASON: …`` and exits 1. Needs no network and no database.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from services.kit.evidence.entries import loads_strict
from services.kit.evidence.heads import key_id_of, parse_public_key
from services.kit.evidence.package import verify_package
from services.kit.evidence.receipts import Failure, Invalid, verify_consistency, verify_receipt


def _load_json(path: str) -> Any:
    try:
        return loads_strict(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise Invalid(Failure.MALFORMED, f"{path} is not readable JSON ({type(exc).__name__})") from None


def _head_obj(obj: Any) -> Any:
    """Accept our head JSON, or the protobuf JSON of a head or of a GetSignedTreeHead response (``buf curl``)."""
    if isinstance(obj, dict) and "treeHead" in obj:
        obj = obj["treeHead"]
    if isinstance(obj, dict) and "treeSize" in obj:
        try:
            stamp = datetime.fromisoformat(str(obj["timestamp"]).replace("Z", "+00:00"))
            return {
                "origin": obj.get("origin"),
                "tree_size": int(obj["treeSize"]),
                "root_hash": obj.get("rootHash"),
                "timestamp_ms": round(stamp.timestamp() * 1000),
                "key_id": obj.get("keyId"),
                "signature": obj.get("signature"),
            }
        except (KeyError, TypeError, ValueError):
            raise Invalid(Failure.MALFORMED, "the protobuf JSON tree head is incomplete") from None
    return obj


def _unwrap(obj: Any, field: str) -> Any:
    """A ``GetInclusionProof``/``GetConsistencyProof`` response (protobuf JSON) carries the document as a string."""
    if isinstance(obj, dict) and isinstance(obj.get(field), str):
        try:
            return loads_strict(obj[field])
        except ValueError as exc:
            raise Invalid(Failure.MALFORMED, f"{field} is not JSON ({exc})") from None
    return obj


def _keys(specs: Sequence[str]) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for spec in specs:
        path = Path(spec)
        text = path.read_text(encoding="utf-8") if path.is_file() else spec
        raw = parse_public_key(text)
        keys[key_id_of(raw)] = raw
    return keys


def run(argv: Sequence[str] | None = None) -> tuple[int, str]:
    """Exit status and the one line to print."""
    parser = argparse.ArgumentParser(prog="python -m services.kit.evidence.verify", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    receipt = sub.add_parser("receipt", help="check a receipt: the leaf is in the tree a signed head commits to")
    receipt.add_argument("receipt")
    receipt.add_argument("--origin", help="also require the head to be of this log, e.g. creditnode/gateway")
    consistency = sub.add_parser("consistency", help="check that an older signed tree is a prefix of a newer one")
    consistency.add_argument("old_head")
    consistency.add_argument("new_head")
    consistency.add_argument("proof")
    package = sub.add_parser("package", help="check a loan-dispute evidence package: every proof and its signature")
    package.add_argument("package")
    for p in (receipt, consistency, package):
        p.add_argument("--public-key", action="append", required=True, help="file or base64; repeat for old keys")
    args = parser.parse_args(argv)
    try:
        keys = _keys(args.public_key)
    except (OSError, ValueError) as exc:
        return 1, f"invalid: {Failure.MALFORMED}: public key: {exc}"
    try:
        if args.command == "receipt":
            r = verify_receipt(_unwrap(_load_json(args.receipt), "receiptJson"), keys, origin=args.origin)
            head = r.tree_head
            return 0, (
                f"valid: leaf {r.leaf_index} ({r.entry.kind.value}) is in {head.origin} at tree size "
                f"{head.tree_size}, head signed by key {head.key_id}"
            )
        if args.command == "package":
            summary = verify_package(_unwrap(_load_json(args.package), "packageJson"), keys)
            return 0, (
                f"valid: package for dispute {summary.reference}: {summary.authorizations} authorizations "
                f"({summary.consent_events} consent events), {summary.disclosures} disclosures, "
                f"{summary.records} record hashes"
            )
        old, new = verify_consistency(
            _head_obj(_load_json(args.old_head)),
            _head_obj(_load_json(args.new_head)),
            _unwrap(_load_json(args.proof), "proofJson"),
            keys,
        )
        return 0, f"valid: {old.origin} at tree size {old.tree_size} is a prefix of tree size {new.tree_size}"
    except Invalid as exc:
        return 1, f"invalid: {exc.reason}: {exc.message}"


def main(argv: Sequence[str] | None = None) -> None:
    status, line = run(argv)
    print(line)
    sys.exit(status)


if __name__ == "__main__":
    main()
