"""Concurrent requests on one objection, on PostgreSQL (SQLite serializes writers: these races cannot happen there)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from services.kit.db import make_engine, migrate
from services.kit.errors import Aborted, AlreadyExists, DomainError
from services.kit.evidence.heads import NodeKey
from services.kit.evidence.log import EvidenceLog
from services.objection import usecases
from services.objection.domain import Objection, ObjectionStatus, Outcome, RecordRef
from services.objection.main import MIGRATIONS
from services.objection.store.models import evidence_models
from services.objection.store.repositories import SqlObjectionUnitOfWork
from services.objection.usecases import Idempotency
from tests.integration.objection_service.test_store import Db
from tests.unit.objection.fakes import MARKET, TAX, World, cst
from tests.unit.objection_service.fakes import lookups


@pytest.fixture
def db(database_url: str, backend: str, tmp_path: Path) -> Iterator[Db]:
    if backend != "postgresql":
        pytest.skip("SQLite takes the write lock before reading, so two writers never interleave")
    engine = make_engine(database_url)
    migrate(engine, MIGRATIONS, "alembic_version_objection")
    evidence = EvidenceLog(engine, evidence_models, origin="test/objection", key=NodeKey.generate()).start()
    try:
        yield Db(engine, evidence)
    finally:
        evidence.close()
        engine.dispose()


class _ReadThenWait:
    """A writer unit of work whose first ``objections.get`` waits at ``barrier``: both writers read before either
    writes, the interleaving an optimistic lock exists for."""

    def __init__(self, uow: SqlObjectionUnitOfWork, barrier: threading.Barrier) -> None:
        self._uow, self._barrier = uow, barrier

    def __enter__(self) -> _ReadThenWait:
        self._uow.__enter__()
        objections = self._uow.objections
        get = objections.get

        def get_then_wait(objection_id: str) -> Objection | None:
            found = get(objection_id)
            self._barrier.wait()
            return found

        objections.get = get_then_wait  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: Any) -> bool | None:
        return self._uow.__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)


def _concurrently(*calls: Callable[[], object]) -> list[object]:
    """Run each call on its own thread; each result is its return value or the DomainError it raised."""
    results: list[object] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except DomainError as exc:
            results[i] = exc
        except Exception as exc:  # anything else is the defect under test: keep it to show it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_departments_answering_one_objection_at_once_one_is_aborted_and_its_retry_resolves(db: Db) -> None:
    world = World()
    command = world.command(records=(world.tax_record, world.market_record))
    filed = usecases.file(db.writer, db.reader, lookups(world), command, Idempotency(), command.forwarded_at)
    barrier = threading.Barrier(2)

    def racing_writer() -> Any:
        return _ReadThenWait(db.writer(), barrier)

    def answer(department: str, target: RecordRef, writer: Any) -> Objection:
        return usecases.answer(
            writer,
            lookups(world),
            filed.id,
            department=department,
            target=target,
            outcome=Outcome.UPHELD,
            corrected_version=None,
            idem=Idempotency(),
            now=cst(2025, 3, 15),
        )

    results = _concurrently(
        lambda: answer(TAX, world.tax_record, racing_writer), lambda: answer(MARKET, world.market_record, racing_writer)
    )
    # Each saw the other target open, so neither resolved: one of them must not commit, and must say so as ABORTED
    # (a client retries that), not as an INTERNAL storage error.
    won = [r for r in results if isinstance(r, Objection)]
    lost = [r for r in results if not isinstance(r, Objection)]
    assert len(won) == 1, results
    assert len(lost) == 1, results
    assert isinstance(lost[0], Aborted), results
    assert lost[0].reason == "ERROR_REASON_CONCURRENT_MODIFICATION"
    # The loser's retry sees the winner's answer and resolves the objection.
    retry = (
        answer(MARKET, world.market_record, db.writer)
        if won[0].lines[0].outcome is not None
        else answer(TAX, world.tax_record, db.writer)
    )
    assert retry.status is ObjectionStatus.RESOLVED
    with db.reader() as uow:
        stored = uow.objections.get(filed.id)
        assert stored is not None
        assert stored.status is ObjectionStatus.RESOLVED
        assert uow.objections.open_objection_on(world.tax_record) is None


class _ReplayThenWait:
    """A writer unit of work whose request lookup waits at ``barrier``: both filings find no earlier request before
    either stores its objection."""

    def __init__(self, uow: SqlObjectionUnitOfWork, barrier: threading.Barrier) -> None:
        self._uow, self._barrier = uow, barrier

    def __enter__(self) -> _ReplayThenWait:
        self._uow.__enter__()
        requests = self._uow.requests
        get = requests.get

        def get_then_wait(request_id: str) -> Any:
            found = get(request_id)
            self._barrier.wait()
            return found

        requests.get = get_then_wait  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: Any) -> bool | None:
        return self._uow.__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)


def test_a_retry_racing_the_first_filing_gets_the_first_result(db: Db) -> None:
    # A platform whose call timed out retries with the same request_id while the first call is still being stored:
    # the retry must return that objection, not ALREADY_EXISTS "an open objection already disputes this target".
    world = World()
    command = world.command()
    barrier = threading.Barrier(2)
    idem = Idempotency("forward-7", "fp-7")

    def racing_writer() -> Any:
        return _ReplayThenWait(db.writer(), barrier)

    def file() -> Objection:
        return usecases.file(racing_writer, db.reader, lookups(world), command, idem, command.forwarded_at)

    results = _concurrently(file, file)
    assert all(isinstance(r, Objection) for r in results), results
    assert {r.id for r in results} == {command.objection_id}  # type: ignore[attr-defined]
    with db.reader() as uow:
        assert uow.objections.open_objection_on(world.tax_record) == command.objection_id


def test_a_different_request_racing_under_the_same_request_id_is_refused_as_reused(db: Db) -> None:
    world = World()
    command = world.command()
    barrier = threading.Barrier(2)

    def racing_writer() -> Any:
        return _ReplayThenWait(db.writer(), barrier)

    def file(fp: str) -> Objection:
        return usecases.file(
            racing_writer, db.reader, lookups(world), command, Idempotency("forward-8", fp), command.forwarded_at
        )

    results = _concurrently(lambda: file("fp-a"), lambda: file("fp-b"))
    won = [r for r in results if isinstance(r, Objection)]
    lost = [r for r in results if not isinstance(r, Objection)]
    assert len(won) == 1, results
    assert len(lost) == 1, results
    assert isinstance(lost[0], DomainError), results
    assert lost[0].reason == "ERROR_REASON_REQUEST_ID_REUSED"


class _OpenTargetSchedule:
    """Runs the open-target keys of each filing's INSERT one row at a time (as the driver's executemany does) and
    holds them to a schedule: ``first`` inserts its first key, then ``second`` tries its first key, then both go on.
    ``second``'s turn ends when its row is in or when PostgreSQL shows it waiting for a lock (the lock ``first``
    holds), so the same schedule drives both the crossed orders (which deadlock) and the canonical one."""

    def __init__(self, engine: Engine, first: str, second: str) -> None:
        self.engine, self.first, self.second = engine, first, second
        self.first_has_one = threading.Event()
        self.second_row_done = threading.Event()
        self.second_turn_over = threading.Event()
        event.listen(engine, "do_executemany", self._executemany)

    def close(self) -> None:
        event.remove(self.engine, "do_executemany", self._executemany)

    def _executemany(self, cursor: Any, statement: str, parameters: Any, context: Any) -> bool | None:
        if not statement.startswith("INSERT INTO objection_open_targets"):
            return None
        who = parameters[0]["objection_id"]
        for index, row in enumerate(parameters):
            if index == 0 and who == self.second:
                assert self.first_has_one.wait(30), "the first filing never inserted its first key"
                threading.Thread(target=self._watch, args=(cursor.connection.info.backend_pid,), daemon=True).start()
            cursor.execute(statement, row)
            if index == 0 and who == self.first:
                self.first_has_one.set()
                assert self.second_turn_over.wait(30), "the second filing never took its turn"
            if index == 0 and who == self.second:
                self.second_row_done.set()
        return True

    def _watch(self, pid: int) -> None:
        """End the second filing's turn once its first row is in, or once it waits for a lock the first holds."""
        with self.engine.connect() as conn:
            while not self.second_row_done.is_set():
                waiting = conn.scalar(
                    text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
                )
                conn.rollback()
                if waiting:
                    break
                self.second_row_done.wait(0.01)
        self.second_turn_over.set()


def test_filings_naming_shared_records_in_opposite_orders_do_not_deadlock(db: Db) -> None:
    # Two platforms forward objections on the same two records, listed in opposite orders. Each filing's open-target
    # keys are inserted row by row; taken in the order given, the first holds one key and waits for the other's,
    # which waits for the first's: PostgreSQL aborts one as a deadlock. In one canonical order, the second waits
    # for the first and is told, as the domain says it, that an open objection already disputes the target.
    world = World()
    crossed = world.command(records=(world.tax_record, world.market_record))
    reversed_ = world.command(records=(world.market_record, world.tax_record), platform="platforms/yanan")
    schedule = _OpenTargetSchedule(db.engine, crossed.objection_id, reversed_.objection_id)

    def file(command: Any) -> Objection:
        return usecases.file(db.writer, db.reader, lookups(world), command, Idempotency(), command.forwarded_at)

    try:
        results = _concurrently(lambda: file(crossed), lambda: file(reversed_))
    finally:
        schedule.close()
    won = [r for r in results if isinstance(r, Objection)]
    lost = [r for r in results if not isinstance(r, Objection)]
    assert [o.id for o in won] == [crossed.objection_id], results
    assert len(lost) == 1, results
    assert isinstance(lost[0], AlreadyExists), results
    assert lost[0].reason == "ERROR_REASON_OBJECTION_DUPLICATE"
    with db.reader() as uow:
        assert uow.objections.open_objection_on(world.tax_record) == crossed.objection_id
        assert uow.objections.open_objection_on(world.market_record) == crossed.objection_id
        assert uow.objections.get(reversed_.objection_id) is None
