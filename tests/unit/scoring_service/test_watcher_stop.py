"""Stopping a registry watcher: a bounded join that says so when the consumer does not stop."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from creditnode.registry.v1 import records_pb2 as rpb
from services.scoring.clients import registry as registry_client
from services.scoring.clients.registry import Cursor, RecordChangeWatcher

USCC = "91610100MA6TEST001"


class _Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def info(self, event: str, **kw: Any) -> None:
        self.lines.append((event, kw))

    warning = info


class _OneBatch(RecordChangeWatcher):
    """Follows a stream of one batch, as if the registry had sent it."""

    def _open(self, start: int) -> Iterator[tuple[int, object]]:
        change = rpb.RecordChange(revision=1, record=rpb.CreditRecord(uscc=USCC))
        yield 1, rpb.WatchRecordChangesResponse(revision=1, changes=[change])


def test_a_watcher_busy_in_its_handler_is_reported_not_stopped_and_joins_once_it_finishes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = _Log()
    monkeypatch.setattr(registry_client, "log", log)
    entered, release = threading.Event(), threading.Event()

    def handle(uscc: str, revision: int) -> None:
        entered.set()
        release.wait()

    saved: list[int] = []
    channel = grpc.insecure_channel("127.0.0.1:1")  # never called: the stream is the subclass's
    watcher = _OneBatch(channel, Cursor(lambda: 0, saved.append), handle)
    try:
        watcher.start()
        entered.wait()
        watcher.close()
        assert watcher.join(0.01) is False  # held in its handler by the test: it cannot have stopped
        assert ("watch_not_stopped", {"watch": "records", "timeout_seconds": 0.01}) in log.lines
        release.set()
        watcher._thread.join()
        assert watcher.join() is True
        assert saved == [1]  # the batch in hand was finished and its cursor saved, then the consumer stopped
    finally:
        release.set()
        channel.close()
