"""Scoring's watches' "connected" gauge: exported at 0 from the start, 1 only once the registry has answered."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc
import pytest
from prometheus_client import REGISTRY

from services.kit.metrics import WATCH_CONNECTED
from services.scoring.clients.registry import Cursor, ParticipantWatcher, RecordChangeWatcher


def connected(stream: str) -> float | None:
    return REGISTRY.get_sample_value("creditnode_watch_connected", {"service": "scoring", "stream": stream})


class _Answers:
    """A stream opened at once that yields a message only when told (a registry behind a network that drops packets:
    the call waits while the channel keeps trying to connect)."""

    def __init__(self) -> None:
        self.opened, self.answer, self.handled, self.end = (threading.Event() for _ in range(4))

    def stream(self) -> Iterator[tuple[int, object]]:
        self.opened.set()
        self.answer.wait(30)
        yield 1, None
        self.handled.set()  # asked for the next message: the first has been handled
        self.end.wait(30)


class _Records(RecordChangeWatcher):
    answers: _Answers

    def _open(self, start: int) -> Iterator[tuple[int, object]]:
        return self.answers.stream()

    def _handle(self, batch: object) -> None:
        pass


class _Participants(ParticipantWatcher):
    answers: _Answers

    def _open(self, start: int) -> Iterator[tuple[int, object]]:
        return self.answers.stream()

    def _handle(self, batch: object) -> None:
        pass


@pytest.mark.parametrize("stream", ["records", "participants"])
def test_the_watch_is_exported_as_not_connected_until_the_registry_answers(stream: str) -> None:
    # Without a series the "watch stream down" alert (creditnode_watch_connected == 0) had nothing to fire on while
    # the first call waited to connect to an unreachable registry.
    WATCH_CONNECTED.remove("scoring", stream)  # as in a new process, whatever earlier tests left
    channel = grpc.insecure_channel("127.0.0.1:1")  # never called: the stream is the subclass's
    cursor = Cursor(lambda: 0, lambda revision: None)
    watcher: _Records | _Participants
    if stream == "records":
        watcher = _Records(channel, cursor, lambda uscc, revision: None)
    else:
        watcher = _Participants(channel, cursor, lambda uscc, platform, active: None, lambda platform, region: None)
    watcher.answers = answers = _Answers()
    assert connected(stream) == 0
    try:
        watcher.start()
        assert answers.opened.wait(30)
        assert connected(stream) == 0
        answers.answer.set()
        assert answers.handled.wait(30)
        assert connected(stream) == 1
    finally:
        watcher.close()
        answers.answer.set()
        answers.end.set()
        assert watcher.join()
        channel.close()
