"""One key, one enterprise: registration and rotation refuse a key another enterprise holds or held, over fakes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.kit.errors import InvalidArgument
from services.registry import usecases
from services.registry.domain.participants import Enterprise, EnterpriseKey, KeyState, key_id_of, rotation_message
from services.registry.domain.uscc import make_uscc
from services.registry.usecases import Idempotency
from tests.unit.registry.test_key_replacement import NOW, OTHER_USCC, USCC, FakeUow, _Enterprises, _key, _raw

NEW_USCC = make_uscc("9", "1", "610100", "MA6TG8XN")


class _Admitted:
    proxy_id = ""

    def has_access(self, proxy: object) -> bool:
        return True


class _Platforms:
    def get(self, platform_id: str) -> _Admitted | None:
        return _Admitted() if platform_id == "xian" else None


@dataclass
class _Records:
    parked_applied: list[str] = field(default_factory=list)

    def lock_for_registration(self, uscc: str) -> None:
        pass

    def apply_parked(self, uscc: str, revision: int, now: datetime) -> None:
        self.parked_applied.append(uscc)


class _AllEnterprises(_Enterprises):
    def add(self, enterprise: Enterprise) -> None:
        self.stored[enterprise.uscc] = enterprise


@dataclass
class _Uow(FakeUow):
    enterprises: _AllEnterprises = field(default_factory=_AllEnterprises)
    platforms: _Platforms = field(default_factory=_Platforms)
    records: _Records = field(default_factory=_Records)


def _with_other_enterprise(active: bytes, retired: bytes) -> _Uow:
    """OTHER_USCC holds ``active`` and once held ``retired``."""
    uow = _Uow()
    keys = [EnterpriseKey(key_id_of(retired), retired, KeyState.RETIRED, NOW, NOW), _key(active)]
    uow.enterprises.stored[OTHER_USCC] = Enterprise(OTHER_USCC, "另一公司", "xian", keys, False, NOW, NOW)
    return uow


def _register(uow: _Uow, public_key: bytes) -> Enterprise:
    return usecases.register_enterprise(
        uow,  # type: ignore[arg-type]
        platform_id="xian",
        uscc=NEW_USCC,
        display_name="陕西新登记科技有限公司",
        public_key=public_key,
        idem=Idempotency(),
        now=NOW,
    )


def _refused_as_used(err: pytest.ExceptionInfo[InvalidArgument], field_name: str) -> None:
    assert err.value.reason == "ERROR_REASON_INVALID_KEY"
    assert err.value.metadata == {"field": field_name}
    # Whose key it is is not told.
    assert OTHER_USCC not in str(err.value)
    assert OTHER_USCC not in str(err.value.metadata)


def test_registration_refuses_a_key_another_enterprise_holds_or_held() -> None:
    active, retired = _raw(), _raw()
    uow = _with_other_enterprise(active, retired)
    for used in (active, retired):
        with pytest.raises(InvalidArgument) as err:
            _register(uow, used)
        _refused_as_used(err, "public_key")
    assert NEW_USCC not in uow.enterprises.stored
    assert uow.enterprises.locked == [active, retired]  # before asking who holds it (a racing registration waits)
    assert (uow.events.appended, uow.records.parked_applied, uow.commits) == ([], [], 0)
    # A key nobody held registers as before.
    fresh = _raw()
    registered = _register(uow, fresh)
    assert [(k.public_key, k.state) for k in registered.keys] == [(fresh, KeyState.ACTIVE)]
    assert uow.commits == 1


def test_rotation_refuses_a_key_another_enterprise_holds_or_held() -> None:
    active, retired = _raw(), _raw()
    uow = _with_other_enterprise(active, retired)
    signer = Ed25519PrivateKey.generate()
    own = signer.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    uow.enterprises.stored[USCC] = Enterprise(USCC, "陕西测试科技有限公司", "xian", [_key(own)], False, NOW, NOW)

    def rotate(new: bytes) -> Enterprise:
        signer_id = key_id_of(own)
        return usecases.rotate_enterprise_key(
            uow,  # type: ignore[arg-type]
            uscc=USCC,
            new_public_key=new,
            signing_key_id=signer_id,
            signed_at=NOW,
            signature=signer.sign(rotation_message(USCC, signer_id, new, NOW)),
            idem=Idempotency(),
            now=NOW,
        )

    for used in (active, retired):
        with pytest.raises(InvalidArgument) as err:
            rotate(used)
        _refused_as_used(err, "new_public_key")
    assert [(k.public_key, k.state) for k in uow.enterprises.stored[USCC].keys] == [(own, KeyState.ACTIVE)]
    assert uow.enterprises.locked == [active, retired]
    assert (uow.events.appended, uow.commits) == ([], 0)
    # A key nobody held is rotated to as before.
    fresh = _raw()
    rotated = rotate(fresh)
    assert [(k.public_key, k.state) for k in rotated.keys] == [(own, KeyState.RETIRED), (fresh, KeyState.ACTIVE)]
    assert uow.commits == 1
