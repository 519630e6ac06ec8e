"""The evidence log's group-commit writer in a child process, for a service whose request threads keep the
interpreter lock busy: in the gateway under load, the in-process writer waited for the lock again after every
statement (5 ms a batch of 4 leaves, against 0.3 ms for the fsync), so every release waited for it.

The parent sends ``(seq, kind, payload)`` over a pipe; the child takes what is waiting (up to ``max_batch``),
appends it in one transaction, commits, and only then answers ``(seq, leaf)`` or ``(seq, error)`` for each: a
caller's future resolves on that answer, so "recorded" still means durable. The child ends when the parent sends
``None`` (after what was queued before it) or the pipe closes (the parent died).

If the child dies, each waiting append fails with UNAVAILABLE (its leaf may or may not have been committed, as for any
UNAVAILABLE append), appends are refused, ``alive()`` is false (the service's readiness drops) and a new child is
started; once it is ready, appends are taken again.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing as mp
import signal
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import structlog
from sqlalchemy import MetaData

from services.kit.errors import DomainError, Unavailable
from services.kit.evidence.entries import LeafKind
from services.kit.evidence.schema import add_evidence_tables
from services.kit.evidence.store import EvidenceStore, StoredLeaf

log = structlog.get_logger("kit.evidence")

RESTART_DELAY = 1.0


@dataclass(frozen=True)
class ChildSettings:
    """What the child needs to open the same log (picklable; passed over the pipe, never on a command line)."""

    database_url: str
    sqlite_synchronous: str
    origin: str
    max_batch: int


def _child(conn: Connection, settings: ChildSettings) -> None:  # pragma: no cover - runs in the child process
    from services.kit.logging import configure_logging, log_uncaught, log_uncaught_exceptions

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's ^C reaches the whole group: the parent decides
    configure_logging(settings.origin.rsplit("/", 1)[-1] + "-evidence-writer")
    log_uncaught_exceptions()  # any thread
    try:
        _write_until_told(conn, settings)
    except Exception as exc:
        # multiprocessing prints what the target raised to stderr as it is, past sys.excepthook: logged here instead.
        log_uncaught(type(exc), exc, exc.__traceback__, threading.current_thread().name)
        raise SystemExit(1) from None


def _write_until_told(conn: Connection, settings: ChildSettings) -> None:  # pragma: no cover - in the child process
    from services.kit.db import make_engine  # here: the child starts from a bare interpreter
    from services.kit.evidence.log import commit_batch

    engine = make_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous, pool_size=1)
    store = EvidenceStore(engine, add_evidence_tables(MetaData()), settings.origin)
    conn.send("ready")
    stop = False
    while not stop:
        try:
            first = conn.recv()
        except EOFError:
            break
        if first is None:
            break
        # No lingering for company, unlike the writer thread: here a commit is quick, and what arrives meanwhile
        # makes the next batch (measured: a 1 ms linger only added latency).
        batch = [first]
        while len(batch) < settings.max_batch and conn.poll():
            item = conn.recv()
            if item is None:
                stop = True
                break
            batch.append(item)
        try:
            leaves = commit_batch(engine, store, [(LeafKind(k), p) for _, k, p in batch], datetime.now(UTC))
            conn.send([(seq, leaf) for (seq, _, _), leaf in zip(batch, leaves, strict=True)])
        except DomainError as exc:  # the batch failed as a whole (logged): each caller gets the error
            error = (type(exc), exc.reason, exc.message, exc.metadata)  # exceptions with arguments do not pickle
            conn.send([(seq, error) for seq, _, _ in batch])
    engine.dispose()


class ProcessWriter:
    """The parent's side: ``submit`` sends; a reader thread resolves the futures and restarts a child that died."""

    def __init__(self, settings: ChildSettings, start_timeout: float = 60.0) -> None:
        self._settings = settings
        self._start_timeout = start_timeout
        self._pending: dict[int, Future[StoredLeaf]] = {}
        self._seq = itertools.count()
        # Two locks: a sender blocked on a full pipe must never keep the reader from taking answers off the other
        # direction (the child would block sending them, and stop reading).
        self._lock = threading.Lock()  # _pending, _open, _conn
        self._send_lock = threading.Lock()  # writes to the pipe
        self._closing = threading.Event()
        self._conn, self._proc = self._spawn()
        self._open = True
        self._reader = threading.Thread(target=self._run, name=f"evidence-answers-{settings.origin}", daemon=True)
        self._reader.start()

    def _spawn(self) -> tuple[Connection, BaseProcess]:
        ctx = mp.get_context("spawn")  # not fork: the parent runs gRPC and database threads
        conn, child_conn = ctx.Pipe()
        proc = ctx.Process(
            target=_child, args=(child_conn, self._settings), name=f"evidence-writer-{self._settings.origin}"
        )
        proc.daemon = True
        proc.start()
        child_conn.close()
        try:
            if conn.poll(self._start_timeout) and conn.recv() == "ready":
                return conn, proc
        except (EOFError, OSError):
            pass
        proc.kill()
        proc.join()
        conn.close()
        raise Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", "the evidence writer process did not start")

    def alive(self) -> bool:
        return self._open and self._proc.is_alive()

    def submit(self, kind: LeafKind, payload: dict[str, Any], future: Future[StoredLeaf]) -> None:
        with self._lock:
            if not self._open:
                raise Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", "the evidence writer is restarting")
            seq = next(self._seq)
            self._pending[seq] = future
            conn = self._conn
        try:
            with self._send_lock:
                conn.send((seq, kind.value, payload))
        except OSError:  # that child is gone; the reader thread fails what waits on it and starts another
            with self._lock:
                self._pending.pop(seq, None)
            raise Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", "the evidence writer is restarting") from None

    def _run(self) -> None:
        while True:
            self._answer_until_gone()
            with self._lock:
                self._open = False
                lost, self._pending = list(self._pending.values()), {}
            with self._send_lock:
                self._conn.close()
            if lost:
                log.error("evidence_writer_lost", origin=self._settings.origin, waiting=len(lost))
            for future in lost:
                if future.set_running_or_notify_cancel():
                    future.set_exception(
                        Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", "the evidence writer stopped mid-append")
                    )
            if not self._restart():
                return

    def _answer_until_gone(self) -> None:
        while True:
            try:
                answers = self._conn.recv()
            except (EOFError, OSError):
                return
            for seq, outcome in answers:
                with self._lock:
                    future = self._pending.pop(seq)
                if not future.set_running_or_notify_cancel():  # the caller cancelled it
                    continue
                if isinstance(outcome, tuple):
                    cls, reason, message, metadata = outcome
                    future.set_exception(cls(reason, message, metadata))
                else:
                    future.set_result(outcome)

    def _restart(self) -> bool:
        """A new child, retried until one is ready; False once closing."""
        self._proc.join(0)
        while not self._closing.wait(RESTART_DELAY):
            log.warning("evidence_writer_restarting", origin=self._settings.origin, exit_code=self._proc.exitcode)
            try:
                conn, proc = self._spawn()
            except Unavailable:
                continue
            except Exception:  # no pipe or process to be had now (files, memory): a later try; never end this thread
                log.warning("evidence_writer_restart_failed", origin=self._settings.origin, exc_info=True)
                continue
            with self._lock:
                wanted = not self._closing.is_set()  # close() may have come meanwhile
                if wanted:
                    self._conn, self._proc, self._open = conn, proc, True
            if not wanted:
                conn.send(None)
                proc.join(self._start_timeout)
                return False
            log.info("evidence_writer_restarted", origin=self._settings.origin)
            return True
        return False

    def close(self, timeout: float) -> None:
        """What was queued commits first; then the child ends."""
        with self._lock:
            self._closing.set()
            conn = self._conn if self._open else None
        if conn is not None:
            with self._send_lock, contextlib.suppress(OSError):  # already gone: nothing is left to commit
                conn.send(None)
        self._proc.join(timeout)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(timeout)
        self._reader.join(timeout)
