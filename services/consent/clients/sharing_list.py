"""The SharingList port over the registry's current sharing list (GetSharingList), cached and refreshed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import grpc
import structlog

from creditnode.registry.v1 import sharing_list_pb2 as sl
from creditnode.registry.v1 import sharing_list_pb2_grpc as sl_grpc
from services.consent.domain.catalogue import DataItem, Openness
from services.kit.errors import Unavailable

log = structlog.get_logger("consent.sharing_list")

_OPENNESS = {
    sl.OPENNESS_PUBLIC: Openness.PUBLIC,
    sl.OPENNESS_NON_PUBLIC: Openness.NON_PUBLIC,
    sl.OPENNESS_OPERATING_OPT_IN: Openness.OPERATING_OPT_IN,
    sl.OPENNESS_COMMERCIAL_SECRET: Openness.COMMERCIAL_SECRET,
}
_CATEGORY_PREFIX = "ITEM_CATEGORY_"


def category_code(value: int) -> str | None:
    """The sharing list's category code of an ``ItemCategory`` (``ITEM_CATEGORY_TAX`` -> ``TAX``), the code grants
    name; None for UNSPECIFIED or a number this build does not know."""
    if value == sl.ITEM_CATEGORY_UNSPECIFIED or value not in sl.ItemCategory.values():
        return None
    return sl.ItemCategory.Name(value).removeprefix(_CATEGORY_PREFIX)


def data_item(item: sl.SharingListItem) -> DataItem:
    """The item as consent classifies it. An openness this build has no name for (a newer registry) counts as a
    commercial secret: consent must never authorize what it cannot classify. An unknown category leaves the item
    nameable on its own but in no category."""
    openness = _OPENNESS.get(item.openness, Openness.COMMERCIAL_SECRET)
    return DataItem(item.code, category_code(item.category) or "", openness)


@dataclass(frozen=True)
class _Snapshot:
    items: dict[str, DataItem] = field(default_factory=dict)
    categories: dict[str, list[DataItem]] = field(default_factory=dict)


def _snapshot(listed: sl.SharingList) -> _Snapshot:
    snapshot = _Snapshot()
    for proto in listed.items:
        item = data_item(proto)
        snapshot.items[item.code] = item
        if item.category:
            snapshot.categories.setdefault(item.category, []).append(item)
    return snapshot


class RegistrySharingList:
    """SharingList port over ``SharingListService.GetSharingList`` (the current version), read at most every
    ``refresh_seconds``, as the gateway's cache does.

    While the registry cannot be reached, the last list keeps classifying for up to five refresh periods; after that
    (or before any list was read) every look-up is UNAVAILABLE, never "not on the list": a grant is then refused for
    a reason the caller may retry, not with a wrong, final answer. A failed refresh is retried a second later, not by
    every grant."""

    def __init__(
        self, channel: grpc.Channel, refresh_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._stub = sl_grpc.SharingListServiceStub(channel)
        self._refresh = refresh_seconds
        self._max_age = 5 * refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._snapshot = _Snapshot()
        self._loaded_at = -1.0
        self._next_refresh = -1.0
        self._last_failure = ""

    def item(self, code: str) -> DataItem | None:
        return self._current().items.get(code)

    def category(self, code: str) -> Sequence[DataItem] | None:
        return self._current().categories.get(code)

    def _fresh_enough(self, now: float) -> bool:
        return self._loaded_at >= 0 and now - self._loaded_at <= self._max_age

    def _usable(self, now: float) -> _Snapshot:
        if not self._fresh_enough(now):
            metadata = {"dependency": "registry"}
            if self._last_failure:
                metadata["code"] = self._last_failure
            raise Unavailable(
                "ERROR_REASON_DEPENDENCY_UNAVAILABLE", "the registry's sharing list is unavailable", metadata
            )
        return self._snapshot

    def _current(self) -> _Snapshot:
        now = self._clock()
        if now < self._next_refresh:
            return self._usable(now)
        # One look-up refreshes; the others classify with the list held meanwhile (the call may take its whole
        # deadline) and wait for it only when there is no usable list to answer with.
        if not self._lock.acquire(blocking=not self._fresh_enough(now)):
            return self._usable(now)
        try:
            if now < self._next_refresh:
                return self._usable(now)
            try:
                response = self._stub.GetSharingList(sl.GetSharingListRequest(), timeout=5)
            except grpc.RpcError as exc:
                self._last_failure = exc.code().name
                # From when the call ended: one that ran to its deadline would otherwise be retried at once.
                self._next_refresh = self._clock() + min(1.0, self._refresh)
                log.info("sharing_list_refresh_failed", code=self._last_failure)
                return self._usable(now)
            self._snapshot = _snapshot(response.sharing_list)
            self._loaded_at = now
            self._next_refresh = now + self._refresh
            self._last_failure = ""
            return self._snapshot
        finally:
            self._lock.release()
