"""``creditctl enterprise replace-key`` against a fake node: the key it reads, the change it sends, what it prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.rpc import code_pb2

from creditnode.registry.v1 import participants_pb2 as pb
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from tests.unit.ctl.conftest import Ctl
from tests.unit.ctl.fakes import FakeNode, Refusal

USCC = "91610100MA6TG8XL5Y"
VERIFIED = ("--actor", "ops:test", "--reason", "legal representative verified", "--evidence", "IDV-2026-88")


def _key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _replaced(request: admin_pb.ReplaceEnterpriseKeyRequest) -> admin_pb.ReplaceEnterpriseKeyResponse:
    return admin_pb.ReplaceEnterpriseKeyResponse(
        enterprise=pb.Enterprise(
            name=request.name,
            uscc=request.name.removeprefix("enterprises/"),
            display_name="陕西测试科技有限公司",
            keys=[
                pb.EnterpriseKey(key_id="0011223344556677", state=pb.KEY_STATE_RETIRED),
                pb.EnterpriseKey(
                    key_id="8899aabbccddeeff", public_key=request.new_public_key, state=pb.KEY_STATE_ACTIVE
                ),
            ],
            etag="3",
        )
    )


@pytest.mark.parametrize("form", ["pem", "raw", "hex"])
def test_replace_key_sends_the_key_from_the_file_with_the_change(
    ctl: Ctl, address: str, node: FakeNode, tmp_path: Path, form: str
) -> None:
    key = _key()
    path = tmp_path / "new.pub"
    if form == "pem":
        path.write_bytes(
            key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
    elif form == "raw":
        path.write_bytes(_raw(key))
    else:
        path.write_text(_raw(key).hex() + "\n")
    node.answers["ReplaceEnterpriseKey"] = _replaced
    result = ctl("enterprise", "replace-key", USCC, "--public-key-file", str(path), *VERIFIED, "--request-id", "r-1")
    assert result.code == 0, result.err
    (request,) = node.requests["ReplaceEnterpriseKey"]
    assert request.name == f"enterprises/{USCC}"
    assert request.new_public_key == _raw(key)
    assert (request.change.actor, request.change.reason, list(request.change.evidence), request.change.request_id) == (
        "ops:test", "legal representative verified", ["IDV-2026-88"], "r-1",
    )  # fmt: skip
    assert "8899aabbccddeeff" in result.out
    assert "ACTIVE" in result.out
    assert "RETIRED" in result.out


def test_replace_key_json_is_the_enterprise(ctl: Ctl, address: str, node: FakeNode, tmp_path: Path) -> None:
    path = tmp_path / "new.pub"
    path.write_bytes(_raw(_key()))
    node.answers["ReplaceEnterpriseKey"] = _replaced
    result = ctl(
        "--json", "enterprise", "replace-key", f"enterprises/{USCC}", "--public-key-file", str(path), *VERIFIED
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["enterprise"]["name"] == f"enterprises/{USCC}"
    assert [k["state"] for k in data["enterprise"]["keys"]] == ["KEY_STATE_RETIRED", "KEY_STATE_ACTIVE"]


@pytest.mark.parametrize(
    "content",
    [b"hello", b"\x00" * 31, b"-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n"],
    ids=["text", "short", "bad-pem"],
)
def test_a_file_that_is_no_ed25519_public_key_is_a_usage_error(
    ctl: Ctl, address: str, node: FakeNode, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "bad.pub"
    path.write_bytes(content)
    result = ctl("enterprise", "replace-key", USCC, "--public-key-file", str(path), *VERIFIED)
    assert result.code == 2, result.err
    assert "ReplaceEnterpriseKey" not in node.requests


def test_a_private_key_file_is_refused_and_its_content_never_sent(
    ctl: Ctl, address: str, node: FakeNode, tmp_path: Path
) -> None:
    path = tmp_path / "new.key"
    path.write_bytes(
        _key().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    assert ctl("enterprise", "replace-key", USCC, "--public-key-file", str(path), *VERIFIED).code == 2
    assert "ReplaceEnterpriseKey" not in node.requests


def test_evidence_is_required(ctl: Ctl, address: str, node: FakeNode, tmp_path: Path) -> None:
    path = tmp_path / "new.pub"
    path.write_bytes(_raw(_key()))
    result = ctl("enterprise", "replace-key", USCC, "--public-key-file", str(path), "--actor", "a", "--reason", "r")
    assert result.code == 2
    assert "--evidence" in result.err
    assert "ReplaceEnterpriseKey" not in node.requests


def test_a_refusal_exits_1_with_its_reason(ctl: Ctl, address: str, node: FakeNode, tmp_path: Path) -> None:
    path = tmp_path / "new.pub"
    path.write_bytes(_raw(_key()))
    node.answers["ReplaceEnterpriseKey"] = Refusal(
        code_pb2.INVALID_ARGUMENT, "new_public_key was already registered", "ERROR_REASON_INVALID_KEY"
    )
    result = ctl("enterprise", "replace-key", USCC, "--public-key-file", str(path), *VERIFIED)
    assert result.code == 1
    assert "ERROR_REASON_INVALID_KEY" in result.err
