"""PostgreSQL only: two registrations of one public key for two enterprises at once, only one takes it.

Under READ COMMITTED neither sees the other's uncommitted key when it asks who holds it; without ordering the two,
both would register, one key then signing for two enterprises. SQLite serializes writers (BEGIN IMMEDIATE), so it
has no race.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text

from services.kit.errors import InvalidArgument
from services.registry import usecases as puc
from services.registry.store.repositories import SqlEnterprises, SqlRegistryUnitOfWork
from tests.conftest import PG_URL
from tests.integration.registry.records_support import store_with_a_city_platform
from tests.registry_helpers import random_uscc

pytestmark = pytest.mark.skipif(not PG_URL, reason="a PostgreSQL race: needs CREDITNODE_TEST_PG_URL")

Uow = Callable[[], SqlRegistryUnitOfWork]


@pytest.fixture
def uow(engine: Engine) -> Uow:
    return store_with_a_city_platform(engine)


def _register(uow: Uow, uscc: str, key: bytes) -> None:
    puc.register_enterprise(uow(), platform_id="city-1", uscc=uscc, display_name="x",
                            public_key=key, idem=puc.Idempotency(), now=datetime.now(UTC))  # fmt: skip


def test_two_registrations_racing_with_one_key_do_not_both_take_it(
    engine: Engine, uow: Uow, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    first, second = random_uscc(), random_uscc()
    outcomes: list[BaseException | None] = []

    def second_registration() -> None:
        try:
            _register(uow, second, key)
            outcomes.append(None)
        except BaseException as exc:  # reported by the test, not lost in the thread
            outcomes.append(exc)

    racer = threading.Thread(target=second_registration)
    original = SqlEnterprises.key_holder

    def the_other_registers_meanwhile(self: SqlEnterprises, public_key: bytes) -> str | None:
        found = original(self, public_key)
        if not racer.is_alive() and not outcomes and threading.current_thread() is not racer:
            # The first found no holder and has not committed: the second registers now, until it waits for the
            # first (a lock not granted) or, unordered, has committed too.
            racer.start()
            deadline = time.monotonic() + 10
            with engine.connect() as conn:
                while racer.is_alive() and time.monotonic() < deadline:
                    # This test's database only: the server is shared, and another's waiter must not end the wait.
                    q = (
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    )
                    if conn.execute(text(q)).scalar_one():
                        break
                    time.sleep(0.01)
        return found

    monkeypatch.setattr(SqlEnterprises, "key_holder", the_other_registers_meanwhile)
    _register(uow, first, key)
    racer.join(10)
    monkeypatch.undo()
    assert not racer.is_alive()
    (outcome,) = outcomes
    assert isinstance(outcome, InvalidArgument), outcome
    assert outcome.reason == "ERROR_REASON_INVALID_KEY"
    with uow() as u:
        assert u.enterprises.key_holder(key) == first
        assert u.enterprises.get(second) is None
