"""Evidence packages against two real logs (gateway and consent): a valid package verifies, offline, and every
tampered variant is rejected with its reason (forged or truncated proofs, wrong sizes, foreign keys, reordered or
altered receipts, an altered record, an out-of-scope disclosure, a broken signature)."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from services.kit.db import make_engine, migrate, service_metadata
from services.kit.evidence.entries import LeafKind, format_time
from services.kit.evidence.heads import NodeKey, SignedTreeHead, b64decode, b64encode, from_ms
from services.kit.evidence.log import EvidenceLog
from services.kit.evidence.package import (
    CONSENT_ORIGIN,
    GATEWAY_ORIGIN,
    consent_receipt_digest,
    sign_package,
    verify_package,
)
from services.kit.evidence.receipts import Failure, Invalid
from services.kit.evidence.schema import add_evidence_tables
from services.kit.evidence.verify import run
from tests.conftest import fresh_database
from tests.integration.evidence.conftest import write_migrations

ENTERPRISE = "enterprises/91610131MA6TXXXX0X"
LENDER = "institutions/boc-xian"
AUTH = "authorizations/a1b2c3"
OTHER_ENTERPRISE = "enterprises/91610131MA6TYYYY0Y"


@contextlib.contextmanager
def _log(tmp_path: Path, origin: str, key: NodeKey) -> Iterator[EvidenceLog]:
    label = origin.rsplit("/", 1)[-1]
    with contextlib.contextmanager(fresh_database)(tmp_path, label) as url:
        engine = make_engine(url)
        migrate(engine, write_migrations(tmp_path / f"migrations-{label}"), version_table="alembic_version_svc")
        log = EvidenceLog(engine, add_evidence_tables(service_metadata()), origin=origin, key=key).start()
        try:
            yield log
        finally:
            log.close()
            engine.dispose()


def _grant_lines(enterprise: str = ENTERPRISE, requester: str = LENDER) -> bytes:
    """The lines an enterprise signs to grant (consent's ``GrantRequest.canonical``), held by its GRANTED receipt."""
    return "\n".join(
        [
            "creditnode.consent.v1.GrantAuthorization",
            f"enterprise={enterprise}",
            f"requester={requester}",
            "purpose=PRE_LOAN",
            "items=A01",
            "categories=",
            "valid_from=2026-11-01T00:00:00Z",
            "valid_until=2027-11-01T00:00:00Z",
            "data_since=2024-11-01T00:00:00Z",
            "use_limit=UNLIMITED",
            "max_uses=0",
            "period_days=0",
            "key_id=0123456789abcdef",
            "nonce=nonce-0123456789abcdef",
            "signed_at=2026-11-01T00:00:00Z",
        ]
    ).encode()


def _receipt(revision: int, event: str, previous: str, signed: bytes, auth: str = AUTH) -> dict[str, Any]:
    r = {
        "name": f"{auth}/receipts/{revision}",
        "authorization": auth,
        "event_type": event,
        "revision": revision,
        "record_time": f"2026-11-2{revision}T08:00:00.123456Z",
        "signed_payload": b64encode(signed),
        "signature": ("ab" * 64) if signed else "",
        "signing_key_id": "0123456789abcdef" if signed else "",
        "previous_digest": previous,
    }
    r["digest"] = consent_receipt_digest(r)
    return r


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    gw_key, consent_key = NodeKey.generate(), NodeKey.generate()
    with _log(tmp_path, GATEWAY_ORIGIN, gw_key) as gw, _log(tmp_path, CONSENT_ORIGIN, consent_key) as consent:
        granted = _receipt(1, "GRANTED", "0" * 64, _grant_lines())
        paused = _receipt(2, "PAUSED", granted["digest"], b"creditnode.consent.v1.PauseAuthorization\n...")
        # Grants by another enterprise to this lender, and by this enterprise to another lender: in consent's log
        # like any other.
        foreign = {
            "another_enterprise": _receipt(
                1, "GRANTED", "0" * 64, _grant_lines(enterprise=OTHER_ENTERPRISE), "authorizations/d4e5f6"
            ),
            "another_lender": _receipt(
                1, "GRANTED", "0" * 64, _grant_lines(requester="institutions/other-bank"), "authorizations/a7b8c9"
            ),
        }
        consent_leaves = []
        for r in (granted, paused, *foreign.values()):
            payload = {
                "authorization": r["authorization"],
                "event_type": r["event_type"],
                "revision": r["revision"],
                "receipt_digest": f"sha256:{r['digest']}",
            }
            consent_leaves.append(consent.append(LeafKind.CONSENT_EVENT, payload).index)
        hashes = [hashlib.sha256(f"record-{i}".encode()).hexdigest() for i in range(3)]
        release = {
            "type": "credit_report",
            "decision": "ALLOW",
            "enterprise": ENTERPRISE,
            "requester": LENDER,
            "authorization": AUTH,
            "records": ["r0", "r1"],
            "record_sha256": hashes[:2],
        }
        other = {**release, "requester": "institutions/other-bank", "records": ["r2"], "record_sha256": hashes[2:]}
        leaves = [gw.append(LeafKind.DISCLOSURE, p).index for p in (release, other, {**release, "records": []})]
        gw_head, consent_head = gw.signed_tree_head(fresh=True), consent.signed_tree_head(fresh=True)

        def receipt(log: EvidenceLog, index: int, size: int) -> Any:
            got = log.inclusion(index, size).receipt()
            assert got is not None
            return got.to_obj()

        body = {
            "dispute": {
                "reference": "(2026)西仲字第17号",
                "enterprise": ENTERPRISE,
                "lender": LENDER,
                "loan": "loan-1",
            },
            "authorizations": [
                {
                    "name": AUTH,
                    "receipts": [granted, paused],
                    "leaves": [receipt(consent, i, consent_head.tree_size) for i in consent_leaves[:2]],
                }
            ],
            "disclosures": [receipt(gw, leaves[0], gw_head.tree_size), receipt(gw, leaves[2], gw_head.tree_size)],
            "records": [
                {"record": "r0", "sha256": hashes[0], "disclosure_leaf": leaves[0]},
                {"record": "r1", "sha256": hashes[1], "disclosure_leaf": leaves[0]},
            ],
        }
        yield {
            "body": body,
            "package": sign_package(body, gw_key),
            "gw_key": gw_key,
            "consent_key": consent_key,
            "keys": {
                GATEWAY_ORIGIN: {gw_key.key_id: gw_key.public_bytes},
                CONSENT_ORIGIN: {consent_key.key_id: consent_key.public_bytes},
            },
            "other_disclosure": receipt(gw, leaves[1], gw_head.tree_size),
            "foreign": {
                what: {
                    "name": r["authorization"],
                    "receipts": [r],
                    "leaves": [receipt(consent, consent_leaves[2 + i], consent_head.tree_size)],
                }
                for i, (what, r) in enumerate(foreign.items())
            },
        }


def test_a_package_verifies_offline_with_the_two_public_keys(world: dict[str, Any], tmp_path: Path) -> None:
    summary = verify_package(world["package"], world["keys"])
    assert (summary.authorizations, summary.consent_events, summary.disclosures, summary.records) == (1, 2, 2, 2)
    path = tmp_path / "package.json"
    path.write_text(json.dumps(world["package"], ensure_ascii=False), encoding="utf-8")
    gw, consent = (f"{origin}={b64encode(k)}" for origin, keys in world["keys"].items() for k in keys.values())
    status, line = run(["package", str(path), "--public-key", gw, "--public-key", consent])
    assert status == 0, line
    assert line.startswith("valid: package for dispute (2026)西仲字第17号: 1 authorizations (2 consent events)")
    # Without consent's key the consent heads are not trusted: the verifier says which key it lacks.
    status, line = run(["package", str(path), "--public-key", gw])
    assert (status, line.split(":")[1].strip()) == (1, "KEY_UNKNOWN")
    # Keys not bound to a log: a package holds two logs' heads, so the verifier asks for ORIGIN=KEY.
    status, line = run(["package", str(path), "--public-key", gw.split("=", 1)[1], "--public-key", consent])
    assert status == 1
    assert "creditnode/gateway=GATEWAY_KEY" in line


def test_each_logs_key_verifies_only_that_logs_heads_and_the_gateways_the_package(
    world: dict[str, Any], tmp_path: Path
) -> None:
    # Consent's key given for the gateway too: a package signed with it still is not the gateway's.
    consent_key: NodeKey = world["consent_key"]
    consent_only = {consent_key.key_id: consent_key.public_bytes}
    forged = sign_package(world["body"], consent_key)
    with pytest.raises(Invalid) as err:
        verify_package(forged, {**world["keys"], CONSENT_ORIGIN: consent_only})
    assert err.value.reason is Failure.KEY_UNKNOWN
    # Gateway and consent keys swapped between the two logs: no head verifies.
    swapped = {GATEWAY_ORIGIN: world["keys"][CONSENT_ORIGIN], CONSENT_ORIGIN: world["keys"][GATEWAY_ORIGIN]}
    with pytest.raises(Invalid) as err:
        verify_package(world["package"], swapped)
    assert err.value.reason is Failure.KEY_UNKNOWN
    # The command line: a disclosure's (gateway) receipt with consent's key bound to consent is refused.
    receipt = tmp_path / "receipt.json"
    receipt.write_text(json.dumps(world["body"]["disclosures"][0]), encoding="utf-8")
    consent = f"{CONSENT_ORIGIN}={b64encode(consent_key.public_bytes)}"
    gateway = f"{GATEWAY_ORIGIN}={b64encode(world['gw_key'].public_bytes)}"
    assert run(["receipt", str(receipt), "--public-key", consent])[1].startswith("invalid: KEY_UNKNOWN")
    assert run(["receipt", str(receipt), "--public-key", consent, "--public-key", gateway])[0] == 0


def _rfc3339(ms: int) -> str:
    return from_ms(ms).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_a_package_head_signed_by_a_key_after_its_retirement_is_refused(world: dict[str, Any], tmp_path: Path) -> None:
    gw_at = world["package"]["disclosures"][0]["tree_head"]["timestamp_ms"]
    consent_at = world["package"]["authorizations"][0]["leaves"][0]["tree_head"]["timestamp_ms"]
    # Made (as the gateway dates it) at the instant of its gateway head, so that a retirement then covers the
    # package's signature too: this test is about the heads.
    dated = {**world["body"]["dispute"], "created_at": format_time(from_ms(gw_at))}
    package = sign_package({**world["body"], "dispute": dated}, world["gw_key"])
    gw_id, consent_id = world["gw_key"].key_id, world["consent_key"].key_id
    # Retired at the very instant each log's head carries: still valid (refused only when signed later).
    at_heads = {GATEWAY_ORIGIN: {gw_id: gw_at}, CONSENT_ORIGIN: {consent_id: consent_at}}
    assert verify_package(package, world["keys"], retired_ms=at_heads).disclosures == 2
    for origin, key_id, at in [(GATEWAY_ORIGIN, gw_id, gw_at), (CONSENT_ORIGIN, consent_id, consent_at)]:
        with pytest.raises(Invalid) as err:
            verify_package(package, world["keys"], retired_ms={origin: {key_id: at - 1}})
        assert err.value.reason is Failure.KEY_RETIRED
        assert key_id in err.value.message
    # The command line, with --retired and with the public-keys.json creditctl exports for each log.
    path = tmp_path / "package.json"
    path.write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
    gw = f"{GATEWAY_ORIGIN}={b64encode(world['gw_key'].public_bytes)}"
    consent = f"{CONSENT_ORIGIN}={b64encode(world['consent_key'].public_bytes)}"
    base = ["package", str(path), "--public-key", gw, "--public-key", consent]
    assert run([*base, "--retired", f"{consent_id}={_rfc3339(consent_at)}"])[0] == 0
    status, line = run([*base, "--retired", f"{consent_id}={_rfc3339(consent_at - 1)}"])
    assert (status, line.startswith("invalid: KEY_RETIRED: ")) == (1, True), line

    def keys_file(origin: str, key: NodeKey, retired: int) -> str:
        listed = [{"key_id": key.key_id, "public_key": b64encode(key.public_bytes), "retire_time": _rfc3339(retired)}]
        file = tmp_path / f"{origin.rsplit('/', 1)[-1]}-keys.json"
        file.write_text(json.dumps({"origin": origin, "public_keys": listed}), encoding="utf-8")
        return str(file)

    for gw_retired, want in [(gw_at, 0), (gw_at - 1, 1)]:
        files = [keys_file(GATEWAY_ORIGIN, world["gw_key"], gw_retired)]
        files.append(keys_file(CONSENT_ORIGIN, world["consent_key"], consent_at))
        status, line = run(["package", str(path), "--public-keys-file", files[0], "--public-keys-file", files[1]])
        assert status == want, line
        if want:
            assert line.startswith("invalid: KEY_RETIRED: "), line


def test_a_package_signed_by_the_gateways_key_after_its_retirement_is_refused(
    world: dict[str, Any], tmp_path: Path
) -> None:
    gw_key: NodeKey = world["gw_key"]
    gw_at = world["package"]["disclosures"][0]["tree_head"]["timestamp_ms"]
    made = gw_at + 1000  # the package is made after its heads were signed
    body = {**world["body"], "dispute": {**world["body"]["dispute"], "created_at": format_time(from_ms(made))}}
    package = sign_package(body, gw_key)
    # The key retired after its heads, but at the instant the package was made: the package still verifies.
    assert verify_package(package, world["keys"], retired_ms={GATEWAY_ORIGIN: {gw_key.key_id: made}}).records == 2
    # Retired before the package was made (its heads were signed before): a package its key signed after.
    with pytest.raises(Invalid) as err:
        verify_package(package, world["keys"], retired_ms={GATEWAY_ORIGIN: {gw_key.key_id: made - 1}})
    assert err.value.reason is Failure.KEY_RETIRED
    assert "package" in err.value.message
    # A package that does not say when it was made cannot show that a retired key signed it in time.
    undated = sign_package(world["body"], gw_key)
    assert verify_package(undated, world["keys"]).records == 2
    with pytest.raises(Invalid) as err:
        verify_package(undated, world["keys"], retired_ms={GATEWAY_ORIGIN: {gw_key.key_id: made}})
    assert err.value.reason is Failure.KEY_RETIRED
    path = tmp_path / "package.json"
    path.write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
    gw = f"{GATEWAY_ORIGIN}={b64encode(gw_key.public_bytes)}"
    consent = f"{CONSENT_ORIGIN}={b64encode(world['consent_key'].public_bytes)}"
    base = ["package", str(path), "--public-key", gw, "--public-key", consent, "--retired"]
    assert run([*base, f"{gw_key.key_id}={_rfc3339(made)}"])[0] == 0
    status, line = run([*base, f"{gw_key.key_id}={_rfc3339(made - 1)}"])
    assert (status, line.startswith("invalid: KEY_RETIRED: the package was signed by key ")) == (1, True), line


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(package: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = package
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value(node[int(last) if last.isdigit() else last])

    return apply


def _other_head_key(package: dict[str, Any]) -> None:
    head = package["disclosures"][0]["tree_head"]
    forged = SignedTreeHead.sign(
        NodeKey.generate(),
        head["origin"],
        head["tree_size"],
        b64decode(head["root_hash"], "root"),
        head["timestamp_ms"],
    )
    package["disclosures"][0]["tree_head"] = forged.to_obj()
    package["disclosures"][0]["key_id"] = forged.key_id


def _flip(b64: str) -> str:
    raw = bytearray(b64decode(b64, "test"))
    raw[0] ^= 1
    return b64encode(bytes(raw))


TAMPERED: list[tuple[str, Callable[[dict[str, Any]], None], Failure]] = [
    ("record hash altered", _set("records.0.sha256", lambda h: "0" * 64), Failure.RECORD_NOT_PROVEN),
    ("record pointed at the wrong leaf", _set("records.0.disclosure_leaf", lambda i: i + 1), Failure.RECORD_NOT_PROVEN),
    ("leaf payload altered", _set("disclosures.0.leaf.payload.records", lambda r: ["r9"]), Failure.LEAF_HASH_MISMATCH),
    ("proof truncated", _set("disclosures.0.inclusion_proof", lambda p: p[:-1]), Failure.PROOF_TOO_SHORT),
    ("proof forged", _set("disclosures.0.inclusion_proof", lambda p: [_flip(p[0]), *p[1:]]), Failure.ROOT_MISMATCH),
    ("wrong tree size", _set("disclosures.0.tree_head.tree_size", lambda n: n + 1), Failure.SIGNATURE_INVALID),
    ("head signed by another key", _other_head_key, Failure.KEY_UNKNOWN),
    ("leaf index moved", _set("disclosures.0.leaf_index", lambda i: i + 1), Failure.ROOT_MISMATCH),
    (
        "consent receipt altered",
        _set("authorizations.0.receipts.1.signature", lambda s: "cd" * 64),
        Failure.AUTHORIZATION_NOT_PROVEN,
    ),
    (
        "consent receipts reordered",
        _set("authorizations.0.receipts", lambda r: r[::-1]),
        Failure.AUTHORIZATION_NOT_PROVEN,
    ),
    (
        "consent proof dropped",
        _set("authorizations.0.leaves", lambda leaves: leaves[:1]),
        Failure.AUTHORIZATION_NOT_PROVEN,
    ),
    (
        "dispute reference changed",
        _set("dispute.reference", lambda r: "(2026)西仲字第18号"),
        Failure.PACKAGE_SIGNATURE_INVALID,
    ),
    ("signature forged", _set("signature.value", _flip), Failure.PACKAGE_SIGNATURE_INVALID),
    ("wrong format", _set("format", lambda f: "something else"), Failure.MALFORMED),
    ("no disclosures list", _set("disclosures", lambda d: {"0": d}), Failure.MALFORMED),
]


@pytest.mark.parametrize(("what", "tamper", "reason"), TAMPERED, ids=[t[0] for t in TAMPERED])
def test_every_tampered_package_is_rejected_with_its_reason(
    world: dict[str, Any], what: str, tamper: Callable[[dict[str, Any]], None], reason: Failure
) -> None:
    package = copy.deepcopy(world["package"])
    tamper(package)
    with pytest.raises(Invalid) as err:
        verify_package(package, world["keys"])
    assert err.value.reason is reason, err.value


def test_scope_is_checked_even_in_a_package_signed_by_the_node(world: dict[str, Any]) -> None:
    """The gateway's own signature does not make an out-of-scope or unproven claim valid."""
    body = copy.deepcopy(world["body"])
    body["disclosures"].append(world["other_disclosure"])
    with pytest.raises(Invalid) as err:
        verify_package(sign_package(body, world["gw_key"]), world["keys"])
    assert err.value.reason is Failure.OUT_OF_SCOPE
    body = copy.deepcopy(world["body"])
    body["authorizations"] = []
    with pytest.raises(Invalid) as err:
        verify_package(sign_package(body, world["gw_key"]), world["keys"])
    assert err.value.reason is Failure.AUTHORIZATION_NOT_PROVEN


@pytest.mark.parametrize("foreign", ["another_enterprise", "another_lender"])
def test_an_authorization_granted_by_another_enterprise_or_to_another_lender_is_out_of_scope(
    world: dict[str, Any], foreign: str
) -> None:
    """Consent's log proves an authorization's receipts, not whom it is about: the grant the enterprise signed (its
    first receipt's signed lines) must be this enterprise's, to this lender, or a release citing it rests on nothing,
    however the node signed the package."""
    body = copy.deepcopy(world["body"])
    authorization = world["foreign"][foreign]
    body["authorizations"].append(authorization)
    with pytest.raises(Invalid) as err:
        verify_package(sign_package(body, world["gw_key"]), world["keys"])
    assert err.value.reason is Failure.OUT_OF_SCOPE
    assert authorization["name"] in err.value.message
