"""The registry over gRPC: records (masked or raw), enterprise keys, and the sharing list (cached, refreshed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import grpc

from creditnode.registry.v1 import records_pb2 as rec
from creditnode.registry.v1 import records_pb2_grpc as rec_grpc
from creditnode.registry.v1 import registry_service_pb2 as rs
from creditnode.registry.v1 import registry_service_pb2_grpc as rs_grpc
from creditnode.registry.v1 import sharing_list_pb2 as sl
from creditnode.registry.v1 import sharing_list_pb2_grpc as sl_grpc
from services.gateway.clients.errors import relayed, unavailable
from services.gateway.clients.record_cache import RecordCache
from services.gateway.domain.policy import Openness
from services.gateway.domain.selfquery import EnterpriseKey
from services.kit.errors import NotFound

_OPENNESS = {
    sl.OPENNESS_PUBLIC: Openness.PUBLIC,
    sl.OPENNESS_NON_PUBLIC: Openness.NON_PUBLIC,
    sl.OPENNESS_OPERATING_OPT_IN: Openness.OPERATING_OPT_IN,
    sl.OPENNESS_COMMERCIAL_SECRET: Openness.COMMERCIAL_SECRET,
}


def openness_of(value: int) -> Openness | None:
    found: Openness | None = _OPENNESS.get(value)  # type: ignore[call-overload]
    return found


class SharingListCache:
    """Item code -> (openness, category) of the current sharing list, refreshed at most every ``refresh_seconds``.

    While the registry cannot be reached, the last list keeps classifying for up to five refresh periods (records
    are checked again against their own version's openness); after that the gateway fails closed. A failed refresh
    is retried a second later, not by every request."""

    def __init__(
        self, channel: grpc.Channel, refresh_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic
    ):
        self._stub = sl_grpc.SharingListServiceStub(channel)
        self._refresh = refresh_seconds
        self._max_age = 5 * refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._items: dict[str, tuple[Openness | None, int]] = {}
        self._loaded_at = -1.0
        self._next_refresh = -1.0

    def _usable(self, now: float) -> bool:
        return self._loaded_at >= 0 and now - self._loaded_at <= self._max_age

    def _current(self, now: float) -> dict[str, tuple[Openness | None, int]]:
        if not self._usable(now):
            raise unavailable("registry")
        return self._items

    def items(self) -> dict[str, tuple[Openness | None, int]]:
        now = self._clock()
        if now < self._next_refresh:
            return self._current(now)
        # One request refreshes; the others classify with the list held meanwhile (the call may take its whole
        # deadline) and wait for it only when there is no usable list to answer with.
        if not self._lock.acquire(blocking=not self._usable(now)):
            return self._current(now)
        try:
            if now < self._next_refresh:
                return self._current(now)
            try:
                resp = self._stub.GetSharingList(sl.GetSharingListRequest(), timeout=5)
            except grpc.RpcError:
                # From when the call ended: one that ran to its deadline would otherwise be retried at once.
                self._next_refresh = self._clock() + min(1.0, self._refresh)
                return self._current(now)
            self._items = {i.code: (openness_of(i.openness), i.category) for i in resp.sharing_list.items}
            self._loaded_at = now
            self._next_refresh = now + self._refresh
            return self._items
        finally:
            self._lock.release()


class RegistryReader:
    """Reads the gateway needs from the registry; masked records through a ``RecordCache`` when one is set."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._records = rec_grpc.RecordServiceStub(channel)
        self._registry = rs_grpc.RegistryServiceStub(channel)
        self.cache: RecordCache | None = None

    def records(self, uscc: str, item_codes: list[str], *, raw: bool) -> list[rec.CreditRecord]:
        """Every current record of these items (all items when empty), masked unless ``raw``."""
        if not raw and self.cache is not None:
            return self.cache.records(uscc, item_codes)
        return self.listing(uscc, item_codes, raw=raw)[0]

    def held_records(self, uscc: str, item_codes: list[str]) -> list[rec.CreditRecord] | None:
        """What ``records(..., raw=False)`` would return, if the record cache holds it now; None otherwise."""
        return self.cache.held(uscc, item_codes) if self.cache is not None else None

    def listing(
        self, uscc: str, item_codes: list[str], *, raw: bool = False
    ) -> tuple[list[rec.CreditRecord], int, bool]:
        """(records, the registry revision they reflect: the first page's, the oldest; whether every page said its
        records' publicity ends are known: False from a registry of the previous release, during a rolling upgrade)."""
        view = rec.PERSONAL_DATA_VIEW_RAW if raw else rec.PERSONAL_DATA_VIEW_MASKED
        out: list[rec.CreditRecord] = []
        token = ""
        revision = -1
        known = True
        while True:
            try:
                resp = self._records.ListEnterpriseRecords(
                    rec.ListEnterpriseRecordsRequest(
                        parent=f"enterprises/{uscc}", item_codes=item_codes, view=view, page_size=1000, page_token=token
                    )
                )
            except grpc.RpcError as exc:
                raise relayed(exc, "registry") from None
            out.extend(resp.records)
            revision = resp.revision if revision < 0 else revision
            known = known and resp.publicity_known
            token = resp.next_page_token
            if not token:
                return out, revision, known

    def enterprise_keys(self, uscc: str) -> list[EnterpriseKey] | None:
        """The enterprise's keys; None when it is not registered."""
        from creditnode.registry.v1 import participants_pb2 as pp

        try:
            resp = self._registry.GetEnterprise(rs.GetEnterpriseRequest(name=f"enterprises/{uscc}"))
        except grpc.RpcError as exc:
            err = relayed(exc, "registry")
            if isinstance(err, NotFound):
                return None
            raise err from None
        return [
            EnterpriseKey(k.key_id, bytes(k.public_key), k.state == pp.KEY_STATE_ACTIVE) for k in resp.enterprise.keys
        ]
