"""The evidence log's writer in a child process, on a real database: durable answers, a failing batch, a killed
child replaced without losing an acknowledged leaf, an orderly close, a full pipe (concurrent appends from many threads:
``test_evidence_log``, for both writers)."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from sqlalchemy import select, text

from services.kit.errors import Unavailable
from services.kit.evidence import writer_process
from services.kit.evidence.entries import LeafKind
from services.kit.evidence.heads import NodeKey
from services.kit.evidence.log import EvidenceLog
from services.kit.evidence.store import LeafFilter, StoredLeaf
from tests.integration.evidence.conftest import EvidenceDb

ORIGIN = "creditnode/test"


@pytest.fixture
def make_log(evidence_db: EvidenceDb) -> Iterator[Callable[..., EvidenceLog]]:
    started: list[EvidenceLog] = []

    def make(**kw: Any) -> EvidenceLog:
        log = EvidenceLog(
            evidence_db.engine,
            evidence_db.models,
            origin=ORIGIN,
            key=NodeKey.generate(),
            publish_interval=0,
            separate_process=True,
            **kw,
        ).start()
        started.append(log)
        return log

    yield make
    for log in started:
        log.close()


def _writer() -> mp.process.BaseProcess:
    (child,) = [p for p in mp.active_children() if p.name == f"evidence-writer-{ORIGIN}"]
    return child


def _disclosure(i: int) -> dict[str, Any]:
    return {"request": f"req-{i}", "requester": "platforms/xian", "released_sha256": f"{i:064x}"}


def _until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_an_append_is_answered_only_once_its_leaf_is_committed(
    make_log: Callable[..., EvidenceLog], evidence_db: EvidenceDb
) -> None:
    log = make_log()
    blocker = log.store.writer()
    blocker.execute(select(evidence_db.models.state).with_for_update())  # the writer process cannot commit
    future = log.submit(LeafKind.DISCLOSURE, _disclosure(1))
    time.sleep(0.3)
    assert not future.done()
    blocker.rollback()
    blocker.close()
    leaf = future.result(30)
    assert log.store.leaf(leaf.index).entry_json == leaf.entry_json


def test_a_failed_batch_reaches_each_caller_and_the_writer_carries_on(
    make_log: Callable[..., EvidenceLog], evidence_db: EvidenceDb
) -> None:
    log = make_log()
    assert log.append(LeafKind.DISCLOSURE, _disclosure(0)).index == 0
    child = _writer()
    with evidence_db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE evidence_leaves RENAME TO evidence_leaves_away"))
    try:
        with pytest.raises(Unavailable) as err:
            log.append(LeafKind.DISCLOSURE, _disclosure(1))
        assert err.value.reason == "ERROR_REASON_DEPENDENCY_UNAVAILABLE"
        assert "stopped" not in err.value.message  # the batch failed; the writer did not
    finally:
        with evidence_db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE evidence_leaves_away RENAME TO evidence_leaves"))
    assert log.healthy()
    assert _writer() is child
    assert log.append(LeafKind.DISCLOSURE, _disclosure(2)).index == 1  # the failed batch left nothing behind
    assert log.verify().ok


def test_a_killed_writer_fails_the_waiting_appends_refuses_more_and_is_replaced(
    make_log: Callable[..., EvidenceLog], evidence_db: EvidenceDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_process, "RESTART_DELAY", 3.0)  # long enough to see the log refuse appends
    log = make_log()
    acknowledged = [log.append(LeafKind.DISCLOSURE, _disclosure(i)) for i in range(3)]
    first = _writer()
    blocker = log.store.writer()
    blocker.execute(select(evidence_db.models.state).with_for_update())
    waiting: list[Future[StoredLeaf]] = [log.submit(LeafKind.DISCLOSURE, _disclosure(10 + i)) for i in range(5)]
    time.sleep(0.2)
    assert first.pid is not None
    os.kill(first.pid, signal.SIGKILL)
    for future in waiting:
        with pytest.raises(Unavailable) as err:
            future.result(30)
        assert err.value.reason == "ERROR_REASON_DEPENDENCY_UNAVAILABLE"
    assert not log.healthy()
    with pytest.raises(Unavailable):
        log.append(LeafKind.DISCLOSURE, _disclosure(20))
    blocker.rollback()
    blocker.close()
    _until(log.healthy)
    assert _writer() is not first
    leaf = log.append(LeafKind.DISCLOSURE, _disclosure(30))
    assert leaf.index == len(acknowledged)  # the killed batch was never committed; nothing acknowledged was lost
    assert [stored.entry_json for stored in log.list_leaves(LeafFilter(), None, 10)] == [
        *(a.entry_json for a in acknowledged),
        leaf.entry_json,
    ]
    assert log.verify().ok


def test_a_writer_that_cannot_be_started_again_at_once_is_started_at_a_later_try(
    make_log: Callable[..., EvidenceLog], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_process, "RESTART_DELAY", 0.05)
    log = make_log()
    writer = log._process_writer
    assert writer is not None
    spawn, tries = writer._spawn, []

    def spawn_failing_once() -> Any:
        tries.append(1)
        if len(tries) == 1:  # the moment the child died, the machine had no room for another process
            raise OSError(24, "Too many open files")
        return spawn()

    writer._spawn = spawn_failing_once  # type: ignore[method-assign]
    first = _writer()
    assert first.pid is not None
    os.kill(first.pid, signal.SIGKILL)
    _until(lambda: len(tries) >= 1)
    _until(log.healthy)
    assert _writer() is not first
    assert log.append(LeafKind.DISCLOSURE, _disclosure(1)).index == 0


def test_close_commits_what_was_queued_and_ends_the_writer_process(make_log: Callable[..., EvidenceLog]) -> None:
    log = make_log()
    child = _writer()
    futures = [log.submit(LeafKind.DISCLOSURE, _disclosure(i)) for i in range(5)]
    log.close()
    assert [f.result(0).index for f in futures] == [0, 1, 2, 3, 4]
    assert child.exitcode == 0
    assert not log.healthy()
    with pytest.raises(Unavailable) as err:
        log.append(LeafKind.DISCLOSURE, _disclosure(6))
    assert err.value.reason == "ERROR_REASON_EVIDENCE_LOG_CLOSED"


def test_large_leaves_from_many_threads_at_once_all_commit(make_log: Callable[..., EvidenceLog]) -> None:
    # More bytes in flight than a pipe holds in each direction: a sender waiting for room must never keep the
    # answers from being read, or the child, blocked sending them, would stop reading (and everyone would wait).
    log = make_log(max_batch=32)
    hashes = [f"{i:064x}" for i in range(200)]
    done: list[int] = []
    lock = threading.Lock()

    def work(t: int) -> None:
        for i in range(4):
            leaf = log.append(LeafKind.DISCLOSURE, {"request": f"req-{t}-{i}", "record_sha256": hashes}, timeout=120)
            with lock:
                done.append(leaf.index)

    threads = [threading.Thread(target=work, args=(t,), daemon=True) for t in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    assert sorted(done) == list(range(64 * 4))


def test_an_exception_the_writer_process_did_not_catch_is_logged_without_the_numbers_in_it(
    evidence_db: EvidenceDb, capfd: pytest.CaptureFixture[str]
) -> None:
    id_number, phone = "61010319900307123X", "13912345678"
    ctx = mp.get_context("spawn")
    conn, child_conn = ctx.Pipe()
    settings = writer_process.ChildSettings(evidence_db.url, "FULL", ORIGIN, max_batch=8)
    child = ctx.Process(target=writer_process._child, args=(child_conn, settings), daemon=True)
    child.start()
    child_conn.close()
    try:
        assert conn.poll(60)
        assert conn.recv() == "ready"
        # Not a kind of leaf (the parent sends only LeafKind values): the child fails outside any batch, on a text
        # that quotes what it was sent.
        conn.send((0, f"kind {id_number} {phone}", {}))
        child.join(60)
    finally:
        conn.close()
        if child.is_alive():
            child.kill()
            child.join()
    assert child.exitcode == 1
    out, err = capfd.readouterr()
    assert id_number not in out + err
    assert phone not in out + err
    (line,) = [json.loads(line) for line in out.splitlines() if '"uncaught_exception"' in line]
    assert line["service"] == "test-evidence-writer"
    assert line["thread"] == "MainThread"
    assert "Traceback" in line["exception"]
    assert line["exception"].splitlines()[-1].startswith("ValueError: ")
