"""What the gateway's watch-fed caches share: a daemon thread following one stream, its shutdown and its gauges."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Self

from services.kit.metrics import WATCH_CONNECTED, WATCH_LAG


class FollowedStream:
    """Subclasses implement ``_run`` (loop until ``_stop``, keeping the open call in ``_call``) and ``live``."""

    def __init__(self, thread_name: str, stream: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._call: Any = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)
        # What the "watch stream down/lagging" alerts read: evaluated at scrape time, never on the request path.
        self._last_message = clock()
        WATCH_CONNECTED.labels("gateway", stream).set_function(lambda: 1.0 if self.live() else 0.0)
        WATCH_LAG.labels("gateway", stream).set_function(lambda: self._clock() - self._last_message)

    def _run(self) -> None:
        raise NotImplementedError

    def live(self) -> bool:
        raise NotImplementedError

    def start(self) -> Self:
        self._thread.start()
        return self

    def stopping(self) -> None:
        """Mark the stream as shutting down, so its end is not reported as a failure."""
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        cancel = getattr(self._call, "cancel", None)
        if cancel is not None:
            cancel()
        self._thread.join(5)
