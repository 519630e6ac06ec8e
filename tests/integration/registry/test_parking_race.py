"""PostgreSQL only: a chunk parking records of an enterprise races its RegisterEnterprise, in both orders.

Under READ COMMITTED a registration cannot see a chunk's uncommitted PARKED rows; without ordering the two, a record
could stay parked after its enterprise registered. SQLite serializes writers (BEGIN IMMEDIATE), so it has no race.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text

from services.kit.workdays import WorkCalendar
from services.registry import record_usecases as uc
from services.registry import usecases as puc
from services.registry.domain.ledger import RecordState
from services.registry.domain.records import IncomingRecord, Outcome
from services.registry.store.records import SqlRecords
from services.registry.store.repositories import SqlRegistryUnitOfWork
from tests.conftest import PG_URL
from tests.integration.registry.records_support import store_with_a_city_platform, tax_record
from tests.registry_helpers import random_uscc

pytestmark = pytest.mark.skipif(not PG_URL, reason="a PostgreSQL race: needs CREDITNODE_TEST_PG_URL")

Uow = Callable[[], SqlRegistryUnitOfWork]


@pytest.fixture
def uow(engine: Engine) -> Uow:
    return store_with_a_city_platform(engine)


def _registration(uow: Uow, uscc: str, errors: list[BaseException]) -> threading.Thread:
    def register() -> None:
        try:
            key = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
            puc.register_enterprise(uow(), platform_id="city-1", uscc=uscc, display_name="x",
                                    public_key=key, idem=puc.Idempotency(), now=datetime.now(UTC))  # fmt: skip
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    return threading.Thread(target=register)


def _ingest_one(uow: Uow, uscc: str) -> uc.ChunkOutcome:
    r = tax_record(uscc, 1)
    rec = IncomingRecord("sx-tax", r["item_code"], r["source_record_id"], 1, uscc, r["event_time"], r["fields"])
    return uc.ingest_chunk(uow(), uc.CatalogueCache(), department="sx-tax", items=[uc.Submitted(1, rec)],
                           batch="b", stream_id=None, now=datetime.now(UTC),
                           calendar=WorkCalendar.load())  # fmt: skip


def _served(uow: Uow, out: uc.ChunkOutcome, uscc: str) -> None:
    with uow() as u:
        assert u.enterprises.get(uscc) is not None
        head = u.records.head(out.results[0].record_name.rsplit("/", 1)[1])
    assert head is not None
    assert head.state is RecordState.CURRENT, f"enterprise registered, record {out.results[0].outcome.value} and parked"


def test_a_registration_committing_after_the_chunk_found_no_enterprise_is_seen_by_the_chunk(
    uow: Uow, monkeypatch: pytest.MonkeyPatch
) -> None:
    uscc = random_uscc()
    errors: list[BaseException] = []
    original = SqlRecords.registered
    calls = 0

    def registration_commits_after_the_read(self: SqlRecords, usccs: list[str]) -> set[str]:
        nonlocal calls
        calls += 1
        found = original(self, usccs)
        if calls == 1:  # the chunk's first read: not registered yet; the registration commits now
            t = _registration(uow, uscc, errors)
            t.start()
            t.join(10)
            assert not t.is_alive()
        return found

    monkeypatch.setattr(SqlRecords, "registered", registration_commits_after_the_read)
    out = _ingest_one(uow, uscc)
    monkeypatch.undo()
    assert errors == []
    assert out.results[0].outcome is Outcome.ACCEPTED
    _served(uow, out, uscc)


def test_a_registration_under_way_while_a_chunk_parks_waits_for_it_and_applies_its_records(
    engine: Engine, uow: Uow, monkeypatch: pytest.MonkeyPatch
) -> None:
    uscc = random_uscc()
    errors: list[BaseException] = []
    original = SqlRecords.write
    registration = _registration(uow, uscc, errors)

    def registration_runs_before_the_chunk_commits(self: SqlRecords, writes: Any) -> None:
        original(self, writes)
        registration.start()
        # Until it waits for this chunk (a lock not granted) or, unordered, commits without seeing its records.
        deadline = time.monotonic() + 10
        with engine.connect() as conn:
            while registration.is_alive() and time.monotonic() < deadline:
                # This test's database only: the server is shared, and another's waiter must not end the wait.
                q = (
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                )
                if conn.execute(text(q)).scalar_one():
                    break
                time.sleep(0.01)
        assert registration.is_alive(), "the registration did not wait for the chunk parking its records"

    monkeypatch.setattr(SqlRecords, "write", registration_runs_before_the_chunk_commits)
    out = _ingest_one(uow, uscc)
    monkeypatch.undo()
    registration.join(10)
    assert not registration.is_alive()
    assert errors == []
    assert out.results[0].outcome is Outcome.PARKED
    _served(uow, out, uscc)
