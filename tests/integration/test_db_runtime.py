"""Database runtime on the configured backend: migrations for every service, unit of work, traced SQL."""

from __future__ import annotations

import importlib
import multiprocessing
import shutil
import sqlite3
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    LargeBinary,
    String,
    Table,
    cast,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.kit.db import (
    DriverStatement,
    SqlUnitOfWork,
    UtcDateTime,
    is_migrated,
    make_engine,
    migrate,
    ping,
    service_metadata,
    session_factories,
    writer_gate,
)
from services.kit.errors import Aborted, Unavailable

SERVICES = ["registry", "consent", "scoring", "objection", "gateway"]


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_apply_to_head_and_are_idempotent(service: str, database_url: str) -> None:
    main = importlib.import_module(f"services.{service}.main")
    engine = make_engine(database_url)
    try:
        migrate(engine, main.MIGRATIONS, version_table=f"alembic_version_{service}")
        migrate(engine, main.MIGRATIONS, version_table=f"alembic_version_{service}")  # second start-up
        heads = _heads(main.MIGRATIONS)
        with engine.connect() as conn:
            query = text(f"SELECT version_num FROM alembic_version_{service}")  # noqa: S608 (fixed names)
            applied = {r[0] for r in conn.execute(query)}
        assert applied == heads
        # Every table the models declare exists after migrating.
        models = importlib.import_module(f"services.{service}.store.models")
        assert set(models.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _heads(migrations: Path) -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations))
    return set(ScriptDirectory.from_config(cfg).get_heads())


class _Base(DeclarativeBase):
    metadata = service_metadata()


class _Counter(_Base):
    __tablename__ = "kit_counter"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


def test_unit_of_work_rolls_back_unless_committed(database_url: str) -> None:
    engine = make_engine(database_url)
    _Base.metadata.create_all(engine)
    writer, reader = session_factories(engine)
    with SqlUnitOfWork(writer) as uow:
        uow.session.add(_Counter(id=1, label="kept"))
        uow.commit()
    with SqlUnitOfWork(writer) as uow:
        uow.session.add(_Counter(id=2, label="dropped"))  # no commit
    with SqlUnitOfWork(reader) as uow:
        assert [c.label for c in uow.session.query(_Counter).order_by(_Counter.id)] == ["kept"]
    engine.dispose()


def test_lost_update_is_aborted(database_url: str) -> None:
    engine = make_engine(database_url)
    _Base.metadata.create_all(engine)
    writer, reader = session_factories(engine)
    with SqlUnitOfWork(writer) as uow:
        uow.session.add(_Counter(id=1, label="a"))
        uow.commit()
    with SqlUnitOfWork(reader) as uow:
        row = uow.session.get(_Counter, 1)
        assert row is not None
        uow.session.expunge(row)  # a copy read at version 1
    with SqlUnitOfWork(writer) as uow:
        fresh = uow.session.get(_Counter, 1)
        assert fresh is not None
        fresh.label = "b"
        uow.commit()
    with SqlUnitOfWork(writer) as uow:
        uow.session.add(row)
        row.label = "c"
        with pytest.raises(Aborted) as err:
            uow.commit()
    assert err.value.reason == "ERROR_REASON_CONCURRENT_MODIFICATION"
    engine.dispose()


def _traced_engine(database_url: str) -> tuple[Engine, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return make_engine(database_url, tracer_provider=provider), exporter


def test_sqlalchemy_queries_are_traced_without_bound_values(database_url: str) -> None:
    # Proves the pinned SQLAlchemy 2.0 works with opentelemetry-instrumentation-sqlalchemy.
    engine, exporter = _traced_engine(database_url)
    with engine.connect() as conn:
        conn.execute(text("SELECT :secret"), {"secret": "61010319900307123X"}).all()
    spans = exporter.get_finished_spans()
    assert any("SELECT" in s.name or "SELECT" in str(s.attributes) for s in spans)
    assert all("61010319900307123X" not in str(s.attributes) for s in spans)
    engine.dispose()


def test_a_failed_statements_span_does_not_quote_the_row(database_url: str) -> None:
    # PostgreSQL's messages quote the clashing key ("Key (k)=(...) already exists") and a failing row's values.
    engine, exporter = _traced_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE person (k VARCHAR(32) PRIMARY KEY, v VARCHAR(32) NOT NULL)"))
    add = text("INSERT INTO person VALUES (:k, :v)")
    with engine.begin() as conn:
        conn.execute(add, {"k": "61010319900307123X", "v": "13912345678"})
    for row in ({"k": "61010319900307123X", "v": "b"}, {"k": "k2 13912345678", "v": None}):
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(add, row)
    failed = [s for s in exporter.get_finished_spans() if s.status.status_code.name == "ERROR"]
    assert len(failed) == 2
    for span in failed:
        told = f"{span.status.description} {span.attributes} {[e.attributes for e in span.events]}"
        assert "IntegrityError" in told or "Violation" in told  # the kind of failure is still told
        assert "61010319900307123X" not in told
        assert "13912345678" not in told
    engine.dispose()


def test_is_migrated_turns_true_only_at_head(database_url: str) -> None:
    main = importlib.import_module("services.consent.main")
    engine = make_engine(database_url)
    try:
        assert not is_migrated(engine, main.MIGRATIONS, "alembic_version_consent")
        migrate(engine, main.MIGRATIONS, version_table="alembic_version_consent")
        assert is_migrated(engine, main.MIGRATIONS, "alembic_version_consent")
    finally:
        engine.dispose()


def test_a_new_sqlite_file_locked_by_another_writer_is_still_opened(tmp_path: Path) -> None:
    # A second migrator opening a brand-new file while the first holds its write lock: SQLite refuses the switch to
    # WAL at once (no busy wait); the connection must wait for the lock, not fail.
    path = tmp_path / "new.db"
    first = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    first.execute("CREATE TABLE t (x)")
    first.execute("BEGIN IMMEDIATE")
    threading.Timer(0.3, lambda: first.execute("COMMIT")).start()
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()
        first.close()


def test_an_image_older_than_the_schema_starts_on_it(tmp_path: Path, database_url: str) -> None:
    # A rollback (or an old pod restarting mid-rollout) meets a schema migrated past its own head: expand/contract
    # migrations keep it working there, so it must start, not fail on a revision it has never heard of.
    main = importlib.import_module("services.consent.main")
    older = tmp_path / "migrations"
    shutil.copytree(main.MIGRATIONS, older)
    newest = max((older / "versions").glob("*.py"))
    newest.unlink()
    engine = make_engine(database_url)
    try:
        migrate(engine, main.MIGRATIONS, version_table="alembic_version_consent")
        migrate(engine, older, version_table="alembic_version_consent")  # the old image's start-up
        assert is_migrated(engine, older, "alembic_version_consent")
        assert is_migrated(engine, main.MIGRATIONS, "alembic_version_consent")
        assert _versions(engine, "consent") == _heads(main.MIGRATIONS)  # nothing was downgraded
    finally:
        engine.dispose()


def _versions(engine: Engine, service: str) -> set[str]:
    with engine.connect() as conn:
        query = text(f"SELECT version_num FROM alembic_version_{service}")  # noqa: S608 (fixed names)
        return {r[0] for r in conn.execute(query)}


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_build_exactly_the_schema_the_models_declare(service: str, database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    main = importlib.import_module(f"services.{service}.main")
    models = importlib.import_module(f"services.{service}.store.models")
    engine = make_engine(database_url)
    try:
        migrate(engine, main.MIGRATIONS, version_table=f"alembic_version_{service}")
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), models.metadata)
        drift = [d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith("alembic_version_"))]
        assert drift == []
    finally:
        engine.dispose()


def test_the_readiness_ping_does_not_queue_behind_a_writer(tmp_path: Path) -> None:
    # Readiness runs every second: on SQLite it must read, not take the writer's lock (a long write held the ping,
    # and with it the health status, for as long as the write).
    engine = make_engine(f"sqlite:///{tmp_path / 'ping.db'}")
    try:
        with engine.begin():  # a writer holds the gate for the whole check
            pinged: list[bool] = []
            checker = threading.Thread(target=lambda: pinged.append(ping(engine)), daemon=True)
            checker.start()
            checker.join(10)
            assert pinged == [True], "the ping waited for the writer"
    finally:
        engine.dispose()


def test_sqlite_writers_queue_on_the_gate_and_always_leave_it(tmp_path: Path) -> None:
    """Concurrent writers all commit; the gate is free after commits, rollbacks, failed statements and closes."""
    import threading

    engine = make_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    gate = writer_gate(engine)
    assert gate is not None
    _Base.metadata.create_all(engine)
    writer, reader = session_factories(engine)
    with SqlUnitOfWork(writer) as uow:
        uow.session.add(_Counter(id=1, label="0"))
        uow.commit()

    def bump() -> None:
        for _ in range(25):
            with SqlUnitOfWork(writer) as uow:
                row = uow.session.get(_Counter, 1)
                assert row is not None
                row.label = str(int(row.label) + 1)
                uow.commit()

    threads = [threading.Thread(target=bump) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with SqlUnitOfWork(reader) as uow:
        row = uow.session.get(_Counter, 1)
        assert row is not None
        assert row.label == "150"  # no write lost, none refused as "database is locked"
    assert not gate.held
    with SqlUnitOfWork(writer) as uow:
        uow.session.add(_Counter(id=2, label="dropped"))
        uow.session.flush()
        assert gate.held
    assert not gate.held  # rolled back on exit
    with pytest.raises(Unavailable), SqlUnitOfWork(writer) as uow:
        uow.session.execute(text("INSERT INTO nowhere VALUES (1)"))
    assert not gate.held
    with SqlUnitOfWork(reader) as uow:
        uow.session.get(_Counter, 1)
        assert not gate.held  # readers never take it
    engine.dispose()
    assert writer_gate(make_engine("postgresql+psycopg://u@127.0.0.1:9/x")) is None


def test_a_driver_statement_stores_what_core_stores_and_raises_sqlalchemys_errors(database_url: str) -> None:
    # DriverStatement skips SQLAlchemy's execution machinery, not its types: the same values must be stored in the
    # same form as through Core (on SQLite, datetimes are text that range queries compare), and a clash must still
    # be SQLAlchemy's IntegrityError.
    metadata = service_metadata()
    rows = Table(
        "driver_rows", metadata, Column("id", Integer, primary_key=True), Column("at", UtcDateTime()),
        Column("blob", LargeBinary), Column("note", String(40)),
    )  # fmt: skip
    engine = make_engine(database_url)
    metadata.create_all(engine)
    at = datetime(2026, 11, 30, 8, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
    through_driver = DriverStatement(insert(rows), engine.dialect, ["id", "at", "blob", "note"])
    read_one = DriverStatement(select(rows.c.blob, rows.c.note).where(rows.c.id == 2), engine.dialect)
    with engine.begin() as conn:
        conn.execute(insert(rows), {"id": 1, "at": at, "blob": b"\x00\xff", "note": "陕西"})
        through_driver.execute(conn, [{"id": 2, "at": at, "blob": b"\x00\xff", "note": "陕西"}])
        through_driver.execute(conn, [{"id": n, "at": at, "blob": b"", "note": ""} for n in (3, 4)])
        assert read_one.execute(conn) == [(b"\x00\xff", "陕西")]
    with engine.connect() as conn:
        stored = conn.execute(select(rows.c.id, cast(rows.c.at, String), rows.c.blob, rows.c.note)).all()
        by_id = {r[0]: r[1:] for r in stored}
        assert by_id[2] == by_id[1]
        assert sorted(by_id) == [1, 2, 3, 4]
        assert conn.execute(select(rows.c.at).where(rows.c.id == 2)).scalar_one() == at
        assert conn.execute(select(rows.c.id).where(rows.c.at >= at)).scalars().all() == [1, 2, 3, 4]
    with pytest.raises(IntegrityError), engine.begin() as conn:
        through_driver.execute(
            conn, [{"id": 5, "at": at, "blob": b"", "note": ""}, {"id": 1, "at": at, "blob": b"", "note": ""}]
        )
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(rows)).scalar_one() == 4  # the failed batch left nothing
    engine.dispose()


def _replica_start_up(service: str, database_url: str, start: Any) -> None:
    """One replica's start-up in its own process (Alembic's context is per process, as each replica's is)."""
    main = importlib.import_module(f"services.{service}.main")
    engine = make_engine(database_url)
    try:
        start.wait()
        migrate(engine, main.MIGRATIONS, version_table=f"alembic_version_{service}")
    finally:
        engine.dispose()


@pytest.mark.parametrize("service", SERVICES)
def test_replicas_starting_together_migrate_one_at_a_time(service: str, database_url: str) -> None:
    # Every replica migrates at start-up: two on an empty database must not both run the first revision (the second
    # would fail on a table the first created), nor leave the version table with two rows.
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(2)
    replicas = [spawn.Process(target=_replica_start_up, args=(service, database_url, start)) for _ in range(2)]
    for r in replicas:
        r.start()
    for r in replicas:
        r.join(120)
    assert [r.exitcode for r in replicas] == [0, 0]
    engine = make_engine(database_url)
    try:
        main = importlib.import_module(f"services.{service}.main")
        assert _versions(engine, service) == _heads(main.MIGRATIONS)
    finally:
        engine.dispose()
