"""Check's candidate lookups held in memory, filled from the database and dropped by every write that touches them.

The cache is exact for the writes of this process: a writer marks the (requester, enterprise, purpose) it changes
before it commits and releases the mark after; a fill is kept only if no write marked that key while the database
was being read. So a cached answer never predates a committed Grant, Pause, Revoke, expiry or use made here.
Changes committed by another consent process are dropped when the watch hub pulls them (within its poll interval);
uses it records are not seen until its next state change of that key: like the revocation guarantee, exactness
holds for one consent replica (docs/architecture.md, Consent).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from services.consent.domain.model import Authorization

Key = tuple[str, str, str]  # requester, enterprise, purpose

# Keys held at most (an authorization is about 1-2 KB in memory): well inside the consent pod's 256 MiB.
MAX_KEYS = 20_000
MAX_DIRTY = 100_000


class CandidateCache:
    """Candidates per key, with the bookkeeping that keeps fills from racing writers."""

    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        self._lock = threading.Lock()
        self._max_keys = max_keys
        self._entries: dict[Key, tuple[Authorization, ...]] = {}
        self._writing: dict[Key, int] = {}  # writers between their mark and their release
        self._epoch = 0  # bumped by every mark
        self._dirty: dict[Key, int] = {}  # the epoch of each key's last mark
        self._floor = 0  # fills that started before this epoch are refused (set when _dirty is emptied)

    def get(self, key: Key) -> tuple[Authorization, ...] | None:
        return self._entries.get(key)

    def start_fill(self, key: Key) -> int | None:
        """A token for a fill about to read the database, or None while a writer holds the key."""
        with self._lock:
            return None if key in self._writing else self._epoch

    def fill(self, key: Key, found: Iterable[Authorization], token: int | None) -> None:
        """Keep what the database said, unless a writer marked the key after ``token`` was taken."""
        with self._lock:
            if token is None or token < self._floor or self._dirty.get(key, -1) > token or key in self._writing:
                return
            if len(self._entries) >= self._max_keys:
                del self._entries[next(iter(self._entries))]  # the oldest fill goes first
            self._entries[key] = tuple(found)

    def mark(self, key: Key) -> None:
        """A writer is about to change ``key``: drop it and hold off fills until ``release``."""
        with self._lock:
            self._touch(key)
            self._writing[key] = self._writing.get(key, 0) + 1

    def release(self, keys: Iterable[Key]) -> None:
        """The writer's transaction ended (committed or not); fills from now on read what it committed."""
        with self._lock:
            for key in keys:
                left = self._writing.get(key, 0) - 1
                if left > 0:
                    self._writing[key] = left
                else:
                    self._writing.pop(key, None)

    def drop(self, key: Key) -> None:
        """Another process changed ``key`` (seen on the change feed)."""
        with self._lock:
            self._touch(key)

    def _touch(self, key: Key) -> None:
        self._epoch += 1
        self._entries.pop(key, None)
        if len(self._dirty) >= MAX_DIRTY:
            self._dirty.clear()
            self._floor = self._epoch
        self._dirty[key] = self._epoch


class CachedCandidates:
    """Check's lookup: from the cache when it has the key, else from the database through ``read``."""

    def __init__(self, cache: CandidateCache, read: Callable[[Key], list[Authorization]]) -> None:
        self._cache = cache
        self._read = read

    def candidates(self, requester: str, enterprise: str, purpose: str) -> tuple[Authorization, ...]:
        key = (requester, enterprise, purpose)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        token = self._cache.start_fill(key)
        found = tuple(self._read(key))
        self._cache.fill(key, found, token)
        return found
