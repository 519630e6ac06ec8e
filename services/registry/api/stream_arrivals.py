"""A client stream read on its own thread, so a servicer can store what has arrived whenever the sender pauses."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Generic, TypeVar

M = TypeVar("M")

NOTHING_YET = "nothing-yet"


class StreamArrivals(Generic[M]):
    """Messages with the time each arrived. ``get`` waits for the next one (None at the end of the stream), or with
    ``wait=False`` answers NOTHING_YET when none has arrived; a failure of the stream (a cancelled call) is raised
    there. The reader holds at most ``depth`` messages, so a sender faster than storage is slowed by gRPC's flow
    control rather than buffered here."""

    def __init__(self, messages: Iterator[M], clock: Callable[[], datetime], depth: int = 8) -> None:
        self._clock = clock
        self._queue: queue.Queue[tuple[M, datetime] | BaseException | None] = queue.Queue(maxsize=depth)
        self._closed = threading.Event()
        threading.Thread(target=self._read, args=(messages,), name="stream-arrivals", daemon=True).start()

    def _read(self, messages: Iterator[M]) -> None:
        try:
            for message in messages:
                if not self._put((message, self._clock())):
                    return
        except Exception as exc:  # handed to the servicer's thread, which raises it
            self._put(exc)
            return
        self._put(None)

    def _put(self, item: tuple[M, datetime] | BaseException | None) -> bool:
        while not self._closed.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def get(self, *, wait: bool) -> tuple[M, datetime] | str | None:
        try:
            item = self._queue.get(block=wait)
        except queue.Empty:
            return NOTHING_YET
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        """The servicer is done (or failed): the reader stops taking messages."""
        self._closed.set()
