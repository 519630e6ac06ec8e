"""Offline verifier: ``python -m services.kit.evidence.verify receipt|consistency|package … --public-key KEY``.

    python -m services.kit.evidence.verify receipt RECEIPT.json --public-key KEY [--public-key OLD_KEY]
    python -m services.kit.evidence.verify consistency OLD_STH.json NEW_STH.json PROOF.json --public-key KEY
    python -m services.kit.evidence.verify package PACKAGE.json \\
        --public-key creditnode/gateway=GATEWAY_KEY --public-key creditnode/consent=CONSENT_KEY

KEY is a file (PEM public key, or base64 of the raw 32 bytes) or the base64 text itself; repeat it to accept heads
signed by older (rotated) keys. ``ORIGIN=KEY`` binds a key to one log: it verifies only heads of that origin. A
receipt or a consistency proof is of one log, so a plain KEY is taken as that log's; a package holds heads of two
logs, so each of its keys must be bound (``creditnode/gateway=…`` also verifies the package's signature).
Tree heads, receipts and proofs are the JSON the log hands out (``receipt_json``, ``proof_json``; a head as
``SignedTreeHead.to_json``, or a ``GetSignedTreeHead`` response printed by ``buf curl``). Prints ``valid: …`` and
exits 0, or ``invalid: REASON: …`` and exits 1. Needs no network and no database. Repeated JSON keys are refused.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from services.kit.evidence.entries import loads_strict
from services.kit.evidence.heads import check_origin, key_id_of, parse_public_key
from services.kit.evidence.package import CONSENT_ORIGIN, GATEWAY_ORIGIN, verify_package
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


class _Keys:
    """The ``--public-key`` arguments: keys bound to an origin (``ORIGIN=KEY``) and plain ones."""

    def __init__(self, specs: Sequence[str]) -> None:
        self.bound: dict[str, dict[str, bytes]] = {}
        self.plain: dict[str, bytes] = {}
        for spec in specs:
            origin, key = _split_origin(spec)
            path = Path(key)
            raw = parse_public_key(path.read_text(encoding="utf-8") if path.is_file() else key)
            (self.plain if origin is None else self.bound.setdefault(origin, {}))[key_id_of(raw)] = raw

    def of(self, origin: Any) -> dict[str, bytes]:
        """The keys for a document of one log: those bound to its origin, and the plain ones."""
        return {**self.plain, **(self.bound.get(origin, {}) if isinstance(origin, str) else {})}


def _split_origin(spec: str) -> tuple[str | None, str]:
    """``ORIGIN=KEY`` or a plain KEY. A file named so is a plain KEY; base64 of 32 bytes ends in its only '='."""
    origin, sep, key = spec.partition("=")
    if not sep or not key or Path(spec).is_file():
        return None, spec
    try:
        return check_origin(origin), key
    except ValueError:
        return None, spec


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
        p.add_argument(
            "--public-key",
            action="append",
            required=True,
            metavar="[ORIGIN=]KEY",
            help="file or base64, bound to one log with ORIGIN= (a package needs creditnode/gateway= and "
            "creditnode/consent=); repeat for old keys",
        )
    args = parser.parse_args(argv)
    try:
        keys = _Keys(args.public_key)
    except (OSError, ValueError) as exc:
        return 1, f"invalid: {Failure.MALFORMED}: public key: {exc}"
    if args.command == "package" and keys.plain:
        return 1, (
            f"invalid: {Failure.MALFORMED}: public key: a package holds heads of two logs; give each key with its "
            f"origin: --public-key {GATEWAY_ORIGIN}=GATEWAY_KEY --public-key {CONSENT_ORIGIN}=CONSENT_KEY"
        )
    try:
        if args.command == "receipt":
            obj = _unwrap(_load_json(args.receipt), "receiptJson")
            head = obj.get("tree_head") if isinstance(obj, dict) else None
            origin = args.origin or (head.get("origin") if isinstance(head, dict) else None)
            r = verify_receipt(obj, keys.of(origin), origin=args.origin)
            head = r.tree_head
            return 0, (
                f"valid: leaf {r.leaf_index} ({r.entry.kind.value}) is in {head.origin} at tree size "
                f"{head.tree_size}, head signed by key {head.key_id}"
            )
        if args.command == "package":
            summary = verify_package(_unwrap(_load_json(args.package), "packageJson"), keys.bound)
            return 0, (
                f"valid: package for dispute {summary.reference}: {summary.authorizations} authorizations "
                f"({summary.consent_events} consent events), {summary.disclosures} disclosures, "
                f"{summary.records} record hashes"
            )
        old_obj, new_obj = _head_obj(_load_json(args.old_head)), _head_obj(_load_json(args.new_head))
        origin = old_obj.get("origin") if isinstance(old_obj, dict) else None
        # verify_consistency also requires both heads (and the proof) to be of this one origin.
        old, new = verify_consistency(old_obj, new_obj, _unwrap(_load_json(args.proof), "proofJson"), keys.of(origin))
        return 0, f"valid: {old.origin} at tree size {old.tree_size} is a prefix of tree size {new.tree_size}"
    except Invalid as exc:
        return 1, f"invalid: {exc.reason}: {exc.message}"


def main(argv: Sequence[str] | None = None) -> None:
    status, line = run(argv)
    print(line)
    sys.exit(status)


if __name__ == "__main__":
    main()
