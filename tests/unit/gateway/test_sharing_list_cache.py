"""The gateway's sharing list classification: refreshed on a period, kept through short outages, then fails closed."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import grpc
import pytest

from creditnode.registry.v1 import sharing_list_pb2 as sl
from services.gateway.clients.registry import SharingListCache
from services.kit.errors import Unavailable


class _Down(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE


@dataclass
class _Registry:
    down: bool = False
    calls: int = 0

    def GetSharingList(self, request: object, timeout: float) -> sl.GetSharingListResponse:
        self.calls += 1
        if self.down:
            raise _Down()
        item = sl.SharingListItem(code="TAX_PAYMENT", openness=sl.OPENNESS_NON_PUBLIC)
        return sl.GetSharingListResponse(sharing_list=sl.SharingList(items=[item]))


def test_a_stale_list_classifies_for_five_periods_then_the_gateway_fails_closed() -> None:
    registry, now = _Registry(), [0.0]
    cache = SharingListCache(grpc.insecure_channel("127.0.0.1:9"), refresh_seconds=60, clock=lambda: now[0])
    cache._stub = registry  # type: ignore[assignment]
    assert "TAX_PAYMENT" in cache.items()
    registry.down = True
    now[0] = 61.0
    assert "TAX_PAYMENT" in cache.items()  # the registry is down: the last list still classifies
    calls = registry.calls
    cache.items()
    assert registry.calls == calls  # retried a second later, not by every request
    now[0] = 301.0
    with pytest.raises(Unavailable):
        cache.items()  # five periods without a list: nothing is classified from memory any more
    registry.down = False
    now[0] = 302.5
    assert "TAX_PAYMENT" in cache.items()


def test_with_no_list_yet_nothing_is_classified() -> None:
    cache = SharingListCache(grpc.insecure_channel("127.0.0.1:9"), clock=lambda: 0.0)
    cache._stub = _Registry(down=True)  # type: ignore[assignment]
    with pytest.raises(Unavailable):
        cache.items()


def test_a_refresh_in_flight_holds_up_no_request_while_a_list_is_held() -> None:
    registry, now = _Registry(), [0.0]
    cache = SharingListCache(grpc.insecure_channel("127.0.0.1:9"), refresh_seconds=60, clock=lambda: now[0])
    cache._stub = registry  # type: ignore[assignment]
    cache.items()
    now[0] = 61.0  # a refresh is due
    refreshing, other_answered = threading.Event(), threading.Event()
    answered_during_refresh: list[bool] = []

    class _Slow:
        def GetSharingList(self, request: object, timeout: float) -> sl.GetSharingListResponse:
            refreshing.set()
            # The registry answers only once the other request was answered; the wait's bound only keeps a
            # regression from hanging the suite (it then fails below).
            answered_during_refresh.append(other_answered.wait(timeout=5))
            return registry.GetSharingList(request, timeout)

    cache._stub = _Slow()  # type: ignore[assignment]
    refresher = threading.Thread(target=cache.items)
    refresher.start()
    refreshing.wait()
    other: list[dict[str, object]] = []

    def ask() -> None:
        other.append(dict(cache.items()))
        other_answered.set()

    asker = threading.Thread(target=ask)
    asker.start()
    asker.join()
    refresher.join()
    assert answered_during_refresh == [True]  # answered from the list held, not after the registry's call
    assert "TAX_PAYMENT" in other[0]


def test_a_refresh_that_failed_slowly_is_retried_a_second_after_it_ended() -> None:
    registry, now = _Registry(), [0.0]
    cache = SharingListCache(grpc.insecure_channel("127.0.0.1:9"), refresh_seconds=60, clock=lambda: now[0])
    cache._stub = registry  # type: ignore[assignment]
    cache.items()

    class _Hanging:
        calls = 0

        def GetSharingList(self, request: object, timeout: float) -> sl.GetSharingListResponse:
            self.calls += 1
            now[0] += timeout  # the registry never answers: the call ends at its deadline
            raise _Down()

    hanging = _Hanging()
    cache._stub = hanging  # type: ignore[assignment]
    now[0] = 61.0
    assert "TAX_PAYMENT" in cache.items()
    now[0] += 0.5
    assert "TAX_PAYMENT" in cache.items()
    assert hanging.calls == 1  # not called again at once, the moment the last call gave up
