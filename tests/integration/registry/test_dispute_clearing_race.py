"""Two deliveries of one objection's outcome clear a record's flag at once (objection's outbox delivers at least
once, from any replica, and a claim lapses during a slow call): on SQLite or PostgreSQL (CREDITNODE_TEST_PG_URL),
the flag is cleared once, with one DISPUTE_CLEARED change for the watches; and an enterprise's statement delivered
twice at once is attached once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Engine, func, select, text

from services.kit.workdays import WorkCalendar
from services.registry import record_usecases as rc
from services.registry import usecases as uc
from services.registry.domain.ledger import ChangeType, DisputeOutcome
from services.registry.domain.records import IncomingRecord, Outcome
from services.registry.store.models import RecordDisputeRow, RecordEventRow
from services.registry.store.repositories import SqlEvents, SqlRegistryUnitOfWork
from tests.integration.registry.records_support import store_with_a_city_platform, tax_record
from tests.registry_helpers import random_uscc

Uow = Callable[[], SqlRegistryUnitOfWork]
OBJECTION = "objections/o-1"
T0 = datetime.now(UTC)


def _disputed_record(uow: Uow) -> tuple[str, str]:
    """(record id, USCC) of a current record flagged for OBJECTION."""
    uscc = random_uscc()
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    uc.register_enterprise(uow(), platform_id="city-1", uscc=uscc, display_name="测试", public_key=raw,
                           idem=uc.Idempotency(), now=T0)  # fmt: skip
    r = tax_record(uscc, 1)
    rec = IncomingRecord("sx-tax", r["item_code"], r["source_record_id"], 1, uscc, r["event_time"], r["fields"])
    outcome = rc.ingest_chunk(uow(), rc.CatalogueCache(), department="sx-tax", items=[rc.Submitted(1, rec)],
                              batch="b-1", stream_id=None, now=T0, calendar=WorkCalendar.load())  # fmt: skip
    assert outcome.results[0].outcome is Outcome.ACCEPTED
    record_id = outcome.results[0].record_name.rsplit("/", 1)[1]
    rc.set_dispute(uow(), rc.CatalogueCache(), record_id=record_id, uscc=uscc, objection=OBJECTION, now=T0)
    return record_id, uscc


def _clear(uow: Uow, record_id: str, uscc: str, at: datetime) -> None:
    rc.clear_dispute(uow(), rc.CatalogueCache(), record_id=record_id, uscc=uscc, objection=OBJECTION,
                     outcome=DisputeOutcome.UPHELD, corrected_fields={}, statement="", now=at)  # fmt: skip


def test_an_outcome_delivered_twice_at_once_clears_the_flag_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    uow = store_with_a_city_platform(engine)
    record_id, uscc = _disputed_record(uow)
    first_at, second_at = T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)
    next_revision = SqlEvents.next_revision
    failed: list[BaseException] = []
    beside: list[threading.Thread] = []

    def first_delivery() -> None:
        try:
            _clear(uow, record_id, uscc, first_at)
        except BaseException as exc:  # raised again below
            failed.append(exc)

    def the_first_delivery_runs_now(self: SqlEvents) -> int:
        # The second delivery has read the flag; the first now clears it, and commits unless it has to wait for
        # the second (a lock the second holds on PostgreSQL; SQLite's one writer, the nearest interleaving there).
        monkeypatch.setattr(SqlEvents, "next_revision", next_revision)
        thread = threading.Thread(target=first_delivery)
        thread.start()
        beside.append(thread)
        if backend == "postgresql":
            _until_done_or_waiting(thread, engine)
        return next_revision(self)

    monkeypatch.setattr(SqlEvents, "next_revision", the_first_delivery_runs_now)
    _clear(uow, record_id, uscc, second_at)
    beside[0].join()
    if failed:
        raise failed[0]
    with uow() as u:
        cleared = u.session.execute(
            select(func.count())
            .select_from(RecordEventRow)
            .where(RecordEventRow.record_id == record_id, RecordEventRow.type == ChangeType.DISPUTE_CLEARED.value)
        ).scalar_one()
        flag = u.session.execute(
            select(RecordDisputeRow.outcome, RecordDisputeRow.cleared_at).where(
                RecordDisputeRow.record_id == record_id, RecordDisputeRow.objection == OBJECTION
            )
        ).one()
    assert cleared == 1
    assert flag.outcome == DisputeOutcome.UPHELD.value
    assert flag.cleared_at in (first_at, second_at)


def test_a_statement_delivered_twice_at_once_is_attached_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    uow = store_with_a_city_platform(engine)
    record_id, uscc = _disputed_record(uow)
    _clear(uow, record_id, uscc, T0 + timedelta(minutes=1))
    next_revision = SqlEvents.next_revision
    failed: list[BaseException] = []
    beside: list[threading.Thread] = []

    def attach() -> None:
        rc.attach_statement(uow(), rc.CatalogueCache(), record_id=record_id, uscc=uscc, objection=OBJECTION,
                            statement="我方已于次月补缴")  # fmt: skip

    def first_delivery() -> None:
        try:
            attach()
        except BaseException as exc:  # raised again below
            failed.append(exc)

    def the_first_delivery_runs_now(self: SqlEvents) -> int:
        # The second delivery has read the flag without the statement and set it; the first now reads the flag too,
        # and commits unless it has to wait for the second.
        monkeypatch.setattr(SqlEvents, "next_revision", next_revision)
        thread = threading.Thread(target=first_delivery)
        thread.start()
        beside.append(thread)
        if backend == "postgresql":
            _until_done_or_waiting(thread, engine)
        return next_revision(self)

    monkeypatch.setattr(SqlEvents, "next_revision", the_first_delivery_runs_now)
    attach()
    beside[0].join()
    if failed:
        raise failed[0]
    with uow() as u:
        changes = u.session.execute(
            select(func.count())
            .select_from(RecordEventRow)
            .where(RecordEventRow.record_id == record_id, RecordEventRow.type == ChangeType.DISPUTE_CLEARED.value)
        ).scalar_one()
    assert changes == 2  # the clearing's and one attachment's


def _until_done_or_waiting(thread: threading.Thread, engine: Engine) -> None:
    """Until ``thread`` ended or a session of the database waits for a lock (no timed assertion: the test timeout
    rules)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while thread.is_alive():
        with engine.connect() as conn:
            if conn.execute(waiting).scalar_one():
                return
        time.sleep(0.01)
