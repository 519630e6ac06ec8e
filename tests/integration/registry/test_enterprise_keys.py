"""Enterprise keys through the registry's API: a key anyone can sign for is never registered or rotated to."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime

import grpc
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from creditnode.registry.v1 import participants_pb2 as pp
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from services.kit.db import make_engine, session_factories
from services.kit.status import error_info
from services.registry.domain.participants import Enterprise, EnterpriseKey, KeyState, key_id_of, rotation_message
from services.registry.store.repositories import SqlRegistryUnitOfWork
from tests.registry_helpers import RegistryClient, random_uscc, ts

P = 2**255 - 19
IDENTITY = (1).to_bytes(32, "little")  # the neutral point: every (R = s·B, s) verifies for it, whatever the message
ORDER_4 = bytes(32)  # 32 zero bytes, as a client with an unfilled buffer sends: a point of order 4
# (R = 1·B, s = 1): made without any private key, it verifies for the identity point over any message.
FORGED = (4 * pow(5, P - 2, P) % P).to_bytes(32, "little") + (1).to_bytes(32, "little")


@pytest.fixture
def client(registry_server: str) -> Iterator[RegistryClient]:
    channel = grpc.insecure_channel(registry_server)
    yield RegistryClient(channel)
    channel.close()


def _invalid_key(call: object) -> None:
    with pytest.raises(grpc.RpcError) as err:
        call()  # type: ignore[operator]
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    info = error_info(err.value)
    assert info is not None
    assert info.reason == "ERROR_REASON_INVALID_KEY"


def test_an_enterprise_is_never_registered_with_a_key_anyone_can_sign_for(client: RegistryClient) -> None:
    platform, _ = client.admitted_platform()
    uscc = random_uscc()

    def register(public_key: bytes) -> object:
        return client.registry.RegisterEnterprise(
            rs_pb.RegisterEnterpriseRequest(
                platform=platform.name, uscc=uscc, display_name="某公司", public_key=public_key
            )
        )

    for weak in (IDENTITY, ORDER_4):
        _invalid_key(lambda w=weak: register(w))
    # Had it been registered, a stranger could take the enterprise over with a forged rotation:
    attacker = Ed25519PrivateKey.generate()
    attacker_raw = attacker.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    now = datetime.now(UTC).replace(microsecond=0)
    with pytest.raises(grpc.RpcError) as err:
        client.registry.RotateEnterpriseKey(
            rs_pb.RotateEnterpriseKeyRequest(
                name=f"enterprises/{uscc}",
                new_public_key=attacker_raw,
                signing_key_id=hashlib.sha256(IDENTITY).hexdigest()[:16],
                signed_at=ts(now),
                signature=FORGED,
            )
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_an_enterprise_cannot_rotate_to_a_key_anyone_can_sign_for(client: RegistryClient) -> None:
    platform, _ = client.admitted_platform()
    enterprise, key = client.enterprise(platform.name)
    key_id = enterprise.keys[0].key_id
    now = datetime.now(UTC).replace(microsecond=0)
    for weak in (IDENTITY, ORDER_4):
        _invalid_key(
            lambda w=weak: client.registry.RotateEnterpriseKey(
                rs_pb.RotateEnterpriseKeyRequest(
                    name=enterprise.name,
                    new_public_key=w,
                    signing_key_id=key_id,
                    signed_at=ts(now),
                    signature=key.sign(rotation_message(enterprise.uscc, key_id, w, now)),
                )
            )
        )
    stored = client.registry.GetEnterprise(rs_pb.GetEnterpriseRequest(name=enterprise.name)).enterprise
    assert [k.key_id for k in stored.keys] == [key_id]


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_a_key_another_enterprise_holds_or_held_is_neither_registered_nor_rotated_to(client: RegistryClient) -> None:
    """One key signing for two enterprises would let either's holder authorize, rotate or object for the other."""
    platform, _ = client.admitted_platform()
    holder, held = client.enterprise(platform.name)
    # The holder rotates away from its first key: retired, still never anyone else's.
    once_held = held
    held = Ed25519PrivateKey.generate()
    now = datetime.now(UTC).replace(microsecond=0)
    old_id = holder.keys[0].key_id
    client.registry.RotateEnterpriseKey(
        rs_pb.RotateEnterpriseKeyRequest(
            name=holder.name,
            new_public_key=_raw(held),
            signing_key_id=old_id,
            signed_at=ts(now),
            signature=once_held.sign(rotation_message(holder.uscc, old_id, _raw(held), now)),
        )
    )
    newcomer = random_uscc()
    other, other_key = client.enterprise(platform.name)
    other_id = other.keys[0].key_id
    for used in (held, once_held):
        with pytest.raises(grpc.RpcError) as err:
            client.registry.RegisterEnterprise(
                rs_pb.RegisterEnterpriseRequest(
                    platform=platform.name, uscc=newcomer, display_name="某公司", public_key=_raw(used)
                )
            )
        assert (err.value.code(), error_info(err.value).reason) == (  # type: ignore[union-attr]
            grpc.StatusCode.INVALID_ARGUMENT,
            "ERROR_REASON_INVALID_KEY",
        )
        assert holder.uscc not in (err.value.details() or "")  # whose key it is is not told
        with pytest.raises(grpc.RpcError) as err:
            client.registry.RotateEnterpriseKey(
                rs_pb.RotateEnterpriseKeyRequest(
                    name=other.name,
                    new_public_key=_raw(used),
                    signing_key_id=other_id,
                    signed_at=ts(now),
                    signature=other_key.sign(rotation_message(other.uscc, other_id, _raw(used), now)),
                )
            )
        assert (err.value.code(), error_info(err.value).reason) == (  # type: ignore[union-attr]
            grpc.StatusCode.INVALID_ARGUMENT,
            "ERROR_REASON_INVALID_KEY",
        )
        assert holder.uscc not in (err.value.details() or "")
    with pytest.raises(grpc.RpcError) as err:
        client.registry.GetEnterprise(rs_pb.GetEnterpriseRequest(name=f"enterprises/{newcomer}"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    stored = client.registry.GetEnterprise(rs_pb.GetEnterpriseRequest(name=other.name)).enterprise
    assert [k.key_id for k in stored.keys] == [other_id]


def test_a_key_anyone_can_sign_for_stored_before_the_check_is_refused_when_it_signs(
    client: RegistryClient, database_url: str
) -> None:
    """A key registered before registration checked keys (written here through the storage port, as old code did)
    is refused when it is used: a stranger's forged rotation takes nothing over, and says why."""
    platform, _ = client.admitted_platform()
    uscc = random_uscc()
    now = datetime.now(UTC).replace(microsecond=0)
    old_key = EnterpriseKey(key_id_of(IDENTITY), IDENTITY, KeyState.ACTIVE, now)
    engine = make_engine(database_url)
    try:
        writer, _ = session_factories(engine)
        with SqlRegistryUnitOfWork(writer) as uow:
            uow.enterprises.add(Enterprise(uscc, "某公司", platform.name.split("/")[1], [old_key], False, now, now))
            uow.commit()
    finally:
        engine.dispose()
    attacker = Ed25519PrivateKey.generate()
    attacker_raw = attacker.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    with pytest.raises(grpc.RpcError) as err:
        client.registry.RotateEnterpriseKey(
            rs_pb.RotateEnterpriseKeyRequest(
                name=f"enterprises/{uscc}",
                new_public_key=attacker_raw,
                signing_key_id=old_key.key_id,
                signed_at=ts(now),
                signature=FORGED,
            )
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION, err.value.details()
    info = error_info(err.value)
    assert info is not None
    assert info.reason == "ERROR_REASON_KEY_NOT_ACTIVE"
    assert "anyone can sign" in (err.value.details() or "")
    stored = client.registry.GetEnterprise(rs_pb.GetEnterpriseRequest(name=f"enterprises/{uscc}")).enterprise
    assert [(k.key_id, k.state) for k in stored.keys] == [(old_key.key_id, pp.KEY_STATE_ACTIVE)]
