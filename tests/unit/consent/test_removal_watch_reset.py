"""The requester-removal watch: a cursor that cannot be set back to 0 (the database failed) is tried again."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc

from creditnode.registry.v1 import participants_pb2 as pp
from creditnode.registry.v1 import registry_service_pb2 as rs
from services.consent.clients.registry import RequesterRemovalWatcher
from services.kit.errors import Unavailable
from tests.rpc_refusals import Refused


class _Registry:
    """Refuses a start above 0; from 0, lists one removed platform."""

    def WatchParticipants(self, request: rs.WatchParticipantsRequest) -> Iterator[rs.WatchParticipantsResponse]:
        if request.start_revision > 0:
            raise Refused(grpc.StatusCode.FAILED_PRECONDITION, "ERROR_REASON_WATCH_REVISION_COMPACTED")
        gone = pp.Platform(name="platforms/p1", status=pp.PLATFORM_STATUS_REMOVED)
        event = rs.ParticipantEvent(type=rs.PARTICIPANT_EVENT_TYPE_SNAPSHOT, participant=pp.Participant(platform=gone))
        return iter([rs.WatchParticipantsResponse(events=[event], revision=3, snapshot_complete=True)])


class _Cursor:
    def __init__(self) -> None:
        self.revision = 5
        self.failures = 1  # the first save fails: the database is away at that moment

    def load(self) -> int:
        return self.revision

    def save(self, revision: int) -> None:
        if self.failures:
            self.failures -= 1
            raise Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", "the database is unavailable")
        self.revision = revision


def test_a_cursor_that_cannot_be_set_back_is_tried_again_and_removals_are_still_handled() -> None:
    removed = threading.Event()

    def on_removed(name: str) -> int:
        removed.set()
        return 0

    channel = grpc.insecure_channel("127.0.0.1:1")  # never called: the stub is replaced
    watcher = RequesterRemovalWatcher(channel, _Cursor(), on_removed, retry_seconds=0.01)
    watcher._stub = _Registry()  # type: ignore[assignment]
    try:
        watcher.start()
        assert removed.wait(30), "the watch stopped after its cursor could not be set back"
    finally:
        watcher.close()
