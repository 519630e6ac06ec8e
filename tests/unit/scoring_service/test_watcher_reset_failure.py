"""A registry watcher whose cursor cannot be reset (the database failed) tries again, rather than stopping for good."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc

from creditnode.registry.v1 import records_pb2 as rpb
from services.kit.errors import Unavailable
from services.scoring.clients.registry import Cursor, RecordChangeWatcher
from tests.rpc_refusals import Refused

USCC = "91610100MA6TEST001"


class _AheadThenBatch(RecordChangeWatcher):
    """Refuses a cursor above 0; from 0, one batch at revision 1."""

    def _open(self, start: int) -> Iterator[tuple[int, object]]:
        if start > 0:
            raise Refused(grpc.StatusCode.FAILED_PRECONDITION)  # a cursor ahead of a registry restored from a backup
        change = rpb.RecordChange(revision=1, record=rpb.CreditRecord(uscc=USCC))
        yield 1, rpb.WatchRecordChangesResponse(revision=1, changes=[change])


def test_a_cursor_reset_that_fails_is_tried_again_and_the_watch_goes_on() -> None:
    cursor = [5]
    resets = 0

    def reset() -> None:
        nonlocal resets
        resets += 1
        if resets == 1:  # the database is away at that moment
            raise Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", "the database is unavailable")
        cursor[0] = 0

    handled = threading.Event()
    channel = grpc.insecure_channel("127.0.0.1:1")  # never called: the stream is the subclass's
    watcher = _AheadThenBatch(
        channel,
        Cursor(lambda: cursor[0], lambda r: cursor.__setitem__(0, r), reset),
        lambda uscc, revision: handled.set(),
        min_backoff=0.01,
        max_backoff=0.01,
    )
    try:
        watcher.start()
        assert handled.wait(30), "the watcher stopped after a failed reset"
        assert resets == 2
    finally:
        watcher.close()
        watcher.join()
        channel.close()
