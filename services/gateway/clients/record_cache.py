"""Masked records in memory, kept current by the registry's WatchRecordChanges, so a report skips the registry hop.

A listing is kept only when it is at least as new as every change the watch has shown for that enterprise (the
registry stamps each listing with its revision), and each later change of the enterprise drops its listings. The
cache answers only while the watch is live: connected, and heard from (a change or a heartbeat) within the lease;
otherwise every read goes to the registry. So a cached listing lags the registry by the watch's delay: milliseconds
for the registry's own commits, up to its 0.2 s poll for another registry replica's. Raw records are never cached.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import grpc
import structlog

from creditnode.registry.v1 import records_pb2 as rec
from creditnode.registry.v1 import records_pb2_grpc as rec_grpc
from services.gateway.clients.followed_stream import FollowedStream
from services.kit.client import Reconnects

log = structlog.get_logger("gateway.records")

Key = tuple[str, tuple[str, ...]]  # uscc, item codes (sorted)


def _key(uscc: str, item_codes: list[str]) -> Key:
    return uscc, tuple(sorted(set(item_codes)))


# (records, the revision they reflect, whether the registry said their publicity ends are known)
ListRecords = Callable[[str, list[str]], tuple[list[rec.CreditRecord], int, bool]]

# Records held at most (about 1-2 KB each in memory): well inside the gateway pod's 256 MiB.
MAX_RECORDS = 20_000
MAX_DIRTY = 100_000


class RecordCache(FollowedStream):
    """Listings per (enterprise, items), filled by reads through ``list_records`` and dropped by the watch."""

    def __init__(
        self,
        channel: grpc.Channel,
        list_records: ListRecords,
        *,
        lease_seconds: float = 5.0,
        max_records: int = MAX_RECORDS,
        reconnect_seconds: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stub = rec_grpc.RecordServiceStub(channel)
        self._list = list_records
        self._lease = lease_seconds
        self._max = max_records
        self._held = 0  # records in all entries
        self._reconnects = Reconnects(reconnect_seconds)
        self._lock = threading.Lock()
        self._entries: dict[Key, list[rec.CreditRecord]] = {}
        self._keys_of: dict[str, set[Key]] = {}
        self._changed_at: dict[str, int] = {}  # uscc -> revision of the last change seen
        self._floor = 0  # listings older than this revision are never kept (watch start, or forgotten changes)
        self._connected = False
        super().__init__("records-watch", "records", clock)

    def live(self) -> bool:
        return self._connected and self._clock() - self._last_message < self._lease

    def held(self, uscc: str, item_codes: list[str]) -> list[rec.CreditRecord] | None:
        """From memory only: the listing if it is held and the watch is live, else None."""
        return self._lookup(_key(uscc, item_codes))

    def _lookup(self, key: Key) -> list[rec.CreditRecord] | None:
        return self._entries.get(key) if self.live() else None

    def records(self, uscc: str, item_codes: list[str]) -> list[rec.CreditRecord]:
        """The enterprise's current masked records of these items (all items when empty)."""
        key = _key(uscc, item_codes)
        hit = self._lookup(key)
        if hit is not None:
            return hit
        records, revision, publicity_known = self._list(uscc, item_codes)
        if publicity_known:
            # Not from a registry of the previous release (a rolling upgrade): its records carry no publicity ends,
            # and kept, a penalty past its period would leave from memory until the enterprise next changed.
            self._keep(key, records, revision)
        return records

    def _keep(self, key: Key, records: list[rec.CreditRecord], revision: int) -> None:
        uscc = key[0]
        with self._lock:
            if not self.live() or revision < self._floor or self._changed_at.get(uscc, -1) > revision:
                return  # the watch already showed a change this listing does not contain
            if len(records) > self._max:
                return
            self._forget(key)
            while self._held + len(records) > self._max:
                self._forget(next(iter(self._entries)))  # the oldest listing goes first
            self._entries[key] = records
            self._held += len(records)
            self._keys_of.setdefault(uscc, set()).add(key)

    def _forget(self, key: Key) -> None:
        self._held -= len(self._entries.pop(key, ()))
        keys = self._keys_of.get(key[0])
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._keys_of[key[0]]

    def _changed(self, uscc: str, revision: int) -> None:
        if len(self._changed_at) >= MAX_DIRTY:
            self._changed_at.clear()
            self._floor = revision
        self._changed_at[uscc] = max(revision, self._changed_at.get(uscc, -1))
        for key in list(self._keys_of.get(uscc, ())):
            self._forget(key)

    # ---- the watch ---------------------------------------------------------------------------------------------

    def apply(self, response: rec.WatchRecordChangesResponse, *, first: bool) -> None:
        """One message of the watch; the first of a stream says from which revision changes will come."""
        with self._lock:
            if first:
                self._entries.clear()
                self._keys_of.clear()
                self._held = 0
                self._changed_at.clear()
                self._floor = response.revision
                self._connected = True
            for change in response.changes:
                self._changed(change.record.uscc, change.revision)
            self._last_message = self._clock()

    def disconnected(self) -> None:
        with self._lock:
            self._connected = False

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                # From now: what changed while disconnected is unknown, so everything is dropped on (re)connect.
                call = self._stub.WatchRecordChanges(rec.WatchRecordChangesRequest(start_revision=0))
                self._call = call
                first = True
                for response in call:
                    self._reconnects.delivered()
                    self.apply(response, first=first)
                    first = False
            except grpc.RpcError as exc:
                if not self._stop.is_set():
                    log.info("watch_retry", watch="records", code=exc.code().name)
            except Exception:  # keep watching whatever happens; reads go to the registry meanwhile
                if not self._stop.is_set():
                    log.warning("watch_failed", watch="records", exc_info=True)
            self.disconnected()
            self._stop.wait(self._reconnects.next_wait())
