"""Wakes a service's own watch streams right after a commit; other replicas' commits are found by polling."""

from __future__ import annotations

import threading


class CommitNotifier:
    """A generation counter: writers bump it after committing, watchers wait for it to move (or time out)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0

    def notify(self) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        with self._cond:
            self._cond.wait_for(lambda: self._generation != seen, timeout)
            return self._generation

    @property
    def generation(self) -> int:
        return self._generation
