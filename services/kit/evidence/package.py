"""Evidence packages for a loan dispute: one signed JSON file that anyone checks offline with the node's public keys.

A package names the dispute (case reference, enterprise, lender, loan) and holds:

- ``authorizations``: each authorization's consent receipts (the enterprise-signed grant and every later event), and
  for each receipt a receipt of its ``CONSENT_EVENT`` leaf in the consent log (``creditnode/consent``);
- ``disclosures``: receipts of the ``DISCLOSURE`` leaves in the gateway's log (``creditnode/gateway``) that released
  data about the enterprise to the lender;
- ``records``: the SHA-256 of each released record (its deterministic protobuf serialization, as released), each
  pointing to the disclosure leaf that commits to that hash;
- ``signature``: the gateway's Ed25519 signature over the canonical JSON of everything else.

Each authorization must be one the enterprise granted to the lender: its first receipt is the grant, whose signed
lines name both (consent's log proves the receipts, not whom they concern).

``verify_package`` checks the proofs first (so an altered record is named as such) and the signature last; it
raises ``Invalid`` with the first failed check. Its keys are given per log: a gateway head and the package's
signature verify only with a key given for ``creditnode/gateway``, a consent head only with one given for
``creditnode/consent`` (otherwise whoever holds consent's key could sign a package as the gateway). Given keys'
retirements, a head signed by a key after its retirement is refused, and so is a package signed by a retired key
made (``dispute.created_at``) after the retirement, or not saying when it was made. Nothing in a package is personal
data: ids, hashes and signatures.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.kit.evidence.entries import canonical_json, parse_time
from services.kit.evidence.heads import NodeKey, b64decode, b64encode, to_ms
from services.kit.evidence.receipts import Failure, Invalid, Receipt, ms_text, verify_receipt

PACKAGE_FORMAT = "creditnode.evidence.v1.EvidencePackage"
GATEWAY_ORIGIN = "creditnode/gateway"
CONSENT_ORIGIN = "creditnode/consent"
_RECEIPT_PREFIX = "creditnode.consent.v1.Receipt"
_GRANT_ACTION = "creditnode.consent.v1.GrantAuthorization"


@dataclass(frozen=True)
class PackageSummary:
    """What a valid package proves, for the verifier's one line."""

    reference: str
    authorizations: int
    consent_events: int
    disclosures: int
    records: int


def consent_receipt_digest(r: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a consent receipt's canonical lines, as services/consent/README.md defines them."""
    signed = b64decode(str(r["signed_payload"]), "signed_payload") if r.get("signed_payload") else b""
    lines = [
        _RECEIPT_PREFIX,
        f"authorization={r['authorization']}",
        f"event_type={r['event_type']}",
        f"revision={int(r['revision'])}",
        f"record_time={r['record_time']}",
        f"signed_payload_sha256={hashlib.sha256(signed).hexdigest() if signed else ''}",
        f"signature={r['signature']}",
        f"signing_key_id={r['signing_key_id']}",
        f"previous_digest={r['previous_digest']}",
    ]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _granted_scope(receipt: Mapping[str, Any]) -> tuple[str, str] | None:
    """(enterprise, requester) of the grant an authorization's first receipt carries: the lines the enterprise signed
    (services/consent/domain/signing.py, ``GrantRequest.canonical``) start with the action, then ``enterprise=`` and
    ``requester=``, in that order. None when the receipt is not such a grant."""
    if receipt.get("event_type") != "GRANTED" or not isinstance(receipt.get("signed_payload"), str):
        return None
    try:
        lines = b64decode(receipt["signed_payload"], "signed_payload").decode("utf-8").split("\n")
    except (ValueError, UnicodeDecodeError):
        return None
    # By position, not by name: a later line (items, say) must not be able to pose as the enterprise.
    if len(lines) < 3 or lines[0] != _GRANT_ACTION:
        return None
    enterprise, requester = lines[1].partition("="), lines[2].partition("=")
    if (enterprise[0], requester[0]) != ("enterprise", "requester"):
        return None
    return enterprise[2], requester[2]


def sign_package(body: Mapping[str, Any], key: NodeKey) -> dict[str, Any]:
    """The body with the gateway's signature over its canonical JSON."""
    package = {k: v for k, v in body.items() if k != "signature"}
    package["format"] = PACKAGE_FORMAT
    package["signature"] = {
        "key_id": key.key_id,
        "value": b64encode(key.sign(canonical_json(package).encode())),
    }
    return package


def _malformed(message: str) -> Invalid:
    return Invalid(Failure.MALFORMED, message)


def _list(obj: Mapping[str, Any], field: str) -> Sequence[Any]:
    value = obj.get(field)
    if not isinstance(value, list):
        raise _malformed(f"{field} is not a list")
    return value


def _payload(receipt: Receipt) -> dict[str, Any]:
    return dict(receipt.entry.payload)


def _check_signature(
    package: Mapping[str, Any], public_keys: Mapping[str, bytes], retired_ms: Mapping[str, int]
) -> None:
    """``public_keys``: the gateway's keys only; ``retired_ms``: their retirements."""
    signature = package.get("signature")
    if not isinstance(signature, Mapping) or not isinstance(signature.get("value"), str):
        raise _malformed("signature is missing")
    key = public_keys.get(str(signature.get("key_id")))
    if key is None:
        raise Invalid(
            Failure.KEY_UNKNOWN,
            f"the package was signed by key {signature.get('key_id')}, not a key given for {GATEWAY_ORIGIN}",
        )
    body = {k: v for k, v in package.items() if k != "signature"}
    try:
        raw = b64decode(signature["value"], "signature")
        Ed25519PublicKey.from_public_bytes(key).verify(raw, canonical_json(body).encode())
    except (InvalidSignature, ValueError):
        raise Invalid(Failure.PACKAGE_SIGNATURE_INVALID, "the package signature does not verify") from None
    key_id = str(signature.get("key_id"))
    if key_id in retired_ms:
        # As for heads: a key rotated out signs nothing the gateway made later (whoever kept it could sign a package
        # that leaves out what does not suit them). The package's own time, as the gateway wrote and signed it.
        made, retired = _created_ms(package), retired_ms[key_id]
        if made is None:
            raise Invalid(
                Failure.KEY_RETIRED,
                f"the package was signed by key {key_id}, retired at {ms_text(retired)}, and does not say when it "
                "was made (dispute.created_at)",
            )
        if made > retired:
            raise Invalid(
                Failure.KEY_RETIRED,
                f"the package was signed by key {key_id} at {ms_text(made)}, after its retirement at "
                f"{ms_text(retired)}",
            )


def _created_ms(package: Mapping[str, Any]) -> int | None:
    """When the package was made (``dispute.created_at``), in whole milliseconds as heads are; None if unstated."""
    created = package["dispute"].get("created_at")
    try:
        return to_ms(parse_time(created))
    except ValueError:
        return None


def _disclosures(
    package: Mapping[str, Any], dispute: Mapping[str, Any], keys: Mapping[str, bytes], retired: Mapping[str, int]
) -> dict[int, Any]:
    by_index: dict[int, Any] = {}
    for obj in _list(package, "disclosures"):
        receipt = verify_receipt(obj, keys, origin=GATEWAY_ORIGIN, retired_ms=retired)
        payload = _payload(receipt)
        if payload.get("enterprise") != dispute["enterprise"] or payload.get("requester") != dispute["lender"]:
            raise Invalid(
                Failure.OUT_OF_SCOPE, f"disclosure leaf {receipt.leaf_index} is not about this enterprise and lender"
            )
        by_index[receipt.leaf_index] = payload
    return by_index


def _authorizations(
    package: Mapping[str, Any], dispute: Mapping[str, Any], keys: Mapping[str, bytes], retired: Mapping[str, int]
) -> set[str]:
    proven: set[str] = set()
    for auth in _list(package, "authorizations"):
        if not isinstance(auth, Mapping) or not isinstance(auth.get("name"), str):
            raise _malformed("an authorization has no name")
        leaves: dict[str, Receipt] = {}
        for obj in _list(auth, "leaves"):
            leaf = verify_receipt(obj, keys, origin=CONSENT_ORIGIN, retired_ms=retired)
            leaves[str(_payload(leaf).get("receipt_digest"))] = leaf
        previous = "0" * 64
        for r in _list(auth, "receipts"):
            try:
                if r["authorization"] != auth["name"] or r["previous_digest"] != previous:
                    raise Invalid(
                        Failure.AUTHORIZATION_NOT_PROVEN, f"the receipts of {auth['name']} do not form one chain"
                    )
                digest = consent_receipt_digest(r)
            except (KeyError, TypeError, ValueError) as exc:
                raise _malformed(f"a receipt of {auth['name']} is incomplete ({exc})") from None
            proof = leaves.get(f"sha256:{digest}")
            if proof is None or _payload(proof).get("authorization") != auth["name"]:
                raise Invalid(
                    Failure.AUTHORIZATION_NOT_PROVEN,
                    f"receipt {r.get('revision')} of {auth['name']} is not in the consent log (altered receipt?)",
                )
            previous = digest
        receipts = _list(auth, "receipts")
        if not receipts:
            raise Invalid(Failure.AUTHORIZATION_NOT_PROVEN, f"{auth['name']} has no receipts")
        # Consent's log proves these receipts, not whom they concern: that is in the grant the enterprise signed.
        if _granted_scope(receipts[0]) != (dispute["enterprise"], dispute["lender"]):
            raise Invalid(
                Failure.OUT_OF_SCOPE,
                f"{auth['name']} was not granted by this enterprise to this lender (its first receipt is no such "
                "grant)",
            )
        proven.add(auth["name"])
    return proven


def verify_package(
    package: Any,
    public_keys: Mapping[str, Mapping[str, bytes]],
    *,
    retired_ms: Mapping[str, Mapping[str, int]] | None = None,
) -> PackageSummary:
    """The package's summary when every proof and the signature verify; Invalid otherwise. ``public_keys``: origin
    (``creditnode/gateway``, ``creditnode/consent``) -> key id -> raw public key; each log's heads, and the package's
    signature (the gateway's), verify only with the keys given for that origin. ``retired_ms``: origin -> key id ->
    retirement (milliseconds since the epoch); a head signed by a key after its retirement is refused."""
    gateway_keys, consent_keys = public_keys.get(GATEWAY_ORIGIN, {}), public_keys.get(CONSENT_ORIGIN, {})
    retired = retired_ms or {}
    if not isinstance(package, Mapping) or package.get("format") != PACKAGE_FORMAT:
        raise _malformed(f"format is not {PACKAGE_FORMAT}")
    dispute = package.get("dispute")
    if not isinstance(dispute, Mapping) or not all(
        isinstance(dispute.get(f), str) and dispute.get(f) for f in ("reference", "enterprise", "lender", "loan")
    ):
        raise _malformed("dispute needs reference, enterprise, lender and loan")
    disclosures = _disclosures(package, dispute, gateway_keys, retired.get(GATEWAY_ORIGIN, {}))
    authorizations = _authorizations(package, dispute, consent_keys, retired.get(CONSENT_ORIGIN, {}))
    for index, payload in disclosures.items():
        if payload.get("authorization") and payload["authorization"] not in authorizations:
            raise Invalid(
                Failure.AUTHORIZATION_NOT_PROVEN, f"disclosure leaf {index} names an authorization the package lacks"
            )
    records = _list(package, "records")
    for rec in records:
        if not isinstance(rec, Mapping):
            raise _malformed("a record entry is not an object")
        payload = disclosures.get(rec.get("disclosure_leaf"))  # type: ignore[arg-type]
        proven = payload is not None and any(
            name == rec.get("record") and digest == rec.get("sha256")
            for name, digest in zip(payload.get("records", []), payload.get("record_sha256", []), strict=False)
        )
        if not proven:
            raise Invalid(
                Failure.RECORD_NOT_PROVEN,
                f"record {str(rec.get('record'))[:40]} with that hash is not committed by its disclosure leaf",
            )
    _check_signature(package, gateway_keys, retired.get(GATEWAY_ORIGIN, {}))
    consent_events = sum(len(a["receipts"]) for a in package["authorizations"])
    return PackageSummary(
        str(dispute["reference"]), len(authorizations), consent_events, len(disclosures), len(records)
    )
