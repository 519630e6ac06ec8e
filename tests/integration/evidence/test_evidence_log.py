"""The evidence log on a real database: group-committed appends, proofs, key rotation, replicas, tamper detection."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, select, text, update

from services.kit import merkle
from services.kit.db import make_engine, migrate
from services.kit.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from services.kit.evidence.audit import Check
from services.kit.evidence.entries import LeafKind
from services.kit.evidence.heads import NodeKey, SignedTreeHead
from services.kit.evidence.log import EvidenceLog
from services.kit.evidence.receipts import Failure, Invalid, verify_consistency, verify_receipt
from services.kit.evidence.store import KeyRetired, LeafFilter, StoredLeaf
from tests.integration.evidence.conftest import EvidenceDb, StepClock, write_migrations

ORIGIN = "creditnode/test"


@pytest.fixture
def key() -> NodeKey:
    return NodeKey.generate()


@pytest.fixture
def make_log(evidence_db: EvidenceDb, key: NodeKey) -> Iterator[Callable[..., EvidenceLog]]:
    started: list[EvidenceLog] = []

    def make(**kw: Any) -> EvidenceLog:
        kw.setdefault("origin", ORIGIN)
        kw.setdefault("key", key)
        kw.setdefault("publish_interval", 0)  # heads on demand only, so each test decides when they are signed
        log = EvidenceLog(kw.pop("engine", evidence_db.engine), evidence_db.models, **kw).start()
        started.append(log)
        return log

    yield make
    for log in started:
        log.close()


def _disclosure(i: int) -> dict[str, Any]:
    return {
        "request": f"req-{i}",
        "requester": "platforms/xian",
        "enterprise": f"enterprises/E{i % 3}",
        "released_sha256": f"{i:064x}",
    }


def _fill(log: EvidenceLog, n: int) -> list[StoredLeaf]:
    return [log.append(LeafKind.DISCLOSURE, _disclosure(i)) for i in range(n)]


def test_the_migration_helper_creates_exactly_the_mounted_tables(evidence_db: EvidenceDb) -> None:
    with evidence_db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, _: kind != "table" or name.startswith("evidence_"),
            },
        )
        diff = compare_metadata(context, evidence_db.metadata)
    assert diff == []


def test_concurrent_appends_are_committed_in_batches_and_acknowledged_after_commit(
    make_log: Callable[..., EvidenceLog], evidence_db: EvidenceDb
) -> None:
    log = make_log(max_batch=16)
    blocker = log.store.writer()
    # Hold the log's lock so the writer cannot commit while 40 appends queue up.
    blocker.execute(select(evidence_db.models.state).with_for_update())
    futures: list[Future[StoredLeaf]] = []
    submitters = [
        threading.Thread(
            target=lambda: futures.extend(log.submit(LeafKind.DISCLOSURE, _disclosure(i)) for i in range(10))
        )
        for _ in range(4)
    ]
    for t in submitters:
        t.start()
    for t in submitters:
        t.join()
    assert len(futures) == 40
    assert not any(f.done() for f in futures)  # nothing is acknowledged before it is committed
    blocker.rollback()
    blocker.close()
    leaves = [f.result(60) for f in futures]
    assert sorted(leaf.index for leaf in leaves) == list(range(40))
    assert 3 <= log.stats.batches <= 4  # one leaf waited on the lock, the other 39 went in batches of <= 16
    assert log.store.tree_size() == 40
    assert log.verify().ok


def test_a_lingering_batch_waits_for_company_once_not_for_each_leaf(make_log: Callable[..., EvidenceLog]) -> None:
    """Under load the writer holds a batch open for ``linger`` in all; leaves trickling in slower than that
    must not keep one batch open (each wait once restarted the clock)."""
    log = make_log(linger=0.2)
    pair = [log.submit(LeafKind.DISCLOSURE, _disclosure(i)) for i in range(2)]  # a batch with company: linger on
    for f in pair:
        f.result(30)
    before = log.stats.batches
    trickle = []
    for i in range(5):  # one leaf every 0.15 s: never two in one 0.2 s window after the first
        trickle.append(log.submit(LeafKind.DISCLOSURE, _disclosure(10 + i)))
        time.sleep(0.15)
    for f in trickle:
        f.result(30)
    assert log.stats.batches - before >= 3


def test_a_lone_append_commits_in_the_callers_thread_and_company_goes_to_the_writer(
    make_log: Callable[..., EvidenceLog],
) -> None:
    log = make_log(linger=0.05)
    committers: list[str] = []
    append_in = log.store.append_in

    def recording(*args: Any, **kw: Any) -> list[StoredLeaf]:
        committers.append(threading.current_thread().name)
        return append_in(*args, **kw)

    log.store.append_in = recording  # type: ignore[method-assign]
    me = threading.current_thread().name
    assert [log.append(LeafKind.DISCLOSURE, _disclosure(i)).index for i in range(3)] == [0, 1, 2]
    assert committers == [me, me, me]  # no hand-off to the writer thread and back
    with log._commit_lock:  # both are queued before the writer may commit: one batch with company
        pair = [log.submit(LeafKind.DISCLOSURE, _disclosure(10 + i)) for i in range(2)]
    assert sorted(f.result(30).index for f in pair) == [3, 4]
    before = len(committers)
    assert log.append(LeafKind.DISCLOSURE, _disclosure(20)).index == 5  # after a batch with company: queued
    assert committers[before:] == [f"evidence-writer-{log.origin}"]
    assert log.append(LeafKind.DISCLOSURE, _disclosure(21)).index == 6  # alone again: inline again
    assert committers[-1] == me
    assert log.verify().ok


@pytest.mark.parametrize("separate_process", [False, True], ids=["writer-thread", "writer-process"])
def test_many_threads_appending_get_distinct_indices_and_a_valid_log(
    make_log: Callable[..., EvidenceLog], separate_process: bool
) -> None:
    log = make_log(max_batch=8, separate_process=separate_process)
    writer_threads = [t for t in threading.enumerate() if t.name == f"evidence-writer-{ORIGIN}"]
    assert len(writer_threads) == (0 if separate_process else 1)
    results: list[StoredLeaf] = []
    lock = threading.Lock()

    def work(t: int) -> None:
        for i in range(15):
            leaf = log.append(LeafKind.CONSENT_EVENT, {"authorization": f"authorizations/{t}-{i}", "event": "GRANT"})
            with lock:
                results.append(leaf)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.index for r in results) == list(range(120))
    stored = {leaf.index: leaf for leaf in log.list_leaves(LeafFilter(), None, 1000)}
    assert all((stored[r.index].entry_json, stored[r.index].leaf_hash) == (r.entry_json, r.leaf_hash) for r in results)
    log.signed_tree_head(fresh=True)
    report = log.verify()
    assert report.ok, report.problems
    assert report.tree_size == 120


def test_receipts_and_consistency_proofs_verify_offline(make_log: Callable[..., EvidenceLog], key: NodeKey) -> None:
    log = make_log()
    keys = {key.key_id: key.public_bytes}
    _fill(log, 21)
    old = log.signed_tree_head(fresh=True)
    _fill(log, 40)
    new = log.signed_tree_head(fresh=True)
    assert (old.tree_size, new.tree_size) == (21, 61)
    for index in (0, 1, 20, 33, 60):
        receipt = log.receipt(index)
        got = verify_receipt(receipt.to_obj(), keys, origin=ORIGIN)
        assert got.tree_head.tree_size == 61
        assert got.entry.payload == log.store.leaf(index).entry.payload
    older = log.inclusion(5, tree_size=21)
    assert older.tree_head == old
    older_receipt = older.receipt()
    assert older_receipt is not None
    verify_receipt(older_receipt.to_obj(), keys)
    doc = log.consistency(21, 61)
    verify_consistency(old.to_obj(), new.to_obj(), doc.to_obj(), keys)
    assert log.consistency(21).to_tree_size == 61
    assert log.inclusion(5, tree_size=30).tree_head is None  # no head of that size was signed
    with pytest.raises(NotFound) as nf:
        log.receipt(61)
    assert nf.value.reason == "ERROR_REASON_EVIDENCE_LEAF_NOT_FOUND"
    with pytest.raises(InvalidArgument) as ia:
        log.consistency(30, 62)
    assert ia.value.reason == "ERROR_REASON_EVIDENCE_TREE_SIZE_OUT_OF_RANGE"
    with pytest.raises(InvalidArgument):
        log.inclusion(40, tree_size=30)


def test_a_receipt_for_a_fresh_leaf_gets_a_fresh_head(make_log: Callable[..., EvidenceLog], key: NodeKey) -> None:
    log = make_log()
    _fill(log, 3)
    first = log.signed_tree_head(fresh=True)
    leaf = log.append(LeafKind.OBJECTION_STEP, {"objection": "objections/9", "step": "FORWARDED"})
    receipt = log.receipt(leaf.index)
    assert receipt.tree_head.tree_size == 4 > first.tree_size
    verify_receipt(receipt.to_obj(), {key.key_id: key.public_bytes})


def test_empty_log_has_a_signed_head_of_the_empty_tree(make_log: Callable[..., EvidenceLog]) -> None:
    head = make_log().signed_tree_head()
    assert (head.tree_size, head.root_hash) == (0, merkle.EMPTY_ROOT)


def test_key_rotation_keeps_heads_of_the_old_key_verifiable(make_log: Callable[..., EvidenceLog], key: NodeKey) -> None:
    log = make_log()
    _fill(log, 5)
    old_head = log.signed_tree_head(fresh=True)
    old_receipt = log.receipt(2)
    new_key = NodeKey.generate()
    new_head = log.rotate_key(new_key)
    assert new_head.key_id == new_key.key_id
    rotation = log.store.leaf(5)
    assert rotation.kind == LeafKind.KEY_ROTATION
    assert rotation.entry.payload == {"key_id": new_key.key_id, "previous_key_ids": [key.key_id]}
    keys = {k.key_id: k for k in log.public_keys()}
    assert keys[key.key_id].retired_at is not None
    assert keys[new_key.key_id].retired_at is None
    both = {k.key_id: k.public_key for k in keys.values()}
    verify_receipt(old_receipt.to_obj(), both)
    verify_consistency(old_head.to_obj(), new_head.to_obj(), log.consistency(5, 6).to_obj(), both)
    with pytest.raises(Invalid) as err:
        verify_receipt(log.receipt(1).to_obj(), {key.key_id: key.public_bytes})
    assert err.value.reason == Failure.KEY_UNKNOWN  # the latest head is signed by the new key
    assert log.verify().ok


def test_two_replicas_append_to_one_log_in_turn(
    make_log: Callable[..., EvidenceLog], evidence_db: EvidenceDb, key: NodeKey
) -> None:
    other_engine = make_engine(evidence_db.url)
    try:
        logs = [make_log(max_batch=4), make_log(max_batch=4, engine=other_engine)]
        results: list[StoredLeaf] = []
        lock = threading.Lock()

        def work(log: EvidenceLog, tag: int) -> None:
            for i in range(12):
                leaf = log.append(LeafKind.STATUS_CHANGE, {"participant": f"platforms/p{tag}-{i}", "to": "ADMITTED"})
                with lock:
                    results.append(leaf)

        threads = [threading.Thread(target=work, args=(logs[t % 2], t)) for t in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(r.index for r in results) == list(range(72))
        logs[1].signed_tree_head(fresh=True)
        report = logs[0].verify()
        assert report.ok, report.problems
    finally:
        for log in logs:
            log.close()
        other_engine.dispose()


def test_a_replica_still_holding_a_rotated_out_key_signs_no_head_with_it(
    make_log: Callable[..., EvidenceLog], evidence_db: EvidenceDb, key: NodeKey
) -> None:
    """A rotation's rolling restart: the first pod with the new key retires the old one while the old pods still
    serve. Were they to go on signing (a fresh head, the publisher's tick, the last head on shutdown), the log would
    hold heads signed by a retired key after its retirement: what a leaked key looks like to the audit."""
    clock = StepClock()
    other_engine = make_engine(evidence_db.url)
    try:
        old = make_log(clock=clock)
        _fill(old, 3)
        old.signed_tree_head(fresh=True)
        clock.advance(60)
        new_key = NodeKey.generate()
        new = make_log(key=new_key, engine=other_engine, clock=clock)
        new.signed_tree_head(fresh=True)  # its publisher's first tick
        clock.advance(60)
        # The new pod's head covers the whole log: the old pod serves that one.
        assert old.signed_tree_head(fresh=True).key_id == new_key.key_id
        _fill(old, 2)  # still appending until it is replaced
        clock.advance(60)
        with pytest.raises(Unavailable) as err:
            old.signed_tree_head(fresh=True)  # a head covering these needs a key it no longer has
        assert err.value.reason == "ERROR_REASON_DEPENDENCY_UNAVAILABLE"
        with pytest.raises(Unavailable):
            old.receipt(4)
        old.close()  # no last head with the retired key either
        assert new.receipt(4).tree_head.key_id == new_key.key_id
        report = new.verify()
        assert report.ok, report.problems
    finally:
        other_engine.dispose()


def test_a_head_signed_before_the_rotation_is_not_reported_when_the_signers_clock_runs_ahead(
    make_log: Callable[..., EvidenceLog], evidence_db: EvidenceDb
) -> None:
    """Replicas' clocks differ by a little (and a rotating replica reads its clock before it gets the log): a head
    the old key signed and stored before the rotation may carry a time after the new replica's "now". The old key
    must not be recorded as retired before a head it signed while it was still active, or the audit reports an
    honest head as one signed by a leaked key."""
    ahead = StepClock()
    behind = StepClock(ahead.now - timedelta(seconds=2))
    other_engine = make_engine(evidence_db.url)
    try:
        old = make_log(clock=ahead)
        _fill(old, 3)
        signed = old.signed_tree_head(fresh=True)
        new = make_log(key=NodeKey.generate(), engine=other_engine, clock=behind)  # the rotation, after that head
        report = new.verify()
        assert report.ok, report.problems
        with pytest.raises(KeyRetired):  # yet the old key signs nothing more
            old.store.publish_head(old.key, signed.timestamp_ms)
    finally:
        other_engine.dispose()


def test_the_head_publisher_goes_on_signing_after_the_database_was_away(make_log: Callable[..., EvidenceLog]) -> None:
    log = make_log(publish_interval=0.01)
    _fill(log, 1)
    away = threading.Event()
    away.set()
    failures: list[str] = []
    store = log.store

    def unless_away(name: str) -> None:
        read = getattr(store, name)

        def wrapped(*args: Any, **kw: Any) -> Any:
            if away.is_set():
                failures.append(name)
                raise Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", "the database is unavailable")
            return read(*args, **kw)

        setattr(store, name, wrapped)

    for name in ("latest_head", "tree_size", "publish_head"):
        unless_away(name)
    # Away for at least a whole round of the publisher: its head read failed, and so did what it read after that.
    deadline = time.monotonic() + 30
    while len(failures) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    away.clear()
    deadline = time.monotonic() + 30
    while (head := store.latest_head()) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert head is not None, "the publisher stopped during the outage"
    assert head.tree_size == 1


def test_append_in_commits_or_rolls_back_with_the_callers_transaction(make_log: Callable[..., EvidenceLog]) -> None:
    log = make_log()
    _fill(log, 2)
    with log.store.writer() as s:
        log.append_in(s, LeafKind.CONSENT_EVENT, {"authorization": "authorizations/1", "event": "REVOKE"})
        s.rollback()
    assert log.store.tree_size() == 2
    assert log.append(LeafKind.DISCLOSURE, _disclosure(9)).index == 2  # the cached tree edge was not trusted
    with log.store.writer() as s:
        leaf = log.append_in(s, LeafKind.CONSENT_EVENT, {"authorization": "authorizations/1", "event": "REVOKE"})
        s.commit()
    assert (leaf.index, log.store.tree_size()) == (3, 4)
    log.signed_tree_head(fresh=True)
    assert log.verify().ok


def test_payloads_are_checked_in_the_callers_thread(make_log: Callable[..., EvidenceLog]) -> None:
    log = make_log()
    with pytest.raises(InvalidArgument) as err:
        log.append(LeafKind.DISCLOSURE, {"subject": "61010319900307123X"})
    assert err.value.reason == "ERROR_REASON_EVIDENCE_PAYLOAD_REJECTED"
    assert log.store.tree_size() == 0


def test_a_closed_log_commits_what_was_queued_and_refuses_more(make_log: Callable[..., EvidenceLog]) -> None:
    log = make_log()
    futures = [log.submit(LeafKind.DISCLOSURE, _disclosure(i)) for i in range(5)]
    log.close()
    assert [f.result(0).index for f in futures] == [0, 1, 2, 3, 4]
    assert log.store.tree_size() == 5
    assert log.store.latest_head() is not None
    assert log.store.latest_head().tree_size == 5  # type: ignore[union-attr]
    with pytest.raises(Unavailable) as err:
        log.append(LeafKind.DISCLOSURE, _disclosure(6))
    assert err.value.reason == "ERROR_REASON_EVIDENCE_LOG_CLOSED"
    assert not log.healthy()


def test_a_database_holding_another_origins_log_is_refused(make_log: Callable[..., EvidenceLog]) -> None:
    make_log()
    with pytest.raises(FailedPrecondition) as err:
        make_log(origin="creditnode/consent")
    assert err.value.reason == "ERROR_REASON_EVIDENCE_ORIGIN_MISMATCH"


def test_leaves_list_by_kind_and_time_range(make_log: Callable[..., EvidenceLog]) -> None:
    clock = StepClock()
    log = make_log(clock=clock)
    start = clock.now
    for i in range(6):
        kind = LeafKind.DISCLOSURE if i % 2 == 0 else LeafKind.OBJECTION_STEP
        log.append(kind, {"n": i})
        clock.advance(60)
    objections = log.list_leaves(LeafFilter(kind=LeafKind.OBJECTION_STEP), None, 10)
    assert [leaf.index for leaf in objections] == [1, 3, 5]
    window = LeafFilter(start=start.replace(minute=1), end=start.replace(minute=4))
    assert [leaf.index for leaf in log.list_leaves(window, None, 10)] == [1, 2, 3]
    assert [leaf.index for leaf in log.list_leaves(window, 1, 1)] == [2]
    assert log.list_leaves(window, None, 10)[0].created_at == start.replace(minute=1)


def test_an_enterprises_leaves_are_listed_through_the_subject_column(
    make_log: Callable[..., EvidenceLog], evidence_db: EvidenceDb
) -> None:
    log = make_log()
    long_name = "enterprises/" + "X" * 200  # past the column's width: found by scanning instead
    payloads: list[dict[str, Any]] = [
        {"enterprise": "enterprises/A", "requester": "platforms/xian"},
        {"enterprise": "enterprises/B", "requester": "platforms/xian"},
        {"nested": {"enterprise": "enterprises/A"}},  # not about A: only the top level counts
        {"enterprise": "enterprises/A", "requester": "platforms/baoji"},
        {"enterprise": long_name},
        {"enterprise": ["enterprises/A"]},
    ]
    for p in payloads:
        log.append(LeafKind.DISCLOSURE, p)
    with evidence_db.engine.connect() as conn:
        subjects = conn.execute(text("SELECT subject FROM evidence_leaves ORDER BY leaf_index")).scalars().all()
    assert subjects == ["enterprises/A", "enterprises/B", None, "enterprises/A", None, None]

    def listed(*payload: tuple[str, str], after: int | None = None, limit: int = 10) -> list[int]:
        return [leaf.index for leaf in log.list_leaves(LeafFilter(payload=payload), after, limit)]

    assert listed(("enterprise", "enterprises/A")) == [0, 3]
    assert listed(("enterprise", "enterprises/A"), ("requester", "platforms/baoji")) == [3]
    assert listed(("enterprise", "enterprises/A"), after=0, limit=1) == [3]
    assert listed(("enterprise", long_name)) == [4]
    assert listed(("enterprise", "enterprises/C")) == []
    assert log.verify().ok


def test_the_version_2_migration_fills_in_the_subject_of_every_stored_leaf(
    make_log: Callable[..., EvidenceLog], evidence_db: EvidenceDb, tmp_path: Path
) -> None:
    log = make_log()
    _fill(log, 12)
    log.append(LeafKind.DISCLOSURE, {"enterprise": "enterprises/" + "Y" * 200})
    log.close()
    with evidence_db.engine.connect() as conn:
        before = conn.execute(text("SELECT leaf_index, subject FROM evidence_leaves ORDER BY leaf_index")).all()
    assert before[0][1] == "enterprises/E0"
    assert before[-1][1] is None
    cfg = Config()
    cfg.set_main_option("script_location", str(write_migrations(tmp_path / "again")))
    cfg.set_main_option("version_table", "alembic_version_svc")
    with evidence_db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "svc_0001")
    with evidence_db.engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("evidence_leaves")}
    assert "subject" not in columns
    migrate(evidence_db.engine, tmp_path / "again", version_table="alembic_version_svc")
    with evidence_db.engine.connect() as conn:
        after = conn.execute(text("SELECT leaf_index, subject FROM evidence_leaves ORDER BY leaf_index")).all()
    assert after == before
    assert make_log().verify().ok


# ---- tamper detection: every test here must pass on SQLite and on PostgreSQL ------------------------------------


def _tampered(evidence_db: EvidenceDb, *statements: str, **params: Any) -> None:
    with evidence_db.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def _leaf_hash_of(evidence_db: EvidenceDb, index: int) -> tuple[str, bytes]:
    with evidence_db.engine.connect() as conn:
        entry = conn.execute(text("SELECT entry FROM evidence_leaves WHERE leaf_index = :i"), {"i": index}).scalar_one()
    edited = entry.replace("req-7", "req-8")
    assert edited != entry
    return edited, merkle.leaf_hash(edited.encode())


TAMPERING: dict[str, tuple[Callable[[EvidenceDb], None], set[Check]]] = {
    "edit one entry": (
        lambda db: _tampered(
            db, "UPDATE evidence_leaves SET entry = :e WHERE leaf_index = 7", e=_leaf_hash_of(db, 7)[0]
        ),
        {Check.LEAF_HASH_MISMATCH, Check.HEAD_ROOT_MISMATCH},
    ),
    "edit one entry and its leaf hash": (
        lambda db: _tampered(
            db,
            "UPDATE evidence_leaves SET entry = :e, leaf_hash = :h WHERE leaf_index = 7",
            e=_leaf_hash_of(db, 7)[0],
            h=_leaf_hash_of(db, 7)[1],
        ),
        {Check.HEAD_ROOT_MISMATCH, Check.NODE_MISMATCH},
    ),
    "delete one row": (
        lambda db: _tampered(db, "DELETE FROM evidence_leaves WHERE leaf_index = 20"),
        {Check.LEAF_OUT_OF_PLACE, Check.HEAD_ROOT_MISMATCH, Check.HEAD_BEYOND_LOG},
    ),
    "delete the last row": (
        lambda db: _tampered(db, "DELETE FROM evidence_leaves WHERE leaf_index = 49"),
        {Check.HEAD_BEYOND_LOG, Check.STATE_MISMATCH},
    ),
    # A made-up leaf where no index counts from 0: listings (an enterprise's history, supervision) would show it.
    "insert a leaf at a negative index": (
        lambda db: _tampered(
            db,
            "INSERT INTO evidence_leaves (leaf_index, kind, created_at, entry, leaf_hash, subject) "
            "SELECT -1, kind, created_at, entry, leaf_hash, subject FROM evidence_leaves WHERE leaf_index = 7",
        ),
        {Check.LEAF_OUT_OF_PLACE},
    ),
    "reorder two rows": (
        lambda db: _tampered(
            db,
            "UPDATE evidence_leaves SET leaf_index = -1 WHERE leaf_index = 10",
            "UPDATE evidence_leaves SET leaf_index = 10 WHERE leaf_index = 11",
            "UPDATE evidence_leaves SET leaf_index = 11 WHERE leaf_index = -1",
        ),
        {Check.HEAD_ROOT_MISMATCH, Check.NODE_MISMATCH},
    ),
    "edit the kind column": (
        lambda db: _tampered(db, "UPDATE evidence_leaves SET kind = 'CONSENT_EVENT' WHERE leaf_index = 3"),
        {Check.LEAF_COLUMNS_MISMATCH},
    ),
    "hide a leaf from its enterprise": (
        lambda db: _tampered(db, "UPDATE evidence_leaves SET subject = NULL WHERE leaf_index = 5"),
        {Check.LEAF_COLUMNS_MISMATCH},
    ),
    "edit a stored subtree": (
        lambda db: _tampered(
            db, "UPDATE evidence_nodes SET hash = :h WHERE level = 2 AND node_index = 3", h=b"\0" * 32
        ),
        {Check.NODE_MISMATCH},
    ),
    "forge a head's size": (
        lambda db: _tampered(db, "UPDATE evidence_tree_heads SET tree_size = 40"),
        {Check.HEAD_SIGNATURE_INVALID},
    ),
    "record the signing key as retired before its heads": (
        lambda db: _retire_keys(db, datetime(2026, 1, 1, tzinfo=UTC)),
        {Check.HEAD_KEY_RETIRED},
    ),
}


def _retire_keys(evidence_db: EvidenceDb, at: datetime) -> None:
    with evidence_db.engine.begin() as conn:  # through the model, so the time is stored as each backend stores it
        conn.execute(update(evidence_db.models.key).values(retired_at=at))


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_verify_log_detects_tampering_with_any_stored_row(
    case: str, make_log: Callable[..., EvidenceLog], evidence_db: EvidenceDb
) -> None:
    log = make_log()
    _fill(log, 30)
    log.signed_tree_head(fresh=True)
    _fill(log, 20)
    log.signed_tree_head(fresh=True)
    before = log.verify()
    assert before.ok, before.problems
    assert (before.tree_size, before.heads_checked) == (50, 2)
    tamper, expected = TAMPERING[case]
    tamper(evidence_db)
    report = log.verify()
    assert not report.ok
    assert expected <= report.checks(), report.problems
    assert all("req-" not in p.message for p in report.problems)  # problems never quote entries


def test_a_rewritten_log_resigned_under_a_swapped_public_key_is_reported(
    make_log: Callable[..., EvidenceLog], evidence_db: EvidenceDb, key: NodeKey
) -> None:
    """Someone with write access to the database but not the node's key edits a leaf, recomputes every stored hash
    and re-signs every head with a key of their own, stored under the node key's id. A key id is derived from its
    public key, so the stored key no longer matches its id: the audit must not take it as the node's."""
    log = make_log()
    _fill(log, 30)
    log.signed_tree_head(fresh=True)
    _fill(log, 20)
    log.signed_tree_head(fresh=True)
    m = evidence_db.models
    forger = NodeKey.generate()
    with evidence_db.engine.begin() as conn:
        entries = conn.execute(select(m.leaf.leaf_index, m.leaf.entry).order_by(m.leaf.leaf_index)).all()
        frontier, nodes, roots = merkle.Frontier(), [], {}
        for index, stored in entries:
            entry = stored.replace("req-7", "req-8") if index == 7 else stored
            if entry != stored:
                conn.execute(update(m.leaf).where(m.leaf.leaf_index == index).values(entry=entry))
            leaf = merkle.leaf_hash(entry.encode())
            conn.execute(update(m.leaf).where(m.leaf.leaf_index == index).values(leaf_hash=leaf))
            nodes += frontier.push(leaf)
            roots[frontier.size] = frontier.root()
        for level, node_index, h in nodes:
            conn.execute(update(m.node).where(m.node.level == level, m.node.node_index == node_index).values(hash=h))
        conn.execute(update(m.state).values(root_hash=frontier.root()))
        for head in conn.execute(select(m.tree_head)).all():
            forged = SignedTreeHead.sign(forger, ORIGIN, head.tree_size, roots[head.tree_size], head.timestamp_ms)
            conn.execute(
                update(m.tree_head)
                .where(m.tree_head.id == head.id)
                .values(root_hash=forged.root_hash, signature=forged.signature)
            )
        conn.execute(update(m.key).where(m.key.key_id == key.key_id).values(public_key=forger.public_bytes))
    report = log.verify()
    assert {Check.KEY_ID_MISMATCH, Check.HEAD_KEY_UNKNOWN} <= report.checks(), report.problems
    assert all("req-" not in p.message for p in report.problems)


def test_a_head_signed_by_a_retired_key_after_its_retirement_is_reported(
    make_log: Callable[..., EvidenceLog], evidence_db: EvidenceDb, key: NodeKey
) -> None:
    log = make_log()
    _fill(log, 5)
    log.signed_tree_head(fresh=True)  # signed by key before its retirement: fine
    log.rotate_key(NodeKey.generate())
    _fill(log, 3)
    log.signed_tree_head(fresh=True)
    assert log.verify().ok
    retired_at = {k.key_id: k.retired_at for k in log.public_keys()}[key.key_id]
    assert retired_at is not None
    # The log itself signs nothing more with a retired key ...
    later_ms = int((retired_at + timedelta(days=30)).timestamp() * 1000)
    with pytest.raises(KeyRetired):
        log.store.publish_head(key, later_ms)
    # ... but whoever kept the rotated-out key signs a head a month after its retirement and stores it.
    state = log.store.models.state
    with evidence_db.engine.begin() as conn:
        size, root = conn.execute(select(state.tree_size, state.root_hash)).one()
        forged = SignedTreeHead.sign(key, ORIGIN, size, bytes(root), later_ms)
        conn.execute(
            insert(log.store.models.tree_head).values(
                tree_size=size, root_hash=bytes(root), timestamp_ms=later_ms, key_id=key.key_id,
                signature=forged.signature,
            )
        )  # fmt: skip
    report = log.verify()
    assert report.checks() == {Check.HEAD_KEY_RETIRED}, report.problems
    assert key.key_id in report.problems[0].message


def test_a_replica_started_again_with_a_retired_key_is_refused_and_the_retirement_stands(
    make_log: Callable[..., EvidenceLog], key: NodeKey
) -> None:
    """A rotated-out key (one that leaked, say) comes back when a replica starts with its old key file (an old Secret
    restored). Were it made active again, its retirement would be erased: the heads it signed from then on would
    pass the audit, which knows a retired key only by its ``retired_at``, and the newer key would be retired."""
    clock = StepClock()
    log = make_log(clock=clock)
    _fill(log, 3)
    log.signed_tree_head(fresh=True)
    clock.advance(60)
    new_key = NodeKey.generate()
    log.rotate_key(new_key)
    log.close()
    clock.advance(60)
    with pytest.raises(KeyRetired):
        make_log(clock=clock)  # key is the rotated-out one
    keys = {k.key_id: k.retired_at for k in log.public_keys()}
    assert keys[key.key_id] is not None
    assert keys[new_key.key_id] is None
    assert log.store.tree_size() == 4  # the three leaves and the rotation's, no second KEY_ROTATION leaf
    newer = make_log(key=new_key, clock=clock)
    assert newer.signed_tree_head(fresh=True).key_id == new_key.key_id
    assert newer.verify().ok


def test_a_tampered_subtree_makes_served_proofs_fail_verification(
    make_log: Callable[..., EvidenceLog], evidence_db: EvidenceDb, key: NodeKey
) -> None:
    log = make_log()
    _fill(log, 50)
    log.signed_tree_head(fresh=True)
    _tampered(evidence_db, "UPDATE evidence_nodes SET hash = :h WHERE level = 3 AND node_index = 0", h=b"\1" * 32)
    with pytest.raises(Invalid) as err:
        verify_receipt(log.receipt(10).to_obj(), {key.key_id: key.public_bytes})  # (3, 0) is on its path
    assert err.value.reason == Failure.ROOT_MISMATCH


def test_the_head_gauges_show_leaves_that_no_head_covers_and_since_when(make_log: Callable[..., EvidenceLog]) -> None:
    # What the "evidence log not signing" alert reads: leaves waiting for a head, and for how long no head came. A
    # log that never managed to sign (a new node whose signing fails) has no head to take an age from: its first
    # leaf's wait is the age, or the alert would have nothing to fire on.
    from prometheus_client import REGISTRY

    def gauge(name: str) -> float | None:
        return REGISTRY.get_sample_value(name, {"service": "gauged"})

    clock = StepClock()
    log = make_log(origin="creditnode/gauged", clock=clock)  # no publisher thread: each round is run here
    publish = log.store.publish_head
    signing = False

    def failing(*args: Any, **kw: Any) -> Any:
        if signing:
            return publish(*args, **kw)
        raise RuntimeError("signing failed")

    log.store.publish_head = failing  # type: ignore[method-assign]
    _fill(log, 2)
    clock.advance(1200)
    log._publish_round()
    assert gauge("creditnode_evidence_unsigned_leaves") == 2
    assert gauge("creditnode_evidence_signed_tree_head_age_seconds") == 1200

    signing = True
    log._publish_round()
    assert gauge("creditnode_evidence_unsigned_leaves") == 0
    assert gauge("creditnode_evidence_signed_tree_head_age_seconds") == 0

    _fill(log, 1)  # a leaf the next head will cover; until then it waits, with the head's age running
    clock.advance(30)
    signing = False
    log._publish_round()
    assert gauge("creditnode_evidence_unsigned_leaves") == 1
    assert gauge("creditnode_evidence_signed_tree_head_age_seconds") == 30
