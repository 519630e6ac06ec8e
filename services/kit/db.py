"""Database plumbing: engines for SQLite (embedded default) and PostgreSQL, a unit of work, and migrations."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self, cast

import structlog
from alembic import command
from alembic.config import Config
from opentelemetry import metrics, trace
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.trace import Status, StatusCode
from sqlalchemy import (
    ClauseElement,
    Connection,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    TypeDecorator,
    create_engine,
    event,
    make_url,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.compiler import SQLCompiler

from services.kit.errors import Aborted, DomainError, Unavailable

log = structlog.get_logger("kit.db")

# Stable constraint names so Alembic migrations are reproducible on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite would otherwise hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use UTC-aware values")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def service_metadata() -> MetaData:
    """A fresh MetaData per service (services never share tables) with the shared naming convention."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class _WriterGate:
    """Queues this process's SQLite writers on a lock before BEGIN IMMEDIATE.

    SQLite lets one writer in and makes the others poll with growing sleeps (1, 2, 5, 10... ms), so under
    concurrent writes the file sat idle while writers slept. Waiting on a lock instead hands the file over as soon as
    the holder commits or rolls back. Other processes still meet SQLite's own lock and busy timeout; and should a
    holder ever vanish without either, a writer gives up on the gate after the busy timeout and relies on SQLite."""

    def __init__(self, engine: Engine, timeout: float = 30.0) -> None:
        self._lock = threading.Lock()
        self._holder: Any = None  # the pooled connection in the gate (commit and rollback are handed that one)
        self._timeout = timeout
        dialect = engine.dialect
        commit, rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(dbapi_conn: Any) -> None:
            try:
                commit(dbapi_conn)
            finally:
                self.leave(dbapi_conn)

        def do_rollback(dbapi_conn: Any) -> None:
            try:
                rollback(dbapi_conn)
            finally:
                self.leave(dbapi_conn)

        dialect.do_commit = do_commit  # type: ignore[assignment]
        dialect.do_rollback = do_rollback  # type: ignore[assignment]
        event.listen(engine, "close", lambda dbapi_conn, _: self.leave(dbapi_conn))
        event.listen(engine, "invalidate", lambda dbapi_conn, *_: self.leave(dbapi_conn))

    @property
    def held(self) -> bool:
        return self._lock.locked()

    def enter(self, pooled: Any) -> None:
        if self._lock.acquire(timeout=self._timeout):
            self._holder = pooled

    def leave(self, conn: Any) -> None:
        """``conn`` is the pooled connection, or (closed, invalidated) the driver's connection beneath it."""
        holder = self._holder
        if holder is not None and (conn is holder or conn is getattr(holder, "dbapi_connection", None)):
            self._holder = None
            self._lock.release()


_GATES: weakref.WeakKeyDictionary[Engine, _WriterGate] = weakref.WeakKeyDictionary()


def writer_gate(engine: Engine) -> _WriterGate | None:
    """The SQLite writer gate of ``engine`` (None on PostgreSQL)."""
    return _GATES.get(engine)


# How long a new PostgreSQL connection may take before it fails (and the database counts as unavailable).
CONNECT_TIMEOUT_SECONDS = 5

# libpq's TCP keepalives: the first probe after 30 s of silence, then every 10 s; the third unanswered one ends the
# connection, so a vanished peer is given up after about a minute (30 + 3 x 10 s). Keepalives probe only an idle
# connection: a query sent to a peer that vanished is retransmitted for some fifteen minutes, so data left
# unacknowledged for 60 s ends the connection too (tcp_user_timeout, in milliseconds).
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 60_000,
}

# How long a connection to a new SQLite file keeps trying to switch it to WAL, as long as the busy timeout.
_WAL_SWITCH_SECONDS = 30.0


def _switch_to_wal(cur: sqlite3.Cursor) -> None:
    """Switch the file to WAL. On a file still in rollback mode while another process holds a write lock (a second
    migrator on a brand-new file), SQLite refuses the switch at once, without waiting out the busy timeout: retry."""
    deadline = time.monotonic() + _WAL_SWITCH_SECONDS
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def make_engine(
    url: str,
    *,
    sqlite_synchronous: str = "FULL",
    tracer_provider: trace.TracerProvider | None = None,
    pool_size: int = 10,
) -> Engine:
    """An engine for ``url``. SQLite gets WAL, a busy timeout and explicit BEGIN IMMEDIATE for writers."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_on_connect(dbapi_conn: Any, _: Any) -> None:
            # We issue BEGIN ourselves (below) so that writers lock up front instead of failing on upgrade.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            _switch_to_wal(cur)
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA synchronous={sqlite_synchronous}")
            cur.close()

        gate = _GATES[engine] = _WriterGate(engine)

        @event.listens_for(engine, "begin")
        def _sqlite_on_begin(conn: Any) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
            if mode == "IMMEDIATE":
                gate.enter(conn.connection)
            try:
                conn.exec_driver_sql(f"BEGIN {mode}")
            except BaseException:
                gate.leave(conn.connection)
                raise

    else:
        # Without a connect timeout psycopg waits for a server that does not answer (a partition, a lost node) for as
        # long as the kernel keeps the connection: the readiness ping hung with health still SERVING, and so did every
        # request thread that needed a connection.
        # libpq turns TCP keepalives on but leaves their timing to the kernel, whose first probe comes after two hours
        # of silence: a connection to a host that vanished without a FIN (a partition, a lost node) stayed in the pool,
        # or held a request waiting on a query's answer, that long. With these a dead peer is noticed within a minute.
        # Parameters the URL names itself are kept.
        named = make_url(url).query
        defaults = {"connect_timeout": CONNECT_TIMEOUT_SECONDS, **KEEPALIVES}
        connect_args = {key: value for key, value in defaults.items() if key not in named}
        engine = create_engine(
            url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size, connect_args=connect_args
        )
    if isinstance(tracer_provider, SdkTracerProvider):
        # Only a recording (SDK) provider gets SQL spans: with tracing off, the tracer's event hooks alone cost ~100 µs
        # a query. Per-engine instrumentation (the instrumentor's global patching instruments only once per process).
        # Spans carry the SQL text with placeholders, never the bound values. Ours goes first (listeners run in the
        # order they were added), so a failed statement's span is ended by it.
        event.listen(engine, "handle_error", _end_failed_sql_span)
        EngineTracer(
            tracer_provider.get_tracer("creditnode.db"),
            engine,
            metrics.NoOpMeter("creditnode.db").create_up_down_counter("db.client.connections.usage"),
        )
    return engine


def _end_failed_sql_span(context: Any) -> None:
    """Ends a failed statement's span before the instrumentation's own handler does: that one describes the failure
    by the driver's message, which on PostgreSQL quotes the clashing key or the failing row's values."""
    execution = context.execution_context
    span = getattr(execution, "_otel_span", None)
    if span is None:
        return
    execution._otel_span = None  # the instrumentation's handler then finds no span and does nothing
    if span.is_recording():
        orig = context.original_exception
        sqlstate = getattr(orig, "sqlstate", None)
        span.set_status(Status(StatusCode.ERROR, type(orig).__name__ + (f" (SQLSTATE {sqlstate})" if sqlstate else "")))
    span.end()


@contextlib.contextmanager
def driver_errors_as_sqlalchemy(sql: str, dialect: Dialect) -> Iterator[None]:
    """For work done on the driver directly: its errors raised as SQLAlchemy's own (an IntegrityError stays one, so
    callers and ``translate_db_errors`` handle them as if SQLAlchemy had run the statement)."""
    try:
        yield
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, None, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc


def bind_processor(column_type: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """What SQLAlchemy does to a value of this type before the driver sees it (None: nothing)."""
    return cast("Callable[[Any], Any] | None", column_type.dialect_impl(dialect).bind_processor(dialect))


class DriverStatement:
    """A fixed Core statement compiled once for a dialect and run straight on the driver's cursor.

    For the few statements a hot path runs on every call: SQLAlchemy's per-execution work (cache lookup, execution
    context, parameter processing, events) costs several times what the driver itself does. Values still pass
    through each column type's bind processor (UTC datetimes stay UTC on every backend), the statement runs in the
    SQLAlchemy connection's own transaction, and a driver error is raised as SQLAlchemy's (an IntegrityError stays
    one, and ``translate_db_errors`` still applies). Such statements make no SQL spans."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, keys: Sequence[str] = ()) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=list(keys) or None))
        self.sql = compiled.string
        self._dialect = dialect
        binds = {name: bp for bp, name in compiled.bind_names.items()}
        self._names = list(compiled.positiontup or ()) if compiled.positional else list(binds)
        self._positional = compiled.positional
        # Per bind: whether each row must give it, the value written into the statement otherwise (a literal such as
        # the state row's id), and the type's bind processor (None when the driver takes the value as it is).
        self._required = [binds[n].required for n in self._names]
        self._defaults = [binds[n].effective_value for n in self._names]
        self._processors = [bind_processor(binds[n].type, dialect) for n in self._names]

    def _params(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        out = []
        for name, required, default, process in zip(
            self._names, self._required, self._defaults, self._processors, strict=True
        ):
            value = values[name] if required else default
            out.append(value if process is None else process(value))
        return tuple(out) if self._positional else dict(zip(self._names, out, strict=True))

    def execute(self, conn: Connection, rows: Sequence[Mapping[str, Any]] = ({},)) -> list[tuple[Any, ...]]:
        """Run for each of ``rows`` (one execution when none are named) and return the rows the last one produced."""
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            with driver_errors_as_sqlalchemy(self.sql, self._dialect):
                if len(rows) == 1:
                    cursor.execute(self.sql, self._params(rows[0]))
                else:
                    cursor.executemany(self.sql, [self._params(r) for r in rows])
                return list(cursor.fetchall()) if cursor.description else []
        finally:
            cursor.close()


def session_factories(engine: Engine) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    """(writer, reader): readers on SQLite take no write lock, so they never queue behind writers."""
    writer = sessionmaker(bind=engine, expire_on_commit=False)
    reader = sessionmaker(bind=engine.execution_options(sqlite_begin="DEFERRED"), expire_on_commit=False)
    return writer, reader


def ping(engine: Engine) -> bool:
    """Readiness check: can we run a trivial query right now? (On SQLite a reader's transaction: it must not queue
    behind writers for the writer's lock.)"""
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        conn.execute(text("SELECT 1"))
    return True


def storage_failure(exc: BaseException) -> DomainError | None:
    """What a storage failure means to the caller: ABORTED for a concurrent change that won, UNAVAILABLE for a
    database that cannot be reached or has no connection free; None for anything else (an IntegrityError included:
    callers decide what a uniqueness clash means in their domain)."""
    if isinstance(exc, StaleDataError):
        return Aborted("ERROR_REASON_CONCURRENT_MODIFICATION", "a concurrent change won; re-read and retry")
    if isinstance(exc, OperationalError):
        if _is_serialization_failure(exc):
            return Aborted("ERROR_REASON_CONCURRENT_MODIFICATION", "a concurrent change won; re-read and retry")
        return Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", "the database is unavailable")
    if isinstance(
        exc, PoolTimeout
    ):  # every connection of the pool stayed in use: busy, or hanging on a failing database
        return Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", "no database connection came free in time")
    return None


@contextlib.contextmanager
def translate_db_errors() -> Iterator[None]:
    """Storage failures become domain errors the server can explain; nothing else leaks out."""
    try:
        yield
    except (StaleDataError, OperationalError, PoolTimeout) as exc:
        failure = storage_failure(exc)
        assert failure is not None  # each of these is one
        raise failure from exc


def insert_if_absent(session: Session, table: Any, values: Mapping[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on either backend: on PostgreSQL a row racing another transaction's
    uncommitted one waits for it, then inserts nothing; SQLite serializes writers. True when this inserted the row."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = getattr(table, "__table__", table)
    # RETURNING tells what was inserted: the row count of an INSERT is -1 through psycopg here.
    key = next(iter(table.primary_key.columns))
    return (
        session.execute(dialect.insert(table).values(**values).on_conflict_do_nothing().returning(key)).first()
        is not None
    )


def is_unique_clash(exc: BaseException) -> bool:
    """A uniqueness clash: another writer stored the same key first, so a retry would find it (PostgreSQL's
    unique_violation; SQLite's UNIQUE or PRIMARY KEY constraint)."""
    if not isinstance(exc, IntegrityError):
        return False
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:
        return bool(sqlstate == "23505")
    return getattr(orig, "sqlite_errorcode", None) in (1555, 2067)  # SQLITE_CONSTRAINT_PRIMARYKEY, _UNIQUE


def _is_serialization_failure(exc: DBAPIError) -> bool:
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return sqlstate in {"40001", "40P01"}


class SqlUnitOfWork:
    """One transaction. Rolls back unless ``commit()`` was called; storage errors become domain errors."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self._translator: contextlib.AbstractContextManager[None] | None = None
        self.session: Session

    def __enter__(self) -> Self:
        self._translator = translate_db_errors()
        self._translator.__enter__()
        self.session = self._session_factory()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        try:
            self.session.rollback()
            self.session.close()
        finally:
            assert self._translator is not None
            suppressed = self._translator.__exit__(exc_type, exc, tb)
        return suppressed

    def commit(self) -> None:
        with translate_db_errors():
            self.session.commit()


def migrate(engine: Engine, migrations_dir: Path, version_table: str) -> None:
    """Bring the schema to head. Safe to run on every start-up and from several processes.

    A schema already past this code's head (a revision it does not know: a newer image migrated it, and this one is
    a rollback or an old pod restarting mid-rollout) is left as it is; migrations are expand/contract, so older code
    works on it."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("version_table", version_table)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Replicas starting together migrate one at a time; SQLite's BEGIN IMMEDIATE already serializes.
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:t))"), {"t": version_table})
        ahead = _unknown_revisions(conn, migrations_dir, version_table)
        if ahead:
            log.warning("schema_ahead_of_code", version_table=version_table, revisions=sorted(ahead))
            return
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def is_migrated(engine: Engine, migrations_dir: Path, version_table: str) -> bool:
    """True when the database's schema is at this code's head revision or past it (used to hold new pods until
    migrated)."""
    with engine.connect() as conn:
        current = _current_revisions(conn, version_table)
        return current == _heads(migrations_dir) or bool(_unknown_revisions(conn, migrations_dir, version_table))


def _script_directory(migrations_dir: Path) -> Any:
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    return ScriptDirectory.from_config(cfg)


def _heads(migrations_dir: Path) -> set[str]:
    return set(_script_directory(migrations_dir).get_heads())


def _current_revisions(conn: Connection, version_table: str) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    return set(MigrationContext.configure(conn, opts={"version_table": version_table}).get_current_heads())


def _unknown_revisions(conn: Connection, migrations_dir: Path, version_table: str) -> set[str]:
    """The database's revisions this code's migrations do not contain."""
    known = {script.revision for script in _script_directory(migrations_dir).walk_revisions()}
    return _current_revisions(conn, version_table) - known
