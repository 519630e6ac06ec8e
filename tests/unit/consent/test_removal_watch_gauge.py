"""The requester-removal watch's "connected" gauge: 1 only once the registry has answered on the stream."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc
from prometheus_client import REGISTRY

from creditnode.registry.v1 import registry_service_pb2 as rs
from services.consent.clients.registry import RequesterRemovalWatcher

LABELS = {"service": "consent", "stream": "participants"}


def connected() -> float | None:
    return REGISTRY.get_sample_value("creditnode_watch_connected", LABELS)


class _Registry:
    """A stream that is opened but answers only when told to (a registry behind a network that drops packets: the
    call waits while the channel keeps trying to connect)."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.answer = threading.Event()
        self.handled = threading.Event()
        self.end = threading.Event()

    def WatchParticipants(self, request: rs.WatchParticipantsRequest) -> Iterator[rs.WatchParticipantsResponse]:
        if self.end.is_set():
            return iter(())
        return self._stream()

    def _stream(self) -> Iterator[rs.WatchParticipantsResponse]:
        self.opened.set()
        self.answer.wait(30)
        yield rs.WatchParticipantsResponse(revision=1)
        self.handled.set()  # asked for the next message: the first has been handled
        self.end.wait(30)


class _Cursor:
    def load(self) -> int:
        return 1

    def save(self, revision: int) -> None:
        pass


def test_the_watch_counts_as_connected_only_once_the_registry_has_answered() -> None:
    registry = _Registry()
    channel = grpc.insecure_channel("127.0.0.1:1")  # never called: the stub is replaced
    watcher = RequesterRemovalWatcher(channel, _Cursor(), lambda name: 0, retry_seconds=0.01)
    watcher._stub = registry  # type: ignore[assignment]
    try:
        watcher.start()
        assert registry.opened.wait(30)
        # Opening a call sends nothing: a registry that is unreachable would have kept the gauge at 1 (and the
        # "watch stream down" alert quiet) while the call waited to connect.
        assert connected() == 0  # exported from the start: an absent series would keep the alert quiet too
        assert not watcher.connected.is_set()
        registry.answer.set()
        assert registry.handled.wait(30)
        assert connected() == 1
        assert watcher.connected.is_set()
    finally:
        registry.answer.set()
        registry.end.set()
        watcher.close()
