"""Two scoring replicas over one database (SQLite, or PostgreSQL with CREDITNODE_TEST_PG_URL), each with its own
engine, following the same registry watches: the first evaluation of a new enterprise is made once, whichever
replica's handler stores the enterprise first; and both start on an empty database, whichever publishes the packaged
model first."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import grpc
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from services.kit.db import make_engine, migrate, session_factories
from services.scoring import usecases
from services.scoring.clients.consent import GrpcMonitoringConsent
from services.scoring.clients.registry import GrpcRecordSource
from services.scoring.data import model_text
from services.scoring.domain.disputes import DisputeOutcome
from services.scoring.domain.model import load_model
from services.scoring.domain.ports import EnterpriseState, PublishedModel, RecordPage
from services.scoring.main import MIGRATIONS
from services.scoring.store.models import EvaluationRow, ModelRow
from services.scoring.store.repositories import SqlScoringUnitOfWork
from tests.integration.scoring_service.servers import Fakes, start_fakes

USCC = "91610100MA6TEST001"
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


@dataclass
class Replica:
    sc: usecases.Scoring
    records: GrpcRecordSource
    engine: Engine


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    f = start_fakes()
    # The enterprise has a record at the registry: its listing names a revision above 0.
    f.records.put(USCC, "e1", "COURT_ENFORCEMENT", NOW, case_number="c1", filed_on=date(2026, 5, 1),
                  amount_yuan="1000", status="OPEN")  # fmt: skip
    yield f
    f.stop()


@pytest.fixture
def started(database_url: str, fakes: Fakes) -> Iterator[tuple[Replica, Replica]]:
    """Two replicas over one migrated database, nothing published yet."""
    channel = grpc.insecure_channel(fakes.address)
    made: list[Replica] = []
    for _ in range(2):
        engine = make_engine(database_url)
        migrate(engine, MIGRATIONS, "alembic_version_scoring")
        writer, reader = session_factories(engine)
        records = GrpcRecordSource(channel)
        sc = usecases.Scoring(
            writer=lambda w=writer: SqlScoringUnitOfWork(w),  # type: ignore[misc]
            reader=lambda r=reader: SqlScoringUnitOfWork(r),  # type: ignore[misc]
            records=records,
            consent=GrpcMonitoringConsent(channel),
            clock=lambda: NOW,
        )
        made.append(Replica(sc, records, engine))
    yield made[0], made[1]
    for replica in made:
        replica.engine.dispose()
    channel.close()


@pytest.fixture
def replicas(started: tuple[Replica, Replica]) -> tuple[Replica, Replica]:
    """Two replicas with the packaged model published."""
    usecases.ensure_model(started[0].sc, model_text())
    return started


def evaluations(replica: Replica) -> int:
    with replica.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(EvaluationRow)).scalar_one())


def state(replica: Replica) -> EnterpriseState:
    with replica.sc.reader() as uow:
        found = uow.enterprises.get(USCC)
    assert found is not None
    return found


def test_both_replicas_handling_a_new_enterprise_make_one_first_evaluation(
    replicas: tuple[Replica, Replica], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both participant watches deliver the registration. Replica B found no state and asks the registry for the
    # records; meanwhile replica A handles the same event to the end and commits its first evaluation.
    a, b = replicas
    listing = b.records.enterprise_records

    def list_while_a_handles_it(uscc: str) -> RecordPage | None:
        page = listing(uscc)
        monkeypatch.setattr(b.records, "enterprise_records", listing)
        usecases.on_enterprise(a.sc, USCC, "xian", True)
        return page

    monkeypatch.setattr(b.records, "enterprise_records", list_while_a_handles_it)
    usecases.on_enterprise(b.sc, USCC, "xian", True)
    assert evaluations(a) == 1
    got = state(a)
    assert (got.active, got.platform_id, [r.record_id for r in got.records]) == (True, "xian", ["e1"])


class _LetsAnotherIn(SqlScoringUnitOfWork):
    """A writer that, right after it locks the enterprise (or finds no row to lock), lets ``other`` run on another
    thread and connection. On PostgreSQL ``other`` commits before this goes on: a row lock on a row that does not
    exist holds nobody back. SQLite's one writer makes ``other`` wait for this commit instead (the nearest
    interleaving that backend allows); ``join`` waits for it either way."""

    def __init__(self, writer: sessionmaker[Session], other: Callable[[], object], backend: str) -> None:
        super().__init__(writer)
        self._other: Callable[[], object] | None = other
        self._backend = backend
        self._thread: threading.Thread | None = None
        self._failed: list[BaseException] = []

    def __enter__(self) -> SqlScoringUnitOfWork:
        super().__enter__()
        get = self.enterprises.get

        def get_then_other(uscc: str, *, for_update: bool = False) -> EnterpriseState | None:
            found = get(uscc, for_update=for_update)
            if for_update and self._other is not None:
                self._start(self._other)
                self._other = None
            return found

        self.enterprises.get = get_then_other  # type: ignore[method-assign]
        return self

    def _start(self, work: Callable[[], object]) -> None:
        def run() -> None:
            try:
                work()
            except BaseException as exc:  # raised again by join
                self._failed.append(exc)

        self._thread = threading.Thread(target=run)
        self._thread.start()
        if self._backend == "postgresql":
            self._thread.join()

    def join(self) -> None:
        assert self._thread is not None, "the other replica never ran"
        self._thread.join()
        if self._failed:
            raise self._failed[0]


def test_a_record_change_of_an_enterprise_another_replica_stores_meanwhile_adds_no_second_evaluation(
    database_url: str, replicas: tuple[Replica, Replica], monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    # Replica B's record watch takes a change of an enterprise it does not know yet and locks the enterprise: there
    # is no row to lock. Replica A's participant watch then stores the enterprise with its first evaluation. B's
    # write must not take A's row for its own (and add a second evaluation to it).
    a, b = replicas
    writer, _ = session_factories(b.engine)
    hooked = _LetsAnotherIn(writer, lambda: usecases.on_enterprise(a.sc, USCC, "xian", True), backend)
    real_writer = b.sc.writer

    def first_writer() -> SqlScoringUnitOfWork:
        monkeypatch.setattr(b.sc, "writer", real_writer)
        return hooked

    monkeypatch.setattr(b.sc, "writer", first_writer)
    usecases.on_record_change(b.sc, USCC, 1)
    hooked.join()
    assert evaluations(a) == 1
    got = state(a)
    assert (got.active, got.platform_id, got.record_revision) == (True, "xian", 1)


def _wait_for_a_lock_wait(engine: Engine) -> None:
    """Until some session of the database waits for a lock (no timed assertion: the test timeout rules)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while True:
        with engine.connect() as conn:
            if conn.execute(waiting).scalar_one():
                return
        time.sleep(0.01)


def test_replicas_starting_together_on_an_empty_database_publish_the_packaged_model_once(
    started: tuple[Replica, Replica], backend: str
) -> None:
    # Both replicas publish the packaged model at first start. A's publication is not committed yet when B, having
    # found no model, stores the same version: B must start, not fail on the version's uniqueness.
    a, b = started
    document = model_text()
    model = load_model(document)
    failed: list[BaseException] = []

    def start_b() -> None:
        try:
            usecases.ensure_model(b.sc, document)
        except BaseException as exc:  # raised again below
            failed.append(exc)

    with a.sc.writer() as uow:
        uow.models.add(PublishedModel(model.version, model.title, document, NOW))
        thread = threading.Thread(target=start_b)
        thread.start()
        if backend == "postgresql":
            _wait_for_a_lock_wait(a.engine)  # B's insert waits for A's
        uow.commit()
    thread.join()
    if failed:
        raise failed[0]
    with b.sc.reader() as uow:
        current = uow.models.current()
    assert current is not None
    assert (current.version, current.document) == (model.version, document)
    with b.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ModelRow)).scalar_one() == 1


class _PausesAfterRead(SqlScoringUnitOfWork):
    """A writer that, once it has read through ``repository.method``, says so (``read``) and waits for ``go``."""

    def __init__(self, writer: sessionmaker[Session], repository: str, method: str) -> None:
        super().__init__(writer)
        self._where = (repository, method)
        self.read = threading.Event()
        self.go = threading.Event()

    def __enter__(self) -> SqlScoringUnitOfWork:
        super().__enter__()
        repository = getattr(self, self._where[0])
        read = getattr(repository, self._where[1])

        def read_then_wait(*args: Any, **kwargs: Any) -> Any:
            found = read(*args, **kwargs)
            self.read.set()
            self.go.wait()
            return found

        setattr(repository, self._where[1], read_then_wait)
        return self


def test_an_outcome_delivered_twice_at_once_ends_the_dispute_once(
    replicas: tuple[Replica, Replica], monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    # The objection's outbox delivers at least once, from any replica: two deliveries of one UPHELD outcome reach
    # the two scoring replicas. A reads the current evaluation; a re-evaluation appends a newer one; B reads the
    # dispute (or waits to). A ends the dispute first, covering the evaluations up to the current one it saw; B is
    # its replay and must not move the end (nor cover the newer evaluation, never disputed).
    a, b = replicas
    usecases.on_enterprise(a.sc, USCC, "xian", True)
    disputed = usecases.get_evaluation(a.sc, USCC)
    objection = "objections/o-1"
    usecases.set_dispute(a.sc, USCC, disputed.evaluation_id, objection)
    a_at, b_at = NOW + timedelta(minutes=1), NOW + timedelta(minutes=2)
    monkeypatch.setattr(a.sc, "clock", lambda: a_at)
    monkeypatch.setattr(b.sc, "clock", lambda: b_at)
    # A pauses once it has read the current evaluation, B once it has read the dispute.
    hooks: dict[str, _PausesAfterRead] = {}
    for name, replica, where in (("a", a, ("evaluations", "current")), ("b", b, ("disputes", "get"))):
        writer, _ = session_factories(replica.engine)
        hooks[name] = hook = _PausesAfterRead(writer, *where)
        monkeypatch.setattr(replica.sc, "writer", lambda hook=hook: hook)
        if backend != "postgresql":  # SQLite's one writer: each delivery in turn, the nearest interleaving there
            hook.go.set()
    failed: list[BaseException] = []

    def deliver(replica: Replica) -> Callable[[], None]:
        def run() -> None:
            try:
                usecases.clear_dispute(replica.sc, USCC, disputed.evaluation_id, objection, DisputeOutcome.UPHELD, None)
            except BaseException as exc:  # raised again below
                failed.append(exc)

        return run

    first = threading.Thread(target=deliver(a))
    first.start()
    hooks["a"].read.wait()
    with SqlScoringUnitOfWork(session_factories(b.engine)[0]) as uow:  # a re-evaluation commits meanwhile
        newer = uow.evaluations.add(USCC, disputed.evaluation, NOW, 1)
        uow.commit()
    second = threading.Thread(target=deliver(b))
    second.start()
    if backend == "postgresql":
        _until(lambda: hooks["b"].read.is_set() or _lock_waits(b.engine) > 0)
    hooks["a"].go.set()
    first.join()
    hooks["b"].go.set()
    second.join()
    if failed:
        raise failed[0]
    with a.sc.reader() as uow:
        ended = uow.disputes.get(USCC, objection)
    assert ended is not None
    assert (ended.outcome, ended.closed_at, ended.through_evaluation_id) == (
        DisputeOutcome.UPHELD,
        a_at,
        disputed.evaluation_id,
    )
    assert newer.evaluation_id > disputed.evaluation_id


def _lock_waits(engine: Engine) -> int:
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with engine.connect() as conn:
        return int(conn.execute(waiting).scalar_one())


def _until(condition: Callable[[], bool]) -> None:
    """Poll until ``condition()`` holds (no timed assertion: the test timeout rules)."""
    while not condition():
        time.sleep(0.01)
