"""Node signing keys and signed tree heads: what is signed, how key ids are derived, how heads travel as JSON.

A head signs the UTF-8 bytes of five lines, each ended by a newline::

    creditnode.evidence.v1.SignedTreeHead
    <origin>
    <tree_size>
    <base64 root hash>
    <timestamp in milliseconds since the epoch>

with Ed25519. A key id is the first 16 hex digits of SHA-256 of the raw 32-byte public key, so anyone holding a
public key can tell which heads it signed, and an old key keeps verifying the heads it signed after rotation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.kit import merkle

HEAD_CONTEXT = "creditnode.evidence.v1.SignedTreeHead"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def to_ms(at: datetime) -> int:
    """A head's time, exactly: whole milliseconds since the epoch (float seconds could round to the ms before)."""
    return (at - _EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    """The instant of a head's ``timestamp_ms``."""
    return _EPOCH + ms * _MS


_ORIGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/\-]{0,199}$")


def key_id_of(public_key: bytes) -> str:
    """The key id of a raw 32-byte Ed25519 public key."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def check_origin(origin: str) -> str:
    """Origins are short printable names (e.g. ``creditnode/gateway``); a newline could forge the signed lines."""
    if not _ORIGIN.fullmatch(origin):
        raise ValueError("origin must be 1-200 letters, digits, '.', '_', '/' or '-'")
    return origin


@dataclass(frozen=True)
class NodeKey:
    """The node's private signing key for one log, with its derived key id."""

    private_key: Ed25519PrivateKey

    @property
    def public_bytes(self) -> bytes:
        return self.private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_bytes)

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)

    def public_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    @classmethod
    def generate(cls) -> NodeKey:
        return cls(Ed25519PrivateKey.generate())


def load_or_create_node_key(path: Path) -> NodeKey:
    """The PKCS#8 PEM key at ``path``; a new one is written (mode 0600) when the file does not exist yet.

    In production the file comes from a Kubernetes Secret; creating one is for the embedded development node.
    """
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return NodeKey(key)
    node_key = NodeKey.generate()
    pem = node_key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return node_key


def parse_public_key(text: str) -> bytes:
    """A raw 32-byte Ed25519 public key from PEM (SubjectPublicKeyInfo) or base64 of the raw bytes."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the PEM key is not an Ed25519 public key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError("a public key is PEM or base64 of 32 raw bytes") from None
    if len(raw) != 32:
        raise ValueError("a raw Ed25519 public key is 32 bytes")
    return raw


@dataclass(frozen=True)
class SignedTreeHead:
    """A signed commitment to the first ``tree_size`` leaves of the log named ``origin``."""

    origin: str
    tree_size: int
    root_hash: bytes
    timestamp_ms: int
    key_id: str
    signature: bytes

    @staticmethod
    def signed_bytes(origin: str, tree_size: int, root_hash: bytes, timestamp_ms: int) -> bytes:
        lines = [HEAD_CONTEXT, check_origin(origin), str(tree_size), base64.b64encode(root_hash).decode()]
        return ("\n".join([*lines, str(timestamp_ms)]) + "\n").encode()

    @classmethod
    def sign(cls, key: NodeKey, origin: str, tree_size: int, root_hash: bytes, timestamp_ms: int) -> SignedTreeHead:
        message = cls.signed_bytes(origin, tree_size, root_hash, timestamp_ms)
        return cls(origin, tree_size, root_hash, timestamp_ms, key.key_id, key.sign(message))

    def signature_valid(self, public_key: bytes) -> bool:
        """True when ``public_key`` signed exactly these fields."""
        try:
            message = self.signed_bytes(self.origin, self.tree_size, self.root_hash, self.timestamp_ms)
            Ed25519PublicKey.from_public_bytes(public_key).verify(self.signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_obj(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "tree_size": self.tree_size,
            "root_hash": base64.b64encode(self.root_hash).decode(),
            "timestamp_ms": self.timestamp_ms,
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_obj(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_obj(cls, obj: Any) -> SignedTreeHead:
        """Parse a head; ValueError says which field is malformed."""
        if not isinstance(obj, Mapping):
            raise ValueError("a tree head is a JSON object")
        origin = _field(obj, "origin", str)
        check_origin(origin)
        tree_size = _field(obj, "tree_size", int)
        timestamp_ms = _field(obj, "timestamp_ms", int)
        if tree_size < 0 or timestamp_ms < 0:
            raise ValueError("tree_size and timestamp_ms are not negative")
        root_hash = b64_field(obj, "root_hash")
        if len(root_hash) != merkle.HASH_SIZE:
            raise ValueError("root_hash is not 32 bytes")
        signature = b64_field(obj, "signature")
        key_id = _field(obj, "key_id", str)
        return cls(origin, tree_size, root_hash, timestamp_ms, key_id, signature)


def _field(obj: Mapping[str, Any], name: str, kind: type[Any]) -> Any:
    value = obj.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{name} is missing or not a {kind.__name__}")
    return value


def b64_field(obj: Mapping[str, Any], name: str) -> bytes:
    """A base64 field decoded strictly; ValueError names the field."""
    return b64decode(_field(obj, name, str), name)


def b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not valid base64") from None


def b64_list_field(obj: Mapping[str, Any], name: str) -> list[bytes]:
    """A list of base64 strings decoded strictly; ``null`` counts as empty."""
    value = obj.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} is not a list of base64 strings")
    return [b64decode(v, f"{name}[{i}]") for i, v in enumerate(value)]


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode()
