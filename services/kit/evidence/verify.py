"""Offline verifier: ``python -m services.kit.evidence.verify receipt|consistency|package … --public-key KEY``.

    python -m services.kit.evidence.verify receipt RECEIPT.json --public-key KEY [--public-key OLD_KEY]
    python -m services.kit.evidence.verify consistency OLD_STH.json NEW_STH.json PROOF.json --public-key KEY
    python -m services.kit.evidence.verify package PACKAGE.json \\
        --public-key creditnode/gateway=GATEWAY_KEY --public-key creditnode/consent=CONSENT_KEY
    python -m services.kit.evidence.verify receipt RECEIPT.json --public-keys-file public-keys.json
    python -m services.kit.evidence.verify receipt RECEIPT.json --public-key OLD_KEY --public-key KEY \\
        --retired OLD_KEY_ID=2026-11-29T09:00:00Z

KEY is a file (PEM public key, or base64 of the raw 32 bytes) or the base64 text itself; repeat it to accept heads
signed by older (rotated) keys. ``ORIGIN=KEY`` binds a key to one log: it verifies only heads of that origin. A
receipt or a consistency proof is of one log, so a plain KEY is taken as that log's; a package holds heads of two
logs, so each of its keys must be bound (``creditnode/gateway=…`` also verifies the package's signature).

A rotated-out key verifies only heads signed up to its retirement: a head whose timestamp is later than the key's
retirement time is refused (``KEY_RETIRED``); one at the retirement instant itself verifies, as in the online audit
(``audit.verify_log``). A package signed by a retired gateway key is refused likewise when it was made (its
``dispute.created_at``) after the retirement, or does not say when it was made. Times are compared in whole
milliseconds, a head's precision, the retirement rounded down.
Retirements come from ``--public-keys-file`` (repeatable), the ``public-keys.json`` that ``creditctl evidence
export`` writes: its keys, bound to its ``origin``, with each retired key's ``retire_time``; or from ``--retired
KEY_ID=TIME`` (repeatable): the key with that id (16 hex digits, as heads name it), one of the keys given, was
retired at TIME, RFC 3339 with its offset (``Z`` or ``+08:00``). A retirement for a key id no given key has, a time
without an offset, or two different times for one key is refused as ``MALFORMED``. Only heads dated after the
retirement are caught: a head that whoever kept the old private key backdates before it verifies like the log's own;
check such a head's tree against a head of the current key with ``consistency``.

Tree heads, receipts and proofs are the JSON the log hands out (``receipt_json``, ``proof_json``; a head as
``SignedTreeHead.to_json``, or a ``GetSignedTreeHead`` response printed by ``buf curl``). Prints ``valid: …`` and
exits 0, or ``invalid: REASON: …`` and exits 1. Needs no network and no database. Repeated JSON keys are refused.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from services.kit.evidence.entries import loads_strict
from services.kit.evidence.heads import check_origin, key_id_of, parse_public_key, to_ms
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


_KEY_ID = re.compile(r"^[0-9a-f]{16}$")
# RFC 3339 with its offset: a time without one could be read in any zone, hours either side of the retirement.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _retire_ms(text: Any) -> int:
    """An RFC 3339 time (with its offset) as whole milliseconds since the epoch, rounded down as verify_log does."""
    if not isinstance(text, str) or not _RFC3339.fullmatch(text):
        raise ValueError(f"{str(text)[:40]!r} is not an RFC 3339 time with an offset (e.g. 2026-11-29T09:00:00Z)")
    return to_ms(datetime.fromisoformat(text.upper().replace("Z", "+00:00")))


class _Keys:
    """The keys given: ``--public-key`` (bound to an origin or plain), ``--public-keys-file`` (bound to the file's
    origin, with their retirements) and ``--retired`` (a given key's retirement, whatever log it is given for)."""

    def __init__(self, specs: Sequence[str], files: Sequence[str], retirements: Sequence[str]) -> None:
        self.bound: dict[str, dict[str, bytes]] = {}
        self.plain: dict[str, bytes] = {}
        self.retired_bound: dict[str, dict[str, int]] = {}
        self.retired: dict[str, int] = {}
        try:
            for spec in specs:
                origin, key = _split_origin(spec)
                path = Path(key)
                raw = parse_public_key(path.read_text(encoding="utf-8") if path.is_file() else key)
                (self.plain if origin is None else self.bound.setdefault(origin, {}))[key_id_of(raw)] = raw
        except (OSError, ValueError) as exc:
            raise ValueError(f"public key: {exc}") from None
        for file in files:
            try:
                self._read_file(file)
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                raise ValueError(f"public keys file: {file}: {exc}") from None
        for spec in retirements:
            try:
                self._retire(spec)
            except ValueError as exc:
                raise ValueError(f"retired: {exc}") from None

    def _read_file(self, file: str) -> None:
        """public-keys.json as ``creditctl evidence export`` writes it: the log's origin and ListPublicKeys."""
        obj = loads_strict(Path(file).read_text(encoding="utf-8"))
        if not isinstance(obj, dict) or not isinstance(obj.get("origin"), str):
            raise ValueError("no origin: the keys must name the log they sign for")
        origin = check_origin(obj["origin"])
        listed = obj.get("public_keys")
        if not isinstance(listed, list) or not listed:
            raise ValueError("public_keys is not a non-empty list")
        for item in listed:
            if not isinstance(item, dict) or not isinstance(item.get("public_key"), str):
                raise ValueError("a key has no public_key")
            raw = parse_public_key(item["public_key"])
            key_id = key_id_of(raw)
            # The file's key id is what a retirement is attached to: one that is not its key's would retire another.
            if item.get("key_id") != key_id:
                raise ValueError(f"key_id {str(item.get('key_id'))[:20]!r} is not its public key's id ({key_id})")
            self.bound.setdefault(origin, {})[key_id] = raw
            if item.get("retire_time") is not None:
                self._add_retirement(self.retired_bound.setdefault(origin, {}), key_id, _retire_ms(item["retire_time"]))

    def _retire(self, spec: str) -> None:
        """``KEY_ID=TIME``: the key id must be one of a given key; a second, different time for it is refused."""
        key_id, sep, time = spec.partition("=")
        if not sep or not _KEY_ID.fullmatch(key_id):
            raise ValueError(f"{spec[:60]!r} is not KEY_ID=RFC3339_TIME (a key id is 16 lower-case hex digits)")
        given = self.plain.keys() | {k for keys in self.bound.values() for k in keys}
        if key_id not in given:
            raise ValueError(f"key {key_id} is not a given key")
        at = _retire_ms(time)
        self._add_retirement(self.retired, key_id, at)
        for retired in self.retired_bound.values():
            if retired.get(key_id, at) != at:
                raise ValueError(f"key {key_id} is retired at another time in a public keys file")

    @staticmethod
    def _add_retirement(retired: dict[str, int], key_id: str, at: int) -> None:
        if retired.setdefault(key_id, at) != at:
            raise ValueError(f"key {key_id} is given two retirement times")

    def of(self, origin: Any) -> dict[str, bytes]:
        """The keys for a document of one log: those bound to its origin, and the plain ones."""
        return {**self.plain, **(self.bound.get(origin, {}) if isinstance(origin, str) else {})}

    def retired_of(self, origin: Any) -> dict[str, int]:
        """The retirements for a document of one log: those read for its origin, and the ``--retired`` ones."""
        return {**(self.retired_bound.get(origin, {}) if isinstance(origin, str) else {}), **self.retired}


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
            default=[],
            metavar="[ORIGIN=]KEY",
            help="file or base64, bound to one log with ORIGIN= (a package needs creditnode/gateway= and "
            "creditnode/consent=); repeat for old keys",
        )
        p.add_argument(
            "--public-keys-file",
            action="append",
            default=[],
            metavar="PUBLIC_KEYS_JSON",
            help="public-keys.json from creditctl evidence export: its keys, bound to its origin, with their "
            "retirements; repeat for each log",
        )
        p.add_argument(
            "--retired",
            action="append",
            default=[],
            metavar="KEY_ID=TIME",
            help="a given key was retired at TIME (RFC 3339 with offset): heads it signed later are refused",
        )
    args = parser.parse_args(argv)
    if not args.public_key and not args.public_keys_file:
        parser.error("give the log's keys: --public-key [ORIGIN=]KEY or --public-keys-file PUBLIC_KEYS_JSON")
    try:
        keys = _Keys(args.public_key, args.public_keys_file, args.retired)
    except ValueError as exc:
        return 1, f"invalid: {Failure.MALFORMED}: {exc}"
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
            r = verify_receipt(obj, keys.of(origin), origin=args.origin, retired_ms=keys.retired_of(origin))
            head = r.tree_head
            return 0, (
                f"valid: leaf {r.leaf_index} ({r.entry.kind.value}) is in {head.origin} at tree size "
                f"{head.tree_size}, head signed by key {head.key_id}"
            )
        if args.command == "package":
            retired = {origin: keys.retired_of(origin) for origin in (GATEWAY_ORIGIN, CONSENT_ORIGIN)}
            summary = verify_package(_unwrap(_load_json(args.package), "packageJson"), keys.bound, retired_ms=retired)
            return 0, (
                f"valid: package for dispute {summary.reference}: {summary.authorizations} authorizations "
                f"({summary.consent_events} consent events), {summary.disclosures} disclosures, "
                f"{summary.records} record hashes"
            )
        old_obj, new_obj = _head_obj(_load_json(args.old_head)), _head_obj(_load_json(args.new_head))
        origin = old_obj.get("origin") if isinstance(old_obj, dict) else None
        # verify_consistency also requires both heads (and the proof) to be of this one origin.
        proof = _unwrap(_load_json(args.proof), "proofJson")
        old, new = verify_consistency(old_obj, new_obj, proof, keys.of(origin), retired_ms=keys.retired_of(origin))
        return 0, f"valid: {old.origin} at tree size {old.tree_size} is a prefix of tree size {new.tree_size}"
    except Invalid as exc:
        return 1, f"invalid: {exc.reason}: {exc.message}"


def main(argv: Sequence[str] | None = None) -> None:
    status, line = run(argv)
    print(line)
    sys.exit(status)


if __name__ == "__main__":
    main()
