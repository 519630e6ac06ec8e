"""An enterprise that lost its key gets a new one from the operator, through a real registry (ReplaceEnterpriseKey)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from creditnode.registry.v1 import participants_pb2 as pp
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from services.kit.db import make_engine, session_factories
from services.kit.status import error_info
from services.registry.domain.participants import key_id_of, rotation_message
from services.registry.domain.ports import ParticipantKind
from services.registry.main import RegistrySettings, build
from services.registry.store.repositories import SqlRegistryUnitOfWork
from tests.conftest import free_port
from tests.registry_helpers import RegistryClient, random_uscc, ts

IDENTITY = (1).to_bytes(32, "little")  # the neutral point: anyone can sign for it


@pytest.fixture
def client(registry_server: str) -> Iterator[RegistryClient]:
    channel = grpc.insecure_channel(registry_server)
    yield RegistryClient(channel)
    channel.close()


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _verified(request_id: str = "", evidence: tuple[str, ...] = ("idv-ticket-2026-0042",)) -> admin_pb.Change:
    return admin_pb.Change(
        actor="ops:registry",
        reason="legal representative and business licence verified at the service hall",
        evidence=list(evidence),
        request_id=request_id,
    )


def _replace(client: RegistryClient, name: str, new_key: bytes, **kw: object) -> pp.Enterprise:
    request = admin_pb.ReplaceEnterpriseKeyRequest(name=name, new_public_key=new_key, change=_verified(**kw))  # type: ignore[arg-type]
    return client.admin.ReplaceEnterpriseKey(request).enterprise


def _rotate(
    client: RegistryClient, name: str, uscc: str, signer: Ed25519PrivateKey
) -> rs_pb.RotateEnterpriseKeyResponse:
    """A rotation signed by ``signer``, to a fresh key."""
    now = datetime.now(UTC).replace(microsecond=0)
    new = _raw(Ed25519PrivateKey.generate())
    signer_id = key_id_of(_raw(signer))
    return client.registry.RotateEnterpriseKey(
        rs_pb.RotateEnterpriseKeyRequest(
            name=name,
            new_public_key=new,
            signing_key_id=signer_id,
            signed_at=ts(now),
            signature=signer.sign(rotation_message(uscc, signer_id, new, now)),
        )
    )


def _refused(call: object, code: grpc.StatusCode, reason: str) -> None:
    with pytest.raises(grpc.RpcError) as err:
        call()  # type: ignore[operator]
    assert err.value.code() == code, err.value.details()
    info = error_info(err.value)
    assert info is not None
    assert info.reason == reason


def test_after_a_replacement_the_old_key_signs_nothing_and_the_new_one_does(
    client: RegistryClient, database_url: str
) -> None:
    platform, _ = client.admitted_platform()
    enterprise, lost = client.enterprise(platform.name)
    found = Ed25519PrivateKey.generate()
    replaced = _replace(client, enterprise.name, _raw(found), request_id="replace-1")
    assert [(k.key_id, k.state) for k in replaced.keys] == [
        (key_id_of(_raw(lost)), pp.KEY_STATE_RETIRED),
        (key_id_of(_raw(found)), pp.KEY_STATE_ACTIVE),
    ]
    assert replaced.keys[0].HasField("retire_time")
    # A retry answers the first result (the new key is registered now: only a replay can answer it).
    assert _replace(client, enterprise.name, _raw(found), request_id="replace-1") == replaced

    _refused(
        lambda: _rotate(client, enterprise.name, enterprise.uscc, lost),
        grpc.StatusCode.FAILED_PRECONDITION,
        "ERROR_REASON_KEY_NOT_ACTIVE",
    )
    rotated = _rotate(client, enterprise.name, enterprise.uscc, found).enterprise
    assert [k.state for k in rotated.keys] == [pp.KEY_STATE_RETIRED, pp.KEY_STATE_RETIRED, pp.KEY_STATE_ACTIVE]
    # Recorded once, with who did it and on what evidence, as the operators' other changes are.
    engine = make_engine(database_url)
    try:
        _, reader = session_factories(engine)
        with SqlRegistryUnitOfWork(reader) as uow:
            history = uow.history.page(ParticipantKind.ENTERPRISE, enterprise.uscc, after=0, limit=10)
    finally:
        engine.dispose()
    assert [(c.to_status, c.actor, c.evidence) for _, c in history] == [
        ("KEY_REPLACED", "ops:registry", ("idv-ticket-2026-0042",))
    ]


def test_a_replacement_is_refused_without_evidence_for_a_weak_or_used_key_or_an_unknown_enterprise(
    client: RegistryClient,
) -> None:
    platform, _ = client.admitted_platform()
    enterprise, key = client.enterprise(platform.name)
    other, other_key = client.enterprise(platform.name)
    fresh = _raw(Ed25519PrivateKey.generate())
    _refused(
        lambda: _replace(client, enterprise.name, fresh, evidence=()),
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_INVALID_FIELD",
    )
    for refused_key in (IDENTITY, bytes(32), _raw(other_key), _raw(key)):
        _refused(
            lambda k=refused_key: _replace(client, enterprise.name, k),
            grpc.StatusCode.INVALID_ARGUMENT,
            "ERROR_REASON_INVALID_KEY",
        )
    _refused(
        lambda: _replace(client, f"enterprises/{random_uscc()}", fresh),
        grpc.StatusCode.NOT_FOUND,
        "ERROR_REASON_ENTERPRISE_NOT_FOUND",
    )
    for e, k in ((enterprise, key), (other, other_key)):  # nothing changed
        stored = client.registry.GetEnterprise(rs_pb.GetEnterpriseRequest(name=e.name)).enterprise
        assert [(s.key_id, s.state) for s in stored.keys] == [(key_id_of(_raw(k)), pp.KEY_STATE_ACTIVE)]


def test_the_replacement_is_announced_on_the_participant_watch(client: RegistryClient) -> None:
    platform, _ = client.admitted_platform()
    enterprise, _ = client.enterprise(platform.name)
    found = Ed25519PrivateKey.generate()
    before = client.registry.WatchParticipants(
        rs_pb.WatchParticipantsRequest(kinds=[rs_pb.PARTICIPANT_KIND_ENTERPRISE]), timeout=5
    )
    start = 0
    for response in before:  # the listing, up to its end
        start = max(start, response.revision)
        if response.snapshot_complete:
            break
    before.cancel()
    _replace(client, enterprise.name, _raw(found))
    watch = client.registry.WatchParticipants(
        rs_pb.WatchParticipantsRequest(start_revision=start, kinds=[rs_pb.PARTICIPANT_KIND_ENTERPRISE]), timeout=5
    )
    try:
        for response in watch:
            events = [e for e in response.events if e.participant.enterprise.name == enterprise.name]
            if events:
                assert events[0].type == rs_pb.PARTICIPANT_EVENT_TYPE_UPSERT
                assert [k.state for k in events[0].participant.enterprise.keys] == [
                    pp.KEY_STATE_RETIRED,
                    pp.KEY_STATE_ACTIVE,
                ]
                break
    finally:
        watch.cancel()


def test_the_ingestion_port_does_not_serve_key_replacement(database_url: str, tmp_path: Path) -> None:
    # Operators' methods are served only where RegistryAdminService is, never on the exchange's ingestion port.
    ingest_addr = f"127.0.0.1:{free_port()}"
    settings = RegistrySettings(
        listen_addr="127.0.0.1:0",
        database_url=database_url,
        var_dir=tmp_path,
        ca_autocreate=True,
        ingest_listen_addr=ingest_addr,
    )
    server = build(settings, configure_logs=False)
    try:
        with grpc.insecure_channel(server.address) as main, grpc.insecure_channel(ingest_addr) as ingest:
            platform, _ = RegistryClient(main).admitted_platform()
            enterprise, _ = RegistryClient(main).enterprise(platform.name)
            with pytest.raises(grpc.RpcError) as err:
                _replace(RegistryClient(ingest), enterprise.name, _raw(Ed25519PrivateKey.generate()))
            assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
            served = _replace(RegistryClient(main), enterprise.name, _raw(Ed25519PrivateKey.generate()))
            assert served.keys[-1].state == pp.KEY_STATE_ACTIVE
    finally:
        server.stop(0)
