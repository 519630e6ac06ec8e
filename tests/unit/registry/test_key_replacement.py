"""Replacing a lost or refused enterprise key by the operator (ReplaceEnterpriseKey), over a fake unit of work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.kit.errors import Aborted, InvalidArgument, NotFound
from services.registry import usecases
from services.registry.domain.participants import (
    ChangeInfo,
    Enterprise,
    EnterpriseKey,
    KeyState,
    StatusChange,
    key_id_of,
)
from services.registry.domain.ports import EventType, ParticipantEvent, ParticipantKind, RequestRecord
from services.registry.domain.uscc import make_uscc
from services.registry.usecases import Idempotency

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
USCC = make_uscc("9", "1", "610100", "MA6TG8XL")
OTHER_USCC = make_uscc("9", "1", "610100", "MA6TG8XM")
VERIFIED = ChangeInfo(actor="ops:li", reason="legal representative verified in person", evidence=("ticket-2026-88",))
IDENTITY = (1).to_bytes(32, "little")  # the neutral point: anyone can sign for it
ORDER_4 = bytes(32)


def _raw() -> bytes:
    return (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def _key(raw: bytes, at: datetime = NOW - timedelta(days=30)) -> EnterpriseKey:
    return EnterpriseKey(key_id_of(raw), raw, KeyState.ACTIVE, at)


@dataclass
class _Enterprises:
    stored: dict[str, Enterprise] = field(default_factory=dict)
    locked: list[bytes] = field(default_factory=list)

    def get(self, uscc: str) -> Enterprise | None:
        e = self.stored.get(uscc)
        if e is None:
            return None
        keys = [EnterpriseKey(k.key_id, k.public_key, k.state, k.created_at, k.retired_at) for k in e.keys]
        return Enterprise(e.uscc, e.display_name, e.platform_id, keys, False, e.created_at, e.updated_at, e.version)

    def save(self, enterprise: Enterprise) -> None:
        enterprise.version += 1
        self.stored[enterprise.uscc] = enterprise

    def lock_key(self, public_key: bytes) -> None:
        self.locked.append(public_key)

    def key_holder(self, public_key: bytes) -> str | None:
        return next((u for u, e in self.stored.items() if any(k.public_key == public_key for k in e.keys)), None)


@dataclass
class _Events:
    revision: int = 41
    appended: list[ParticipantEvent] = field(default_factory=list)

    def next_revision(self) -> int:
        self.revision += 1
        return self.revision

    def append(self, event: ParticipantEvent) -> None:
        self.appended.append(event)


@dataclass
class _History:
    appended: list[tuple[ParticipantKind, str, StatusChange]] = field(default_factory=list)

    def append(self, kind: ParticipantKind, participant_id: str, change: StatusChange) -> None:
        self.appended.append((kind, participant_id, change))


@dataclass
class _Requests:
    stored: dict[str, RequestRecord] = field(default_factory=dict)

    def get(self, request_id: str) -> RequestRecord | None:
        return self.stored.get(request_id)

    def add(self, record: RequestRecord) -> None:
        self.stored[record.request_id] = record


@dataclass
class FakeUow:
    """What the use case touches; writes count only once committed (a refusal leaves nothing behind)."""

    enterprises: _Enterprises = field(default_factory=_Enterprises)
    events: _Events = field(default_factory=_Events)
    history: _History = field(default_factory=_History)
    requests: _Requests = field(default_factory=_Requests)
    commits: int = 0

    def __enter__(self) -> FakeUow:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        return None

    def commit(self) -> None:
        self.commits += 1


def _uow(*keys: bytes) -> FakeUow:
    uow = FakeUow()
    created = NOW - timedelta(days=30)
    uow.enterprises.stored[USCC] = Enterprise(
        USCC, "陕西测试科技有限公司", "xian", [_key(k) for k in keys], False, created, created
    )
    return uow


def _replace(
    uow: FakeUow, new_key: bytes, change: ChangeInfo = VERIFIED, idem: Idempotency | None = None, uscc: str = USCC
) -> Enterprise:
    return usecases.replace_enterprise_key(
        uow,  # type: ignore[arg-type]
        uscc=uscc,
        new_public_key=new_key,
        change=change,
        idem=idem or Idempotency(),
        now=NOW,
    )


def test_every_active_key_is_retired_the_new_one_active_with_an_event_and_a_history_entry() -> None:
    old, older_active, new = _raw(), _raw(), _raw()
    uow = _uow(old, older_active)
    enterprise = _replace(uow, new)
    stored = uow.enterprises.stored[USCC]
    assert [(k.key_id, k.state, k.retired_at) for k in stored.keys] == [
        (key_id_of(old), KeyState.RETIRED, NOW),
        (key_id_of(older_active), KeyState.RETIRED, NOW),
        (key_id_of(new), KeyState.ACTIVE, None),
    ]
    assert enterprise.keys == stored.keys
    assert stored.updated_at == NOW
    # The event a rotation emits, which the participant watch carries to consent and the gateway.
    assert uow.events.appended == [ParticipantEvent(42, ParticipantKind.ENTERPRISE, USCC, EventType.UPSERT)]
    [(kind, participant, step)] = uow.history.appended
    assert (kind, participant) == (ParticipantKind.ENTERPRISE, USCC)
    assert (step.actor, step.reason, step.evidence, step.at, step.revision) == (
        VERIFIED.actor,
        VERIFIED.reason,
        VERIFIED.evidence,
        NOW,
        42,
    )
    assert step.to_status == "KEY_REPLACED"
    assert uow.commits == 1


def test_an_enterprise_whose_only_key_is_weak_gets_a_new_one() -> None:
    uow = _uow(IDENTITY)  # registered before registration checked keys: it can neither sign nor rotate
    new = _raw()
    _replace(uow, new)
    assert [(k.public_key, k.state) for k in uow.enterprises.stored[USCC].keys] == [
        (IDENTITY, KeyState.RETIRED),
        (new, KeyState.ACTIVE),
    ]


@pytest.mark.parametrize("weak", [IDENTITY, ORDER_4, b"\x01" * 31], ids=["identity", "order-4", "short"])
def test_a_key_registration_would_refuse_is_refused(weak: bytes) -> None:
    old = _raw()
    uow = _uow(old)
    with pytest.raises(InvalidArgument) as err:
        _replace(uow, weak)
    assert err.value.reason == "ERROR_REASON_INVALID_KEY"
    assert err.value.metadata == {"field": "new_public_key"}
    assert [(k.key_id, k.state) for k in uow.enterprises.stored[USCC].keys] == [(key_id_of(old), KeyState.ACTIVE)]
    assert (uow.events.appended, uow.history.appended, uow.commits) == ([], [], 0)


def test_a_key_any_enterprise_ever_held_is_refused() -> None:
    old, retired, others = _raw(), _raw(), _raw()
    uow = _uow(old)
    uow.enterprises.stored[USCC].keys.insert(0, EnterpriseKey(key_id_of(retired), retired, KeyState.RETIRED, NOW))
    uow.enterprises.stored[OTHER_USCC] = Enterprise(OTHER_USCC, "另一公司", "xian", [_key(others)], False, NOW, NOW)
    for used in (old, retired, others):
        with pytest.raises(InvalidArgument) as err:
            _replace(uow, used)
        assert err.value.reason == "ERROR_REASON_INVALID_KEY"
        assert OTHER_USCC not in str(err.value)  # whose key it is is not told
    assert uow.commits == 0


@pytest.mark.parametrize(
    ("change", "field_name"),
    [
        (ChangeInfo(actor="ops:li", reason="verified in person"), "change.evidence"),
        (ChangeInfo(actor="ops:li", evidence=("ticket-2026-88",)), "change.reason"),
    ],
)
def test_reason_and_evidence_of_the_identity_check_are_required(change: ChangeInfo, field_name: str) -> None:
    uow = _uow(_raw())
    with pytest.raises(InvalidArgument) as err:
        _replace(uow, _raw(), change=change)
    assert err.value.reason == "ERROR_REASON_INVALID_FIELD"
    assert err.value.metadata["field"] == field_name
    assert uow.commits == 0


def test_an_unknown_enterprise_is_not_found() -> None:
    with pytest.raises(NotFound) as err:
        _replace(_uow(_raw()), _raw(), uscc=OTHER_USCC)
    assert err.value.reason == "ERROR_REASON_ENTERPRISE_NOT_FOUND"


def test_a_stale_etag_is_aborted() -> None:
    uow = _uow(_raw())
    with pytest.raises(Aborted):
        _replace(uow, _raw(), change=ChangeInfo("ops:li", "verified", ("ticket-1",), etag="7"))
    assert uow.commits == 0


def test_a_retry_returns_the_first_result_and_changes_nothing_more() -> None:
    old, new = _raw(), _raw()
    uow = _uow(old)
    idem = Idempotency("req-1", "fingerprint-a")
    first = _replace(uow, new, idem=idem)
    again = _replace(uow, new, idem=idem)  # the new key is now registered: only a replay can answer this
    assert again.keys == first.keys
    assert len(uow.events.appended) == 1
    assert len(uow.history.appended) == 1
    assert uow.commits == 1
    with pytest.raises(InvalidArgument) as err:
        _replace(uow, _raw(), idem=Idempotency("req-1", "fingerprint-b"))
    assert err.value.reason == "ERROR_REASON_REQUEST_ID_REUSED"
