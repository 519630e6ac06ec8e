"""Combining batcher: concurrent callers share one downstream call, with no sender thread and no wait when alone.

A caller that finds no call in flight sends its own request at once, in its own thread. Callers arriving while a
call is in flight queue up; when that call returns, its sender resolves its batch and hands the lead to the oldest
queued caller, which sends everything queued (up to ``max_batch``) as the next call. So a lone caller pays exactly one
call, and under load one call serves many. Results come back per request, in order; a failure of the whole call
fails every request of that batch only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Req = TypeVar("Req")
Res = TypeVar("Res")


class _Waiter(Generic[Req, Res]):
    __slots__ = ("done", "lead", "outcome", "request")

    def __init__(self, request: Req) -> None:
        self.request = request
        self.outcome: Res | BaseException | None = None
        self.lead = False
        self.done = threading.Event()


class CombiningBatcher(Generic[Req, Res]):
    """``send`` takes a batch of requests and returns one outcome (a result or an exception) per request, in order.

    If ``send`` raises, every request of that batch fails with that one exception object (a ``send`` whose callers may
    alter their errors returns a fresh one per request instead). A queued caller waits at most
    ``queue_timeout`` seconds for its batch to start, then fails with ``on_timeout()``; once its batch is sent it
    waits for the call (which carries its own deadline).
    """

    def __init__(
        self,
        send: Callable[[list[Req]], Sequence[Res | BaseException]],
        *,
        max_batch: int,
        queue_timeout: float,
        on_timeout: Callable[[], BaseException],
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._send = send
        self._max = max_batch
        self._queue_timeout = queue_timeout
        self._on_timeout = on_timeout
        self._lock = threading.Lock()
        self._queue: list[_Waiter[Req, Res]] = []
        self._busy = False  # a call is in flight or about to be; invariant: not busy => queue empty
        self.calls = 0  # downstream calls made (for tests and benchmarks)

    def call(self, request: Req) -> Res:
        me: _Waiter[Req, Res] = _Waiter(request)
        with self._lock:
            self._queue.append(me)
            if not self._busy:
                self._busy = me.lead = True
        if not me.lead and not me.done.wait(self._queue_timeout):
            with self._lock:
                if me in self._queue and not me.lead:  # still waiting to be sent: give up
                    self._queue.remove(me)
                    raise self._on_timeout()
            me.done.wait()  # already in flight (or just handed the lead): the call's deadline bounds this
        if me.lead and me.outcome is None:
            self._lead()
        outcome = me.outcome
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome is not None
        return outcome

    def _lead(self) -> None:
        with self._lock:
            batch = self._queue[: self._max]
            del self._queue[: len(batch)]
        try:
            outcomes: Sequence[Res | BaseException] = self._send([w.request for w in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError(f"{len(outcomes)} outcomes for {len(batch)} requests")
        except BaseException as exc:  # the whole call failed: so did each request of it
            outcomes = [exc] * len(batch)
        self.calls += 1
        for waiter, outcome in zip(batch, outcomes, strict=True):
            waiter.outcome = outcome
        with self._lock:
            successor = self._queue[0] if self._queue else None
            if successor is None:
                self._busy = False
            else:
                successor.lead = True
        for waiter in batch:
            waiter.done.set()
        if successor is not None:
            successor.done.set()
