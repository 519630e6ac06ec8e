"""The offline verifier and retired keys: a head signed by a rotated-out key after its retirement is refused, one
signed up to (and at) the retirement instant still verifies, as the online audit (``verify_log``) has it."""

from __future__ import annotations

import base64
import json
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from services.kit.evidence.heads import NodeKey, from_ms
from services.kit.evidence.receipts import Failure, Invalid, verify_consistency, verify_receipt
from services.kit.evidence.verify import run
from tests.unit.evidence.test_receipts import ORIGIN, MemoryLog, _entries

# MemoryLog signs the head of size n at BASE + n milliseconds.
BASE = 1_795_000_000_000
AT_13 = BASE + 13
BEIJING = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def key() -> NodeKey:
    return NodeKey.generate()


@pytest.fixture(scope="module")
def log(key: NodeKey) -> MemoryLog:
    return MemoryLog(_entries(13), key)


def _keys(*keys: NodeKey) -> dict[str, bytes]:
    return {k.key_id: k.public_bytes for k in keys}


def _reason(fn: Any, *args: Any, **kw: Any) -> Invalid:
    with pytest.raises(Invalid) as err:
        fn(*args, **kw)
    return err.value


def _rfc3339(ms: int, offset: str = "Z") -> str:
    """The instant ``ms`` as RFC 3339 with milliseconds; ``+08:00`` writes it in Beijing time."""
    at = from_ms(ms).astimezone(BEIJING) if offset == "+08:00" else from_ms(ms)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + offset


def _b64(key: NodeKey) -> str:
    return base64.b64encode(key.public_bytes).decode()


def _write(path: Path, obj: Any) -> str:
    path.write_text(json.dumps(obj))
    return str(path)


# ---- the domain -------------------------------------------------------------------------------------------------


def test_a_receipt_head_signed_up_to_the_retirement_verifies_and_one_after_is_refused(
    log: MemoryLog, key: NodeKey
) -> None:
    obj = log.receipt(3, 13)
    # Retired later, or at the very millisecond the head carries (inclusive, as the audit: refused only when later).
    for retired in (AT_13 + 1, AT_13):
        assert verify_receipt(obj, _keys(key), retired_ms={key.key_id: retired}).leaf_index == 3
    err = _reason(verify_receipt, obj, _keys(key), retired_ms={key.key_id: AT_13 - 1})
    assert err.reason == Failure.KEY_RETIRED
    assert key.key_id in err.message
    assert "after its retirement" in err.message
    # Another key's retirement says nothing about this one.
    assert verify_receipt(obj, _keys(key), retired_ms={NodeKey.generate().key_id: 0}).leaf_index == 3


def test_a_forged_signature_is_named_as_such_before_the_retirement(log: MemoryLog, key: NodeKey) -> None:
    obj = log.receipt(3, 13)
    obj["tree_head"]["tree_size"] = 12
    err = _reason(verify_receipt, obj, _keys(key), retired_ms={key.key_id: 0})
    assert err.reason == Failure.SIGNATURE_INVALID


def test_a_head_whose_time_was_moved_back_before_the_retirement_is_a_forgery(log: MemoryLog, key: NodeKey) -> None:
    # The retirement check trusts the head's time only because the signature covers it: a head signed after the
    # retirement, its time written back to before it, must not pass as one signed while the key was in service.
    obj = log.receipt(3, 13)
    obj["tree_head"]["timestamp_ms"] = AT_13 - 2
    err = _reason(verify_receipt, obj, _keys(key), retired_ms={key.key_id: AT_13 - 1})
    assert err.reason == Failure.SIGNATURE_INVALID
    old, new = log.head(6).to_obj(), log.head(13).to_obj()
    new["timestamp_ms"] = BASE + 6
    err = _reason(verify_consistency, old, new, log.consistency(6, 13), _keys(key), retired_ms={key.key_id: BASE + 6})
    assert (err.reason, err.message.startswith("the new tree head")) == (Failure.SIGNATURE_INVALID, True)


def test_consistency_refuses_either_head_signed_after_its_keys_retirement(log: MemoryLog, key: NodeKey) -> None:
    old, new, doc = log.head(6).to_obj(), log.head(13).to_obj(), log.consistency(6, 13)
    verify_consistency(old, new, doc, _keys(key), retired_ms={key.key_id: AT_13})
    err = _reason(verify_consistency, old, new, doc, _keys(key), retired_ms={key.key_id: BASE + 6})
    assert (err.reason, err.message.startswith("the new tree head")) == (Failure.KEY_RETIRED, True)
    err = _reason(verify_consistency, old, new, doc, _keys(key), retired_ms={key.key_id: BASE + 5})
    assert (err.reason, err.message.startswith("the old tree head")) == (Failure.KEY_RETIRED, True)


def test_a_rotation_verifies_the_old_keys_head_before_and_the_new_keys_head_after(log: MemoryLog, key: NodeKey) -> None:
    new_key = NodeKey.generate()
    old, new = log.head(6).to_obj(), log.head(13, new_key).to_obj()
    keys = _keys(key, new_key)
    verify_consistency(old, new, log.consistency(6, 13), keys, retired_ms={key.key_id: BASE + 10})


# ---- the command: --retired KEY_ID=TIME -------------------------------------------------------------------------


def test_verifier_command_refuses_a_receipt_signed_after_the_given_retirement(
    tmp_path: Path, log: MemoryLog, key: NodeKey
) -> None:
    receipt = _write(tmp_path / "receipt.json", log.receipt(3, 13))
    base = ["receipt", receipt, "--public-key", _b64(key)]
    for retired in (_rfc3339(AT_13), _rfc3339(AT_13 + 1), _rfc3339(AT_13, "+08:00")):
        status, line = run([*base, "--retired", f"{key.key_id}={retired}"])
        assert (status, line.split(":")[0]) == (0, "valid"), line
    for retired in (_rfc3339(AT_13 - 1), _rfc3339(AT_13 - 1, "+08:00")):
        status, line = run([*base, "--retired", f"{key.key_id}={retired}"])
        assert status == 1
        assert line.startswith("invalid: KEY_RETIRED: the tree head was signed by key "), line
    # Bound keys are retired the same way.
    status, line = run(["receipt", receipt, "--public-key", f"{ORIGIN}={_b64(key)}", "--retired", f"{key.key_id}="
                        f"{_rfc3339(AT_13 - 1)}"])  # fmt: skip
    assert line.startswith("invalid: KEY_RETIRED: "), line


def test_verifier_command_refuses_a_consistency_head_signed_after_the_given_retirement(
    tmp_path: Path, log: MemoryLog, key: NodeKey
) -> None:
    old = _write(tmp_path / "old.json", log.head(6).to_obj())
    new = _write(tmp_path / "new.json", log.head(13).to_obj())
    proof = _write(tmp_path / "proof.json", log.consistency(6, 13))
    base = ["consistency", old, new, proof, "--public-key", _b64(key), "--retired"]
    assert run([*base, f"{key.key_id}={_rfc3339(AT_13)}"])[0] == 0
    status, line = run([*base, f"{key.key_id}={_rfc3339(BASE + 12)}"])
    assert (status, line.startswith("invalid: KEY_RETIRED: the new tree head")) == (1, True), line


@pytest.mark.parametrize(
    "retired",
    [
        "0123456789abcdef=2026-11-29T09:00:00Z",  # no given key has this id: refused, never silently ignored
        "{id}=2026-11-29T09:00:00",  # no offset: which zone?
        "{id}=2026-11-29",
        "{id}=yesterday",
        "{id}=",
        "{id}",
        "=2026-11-29T09:00:00Z",
        "{ID}=2026-11-29T09:00:00Z",  # key ids are lower-case hex
    ],
)
def test_verifier_command_refuses_a_malformed_retirement(
    tmp_path: Path, log: MemoryLog, key: NodeKey, retired: str
) -> None:
    receipt = _write(tmp_path / "receipt.json", log.receipt(3, 13))
    arg = retired.format(id=key.key_id, ID=key.key_id.upper())
    status, line = run(["receipt", receipt, "--public-key", _b64(key), "--retired", arg])
    assert status == 1
    assert line.startswith("invalid: MALFORMED: retired: "), line


def test_verifier_command_refuses_two_retirement_times_for_one_key(
    tmp_path: Path, log: MemoryLog, key: NodeKey
) -> None:
    receipt = _write(tmp_path / "receipt.json", log.receipt(3, 13))
    base = ["receipt", receipt, "--public-key", _b64(key)]
    first, second = f"{key.key_id}={_rfc3339(AT_13)}", f"{key.key_id}={_rfc3339(AT_13 - 1)}"
    status, line = run([*base, "--retired", first, "--retired", second])
    assert (status, line.startswith("invalid: MALFORMED: retired: ")) == (1, True), line
    # The same instant twice (in another zone, say) is one retirement.
    assert run([*base, "--retired", first, "--retired", f"{key.key_id}={_rfc3339(AT_13, '+08:00')}"])[0] == 0


# ---- the command: --public-keys-file (creditctl evidence export's public-keys.json) -------------------------------


def _keys_file(path: Path, origin: str | None, *keys: tuple[NodeKey, int | None]) -> str:
    """public-keys.json as ``creditctl evidence export`` writes it (ListPublicKeys with the proto's field names)."""
    listed = []
    for k, retired in keys:
        item = {"key_id": k.key_id, "public_key": _b64(k), "add_time": "2026-01-01T00:00:00Z"}
        if retired is not None:
            item["retire_time"] = _rfc3339(retired)
        listed.append(item)
    obj: dict[str, Any] = {"public_keys": listed}
    if origin is not None:
        obj["origin"] = origin
    return _write(path, obj)


def test_verifier_command_reads_keys_and_retirements_from_a_public_keys_file(
    tmp_path: Path, log: MemoryLog, key: NodeKey
) -> None:
    receipt = _write(tmp_path / "receipt.json", log.receipt(3, 13))
    current = NodeKey.generate()
    for retired, want in [(None, 0), (AT_13, 0), (AT_13 - 1, 1)]:
        keys = _keys_file(tmp_path / "public-keys.json", ORIGIN, (key, retired), (current, None))
        status, line = run(["receipt", receipt, "--public-keys-file", keys])
        assert status == want, line
        if want:
            assert line.startswith("invalid: KEY_RETIRED: "), line
    # The file's keys are bound to its origin: they verify no other log's heads.
    keys = _keys_file(tmp_path / "consent-keys.json", "creditnode/consent", (key, None))
    status, line = run(["receipt", receipt, "--public-keys-file", keys])
    assert (status, line.split(":")[1].strip()) == (1, "KEY_UNKNOWN")
    old = _write(tmp_path / "old.json", log.head(6).to_obj())
    new = _write(tmp_path / "new.json", log.head(13).to_obj())
    proof = _write(tmp_path / "proof.json", log.consistency(6, 13))
    keys = _keys_file(tmp_path / "public-keys.json", ORIGIN, (key, BASE + 12), (current, None))
    status, line = run(["consistency", old, new, proof, "--public-keys-file", keys])
    assert (status, line.startswith("invalid: KEY_RETIRED: the new tree head")) == (1, True), line


def test_verifier_command_refuses_a_malformed_public_keys_file(tmp_path: Path, log: MemoryLog, key: NodeKey) -> None:
    receipt = _write(tmp_path / "receipt.json", log.receipt(3, 13))
    other = NodeKey.generate()
    good = {"key_id": key.key_id, "public_key": _b64(key)}
    bad_files = {
        "no-origin": {"public_keys": [good]},
        "no-keys": {"origin": ORIGIN, "public_keys": []},
        "wrong-id": {"origin": ORIGIN, "public_keys": [{**good, "key_id": other.key_id}]},
        "bad-time": {"origin": ORIGIN, "public_keys": [{**good, "retire_time": "2026-11-29T09:00:00"}]},
        "bad-origin": {"origin": "creditnode/gateway\nx", "public_keys": [good]},
        "not-a-list": {"origin": ORIGIN, "public_keys": good},
    }
    for name, obj in bad_files.items():
        status, line = run(["receipt", receipt, "--public-keys-file", _write(tmp_path / f"{name}.json", obj)])
        assert status == 1, name
        assert line.startswith("invalid: MALFORMED: public keys file: "), (name, line)
    repeated = tmp_path / "repeated.json"
    text = json.dumps({"origin": ORIGIN, "public_keys": [good]})
    repeated.write_text(text.replace('"origin": ', '"origin": "creditnode/consent", "origin": ', 1))
    status, line = run(["receipt", receipt, "--public-keys-file", str(repeated)])
    assert line.startswith("invalid: MALFORMED: public keys file: "), line


def test_a_retired_flag_must_agree_with_a_public_keys_file(tmp_path: Path, log: MemoryLog, key: NodeKey) -> None:
    receipt = _write(tmp_path / "receipt.json", log.receipt(3, 13))
    keys = _keys_file(tmp_path / "public-keys.json", ORIGIN, (key, AT_13))
    base = ["receipt", receipt, "--public-keys-file", keys, "--retired"]
    assert run([*base, f"{key.key_id}={_rfc3339(AT_13)}"])[0] == 0
    status, line = run([*base, f"{key.key_id}={_rfc3339(AT_13 + 5)}"])
    assert (status, line.startswith("invalid: MALFORMED: retired: ")) == (1, True), line
    # --retired may name a key given only by the file.
    unretired = _keys_file(tmp_path / "unretired.json", ORIGIN, (key, None))
    status, line = run(
        ["receipt", receipt, "--public-keys-file", unretired, "--retired", f"{key.key_id}=1970-01-01T00:00:00Z"]
    )
    assert line.startswith("invalid: KEY_RETIRED: "), line


def test_the_verifier_still_needs_a_key(tmp_path: Path, log: MemoryLog) -> None:
    receipt = _write(tmp_path / "receipt.json", log.receipt(3, 13))
    with pytest.raises(SystemExit) as exit_:
        run(["receipt", receipt])
    assert exit_.value.code == 2
