"""``EvidenceLog``: the object a service holds. Group-commit appends, tree heads at intervals and on demand, receipts.

Group commit: any number of threads call ``append`` (or ``submit``); one writer thread takes everything queued (up
to ``max_batch``), appends it in one transaction, commits, and only then resolves each caller's future. A caller
is never told "recorded" before its leaf is durable, and a busy log pays one commit (one fsync) per batch instead
of one per leaf. With ``separate_process`` the same writer runs in a child process (``writer_process``).

Lifecycle: ``start()`` after migrations (opens the log, activates the node key, starts the threads); ``close()``
after the gRPC server stopped (drains queued appends, then stops). Register ``close`` in ``ServerSpec.on_stop``
before the engine's ``dispose``.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from services.kit.db import translate_db_errors
from services.kit.errors import DomainError, NotFound, Unavailable
from services.kit.evidence.audit import LogReport, verify_log
from services.kit.evidence.entries import LeafKind, check_payload
from services.kit.evidence.heads import NodeKey, SignedTreeHead
from services.kit.evidence.receipts import ConsistencyDocument, Receipt
from services.kit.evidence.schema import EvidenceModels
from services.kit.evidence.store import EvidenceStore, KeyRetired, LeafFilter, PublicKeyRecord, StoredLeaf
from services.kit.evidence.writer_process import ChildSettings, ProcessWriter
from services.kit.logging import describe_database_error, is_database_error
from services.kit.metrics import EVIDENCE_HEAD_AGE, EVIDENCE_LOG_SIZE, EVIDENCE_UNSIGNED

log = structlog.get_logger("kit.evidence")

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Pending:
    kind: LeafKind
    payload: dict[str, Any]
    future: Future[StoredLeaf]


@dataclass
class AppendStats:
    """Counters of the group-commit writer (for benchmarks and metrics)."""

    batches: int = 0
    leaves: int = 0
    failed_batches: int = 0


@dataclass(frozen=True)
class InclusionResult:
    """A leaf, its audit path for ``tree_size`` and the signed head of that size (if one was signed)."""

    leaf: StoredLeaf
    tree_size: int
    proof: list[bytes]
    tree_head: SignedTreeHead | None

    def receipt(self) -> Receipt | None:
        if self.tree_head is None:
            return None
        return Receipt(self.leaf.index, self.leaf.entry, self.proof, self.tree_head)


_STOP = object()


def commit_batch(
    engine: Engine, store: EvidenceStore, items: list[tuple[LeafKind, dict[str, Any]]], now: datetime
) -> list[StoredLeaf]:
    """Append ``items`` in one transaction and commit; a failure is raised as a DomainError (logged here)."""
    try:
        # A bare connection, not a session: this runs once per batch and the ORM adds nothing here.
        with translate_db_errors(), engine.connect() as conn, conn.begin():
            return store.append_in(conn, items, now)
    except Exception as exc:
        cause = getattr(exc, "orig", None) or exc
        log.error(
            "evidence_append_failed",
            origin=store.origin,
            batch=len(items),
            error_type=type(cause).__name__,
            # A database error's text quotes values (SQLAlchemy's the bound entries, PostgreSQL's "DETAIL: Key
            # (...)=(...)"): described without them. Our own errors' texts name no values.
            error=describe_database_error(exc) if is_database_error(exc) else str(cause)[:200],
        )
        if isinstance(exc, DomainError):
            raise
        raise Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", "the evidence log could not be written") from None


class EvidenceLog:
    """One service's evidence log in its own database."""

    def __init__(
        self,
        engine: Engine,
        models: EvidenceModels,
        *,
        origin: str,
        key: NodeKey,
        max_batch: int = 128,
        linger: float = 0.001,
        publish_interval: float = 10.0,
        clock: Clock = _utcnow,
        separate_process: bool = False,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.store = EvidenceStore(engine, models, origin)
        self.origin = origin
        self.max_batch = max_batch
        self.linger = linger
        self.publish_interval = publish_interval
        self.stats = AppendStats()
        self._engine = engine
        self._key = key
        self._clock = clock
        self._queue: queue.SimpleQueue[_Pending | object] = queue.SimpleQueue()
        self._closed = threading.Event()
        self._submit_lock = threading.Lock()
        self._commit_lock = threading.Lock()  # one committer at a time: the writer thread or a lone appender
        self._last_batch = 1
        self._publish_lock = threading.Lock()
        self._stop_publisher = threading.Event()
        self._writer: threading.Thread | None = None
        # The writer in a child process (see ``writer_process``), for a service whose request threads keep the
        # interpreter lock busy. Its leaves take the real clock, not ``clock``; it does not linger.
        self._separate_process = separate_process
        self._process_writer: ProcessWriter | None = None
        self._publisher: threading.Thread | None = None

    # ---- lifecycle ----------------------------------------------------------------------------------------------

    def start(self) -> EvidenceLog:
        """Open the log, make this node's key the active one, start the writer and the head publisher."""
        self.store.open()
        self._activate(self._key)
        if self._separate_process:
            self._process_writer = ProcessWriter(self._child_settings())
        else:
            self._writer = threading.Thread(target=self._run_writer, name=f"evidence-writer-{self.origin}", daemon=True)
            self._writer.start()
        if self.publish_interval > 0:
            self._publisher = threading.Thread(
                target=self._run_publisher, name=f"evidence-heads-{self.origin}", daemon=True
            )
            self._publisher.start()
        return self

    def close(self, timeout: float = 10.0) -> None:
        """Refuse new appends, commit the queued ones, sign a last head, stop the threads."""
        with self._submit_lock:
            if self._closed.is_set():
                return
            self._closed.set()
            self._queue.put(_STOP)
        if self._writer is not None:
            self._writer.join(timeout)
        if self._process_writer is not None:
            self._process_writer.close(timeout)
        if self._commit_lock.acquire(timeout=timeout):  # a lone appender's commit in progress ends first
            self._commit_lock.release()
        self._stop_publisher.set()
        if self._publisher is not None:
            self._publisher.join(timeout)
        try:
            self._publish_if_stale()
        except Exception:  # shutting down: a missing last head is caught up by the next start's publisher
            log.warning("evidence_last_head_failed", origin=self.origin, exc_info=True)

    def healthy(self) -> bool:
        """Readiness: the writer is running and the log accepts appends."""
        if self._closed.is_set():
            return False
        if self._process_writer is not None:
            return self._process_writer.alive()
        return self._writer is not None and self._writer.is_alive()

    def _child_settings(self) -> ChildSettings:
        """The engine's database and durability, for the writer process to open its own connection."""
        synchronous = "FULL"
        if self._engine.dialect.name == "sqlite":
            if self._engine.url.database in (None, "", ":memory:"):
                raise ValueError("a separate writer process needs a database file")
            with self._engine.connect() as conn:
                level = conn.exec_driver_sql("PRAGMA synchronous").scalar_one()
            synchronous = {1: "NORMAL", 2: "FULL", 3: "EXTRA"}[level]
        return ChildSettings(
            self._engine.url.render_as_string(hide_password=False),
            synchronous,
            self.origin,
            self.max_batch,
        )

    # ---- appends ------------------------------------------------------------------------------------------------

    def submit(self, kind: LeafKind, payload: Mapping[str, Any]) -> Future[StoredLeaf]:
        """Queue a leaf; the future resolves once it is committed. Bad payloads fail here, in the caller."""
        return self._enqueue(kind, payload, inline=False)

    def _enqueue(self, kind: LeafKind, payload: Mapping[str, Any], *, inline: bool) -> Future[StoredLeaf]:
        checked = check_payload(payload)
        pending = _Pending(LeafKind(kind), checked, Future())
        if self._process_writer is not None:
            if self._closed.is_set():
                raise Unavailable("ERROR_REASON_EVIDENCE_LOG_CLOSED", "the evidence log is not accepting appends")
            self._process_writer.submit(pending.kind, checked, pending.future)
            return pending.future
        with self._submit_lock:
            if self._closed.is_set() or self._writer is None:
                raise Unavailable("ERROR_REASON_EVIDENCE_LOG_CLOSED", "the evidence log is not accepting appends")
            # A lone appender (the last batch had no company, and nothing is being committed) commits its leaf
            # itself: handing it to the writer thread and back cost two thread wake-ups on every quiet request.
            inline = inline and self._last_batch == 1 and self._commit_lock.acquire(blocking=False)
            if not inline:
                self._queue.put(pending)
        if inline:
            try:
                self._commit([pending])
            finally:
                self._commit_lock.release()
        return pending.future

    def append(self, kind: LeafKind, payload: Mapping[str, Any], timeout: float = 30.0) -> StoredLeaf:
        """Append one leaf and return it once durable (its index, hash and created_at).

        ``payload`` holds ids and hashes only, never raw personal data (see ``entries``). If this raises
        UNAVAILABLE the leaf may or may not have been recorded.
        """
        future = self._enqueue(kind, payload, inline=True)
        try:
            return future.result(timeout)
        except FutureTimeout:
            raise Unavailable(
                "ERROR_REASON_DEPENDENCY_UNAVAILABLE", "the evidence log did not commit in time"
            ) from None

    def append_in(self, session: Session, kind: LeafKind, payload: Mapping[str, Any]) -> StoredLeaf:
        """Append inside the caller's own (writer) transaction, atomically with its state change.

        The log's state row stays locked until that transaction ends, so keep it short.
        """
        checked = check_payload(payload)
        return self.store.append_in(session, [(LeafKind(kind), checked)], self._clock())[0]

    def _run_writer(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is _STOP:
                break
            batch = [first]
            with self._commit_lock:
                # Under load (the last batch had company) wait a moment for more: a commit costs about the same for
                # one leaf as for dozens. A lone caller is never kept waiting. Sleeping, rather than waiting on the
                # queue, wakes this thread once per batch instead of once for every leaf that arrives meanwhile.
                if self._last_batch > 1 and self._queue.qsize() < self.max_batch - 1:
                    time.sleep(self.linger)
                while len(batch) < self.max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stop = True
                        break
                    batch.append(item)
                self._commit([p for p in batch if isinstance(p, _Pending)])

    def _commit(self, batch: list[_Pending]) -> None:
        """Commit ``batch`` and resolve its futures; the caller holds ``_commit_lock``."""
        self._last_batch = len(batch)
        live = [p for p in batch if p.future.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            leaves = commit_batch(self._engine, self.store, [(p.kind, p.payload) for p in live], self._clock())
        except DomainError as error:
            self.stats.failed_batches += 1
            for p in live:
                p.future.set_exception(error)
            return
        self.stats.batches += 1
        self.stats.leaves += len(live)
        for p, leaf in zip(live, leaves, strict=True):
            p.future.set_result(leaf)

    # ---- keys and heads -----------------------------------------------------------------------------------------

    @property
    def key(self) -> NodeKey:
        return self._key

    def _activate(self, key: NodeKey) -> None:
        now = self._clock()
        with translate_db_errors(), self.store.writer() as s:
            retired = self.store.activate_key(s, key, now)
            if retired:  # the rotation itself becomes evidence
                payload = {"key_id": key.key_id, "previous_key_ids": retired}
                self.store.append_in(s, [(LeafKind.KEY_ROTATION, check_payload(payload))], now)
            s.commit()
        if retired:
            log.info("evidence_key_rotated", origin=self.origin, key_id=key.key_id, retired=retired)

    def rotate_key(self, key: NodeKey) -> SignedTreeHead:
        """Sign from now on with ``key``; older keys stay listed (retired) so their heads still verify."""
        # Under the publisher's lock, so no head is signed with the old key after its retired_at (verify_log
        # reports such heads).
        with self._publish_lock:
            self._activate(key)
            self._key = key
        return self.signed_tree_head(fresh=True)

    def _now_ms(self) -> int:
        return int(self._clock().timestamp() * 1000)

    def _publish_if_stale(self) -> SignedTreeHead:
        with self._publish_lock:
            latest = self.store.latest_head()
            if latest is not None and latest.tree_size == self.store.tree_size() and latest.key_id == self._key.key_id:
                return latest
            try:
                return self.store.publish_head(self._key, self._now_ms())
            except KeyRetired:
                pass
        # Another replica started with a newer key (a rotation's rolling restart) and this one is about to be
        # replaced: it signs nothing more with the retired key, and serves the newer key's head while that covers
        # every leaf; otherwise the caller retries, on a replica holding the active key.
        latest = self.store.latest_head()
        if latest is not None and latest.tree_size == self.store.tree_size():
            return latest
        log.warning("evidence_key_retired", origin=self.origin, key_id=self._key.key_id)
        raise Unavailable(
            "ERROR_REASON_DEPENDENCY_UNAVAILABLE", "this replica's evidence signing key was rotated out; retry"
        )

    def _run_publisher(self) -> None:
        while not self._stop_publisher.wait(self.publish_interval):
            self._publish_round()

    def _publish_round(self) -> None:
        """Sign a head if leaves wait for one, then set the gauges the "not signing" alert reads."""
        head: SignedTreeHead | None = None
        try:
            head = self._publish_if_stale()
        except Exception:  # the next round retries; appends are unaffected
            log.warning("evidence_head_publish_failed", origin=self.origin, exc_info=True)
        # The gauges' reads fail too while the database is away: they must not end the publisher's thread, or no head
        # would be signed on schedule again (and the gauges, frozen, would keep the "not signing" alert quiet).
        with contextlib.suppress(Exception):  # the gauges keep their last values until a round can read
            if head is None:
                head = self.store.latest_head()
            service = self.origin.rsplit("/", 1)[-1]
            size = self.store.tree_size()
            EVIDENCE_LOG_SIZE.labels(service).set(size)
            # Leaves no head covers: what the alert fires on while the head is old. Growth alone is no sign: on a
            # quiet log it is over in a moment while its leaves stay uncovered.
            EVIDENCE_UNSIGNED.labels(service).set(size - (head.tree_size if head is not None else 0))
            if head is not None:
                signed_ms = head.timestamp_ms
            elif size:
                # Never signed: the first leaf has waited this long for a head (without an age, the alert could not
                # fire for a log that never managed to sign).
                signed_ms = int(self.store.leaf(0).created_at.timestamp() * 1000)
            else:
                return
            EVIDENCE_HEAD_AGE.labels(service).set(max(0.0, (self._now_ms() - signed_ms) / 1000))

    def signed_tree_head(self, *, fresh: bool = False) -> SignedTreeHead:
        """The latest signed head; with ``fresh``, one covering every committed leaf (signed now if needed)."""
        if fresh:
            return self._publish_if_stale()
        latest = self.store.latest_head()
        return latest if latest is not None else self._publish_if_stale()

    def public_keys(self) -> list[PublicKeyRecord]:
        return self.store.public_keys()

    def key_is_active(self) -> bool:
        """Whether this log's key is still the one it signs with: no replica has rotated it out."""
        key_id = self._key.key_id
        return any(k.key_id == key_id and k.retired_at is None for k in self.store.public_keys())

    # ---- proofs and receipts ------------------------------------------------------------------------------------

    def inclusion(self, index: int, tree_size: int = 0) -> InclusionResult:
        """Leaf ``index`` with its audit path: to the latest head (``tree_size`` 0), or to a given size."""
        leaf = self.store.leaf(index)
        head: SignedTreeHead | None
        if tree_size == 0:
            head = self.signed_tree_head()
            if head.tree_size <= index:
                head = self.signed_tree_head(fresh=True)
            tree_size = head.tree_size
        else:
            head = self.store.head_of_size(tree_size)
        proof = self.store.inclusion_proof(index, tree_size)
        return InclusionResult(leaf, tree_size, proof, head)

    def receipt(self, index: int) -> Receipt:
        """An offline-verifiable receipt for leaf ``index`` against the latest head (a fresh one if needed)."""
        receipt = self.inclusion(index).receipt()
        if receipt is None:  # inclusion() with tree_size 0 always has a head
            raise NotFound("ERROR_REASON_EVIDENCE_LEAF_NOT_FOUND", "no head covers that leaf")
        return receipt

    def consistency(self, first: int, second: int = 0) -> ConsistencyDocument:
        """The consistency proof between two sizes; ``second`` 0 means the latest signed head."""
        if second == 0:
            second = self.signed_tree_head().tree_size
        return ConsistencyDocument(self.origin, first, second, self.store.consistency_proof(first, second))

    def list_leaves(self, where: LeafFilter, after: int | None, limit: int) -> list[StoredLeaf]:
        return self.store.list_leaves(where, after, limit)

    def verify(self) -> LogReport:
        """Recompute the whole log from stored rows against every signed head (see ``audit.verify_log``)."""
        return verify_log(self._engine, self.store.models, origin=self.origin)
