"""Objection's cached routing table (the sharing list): a refresh holds up no filing while a list is held."""

from __future__ import annotations

import threading

import grpc
import pytest

from creditnode.registry.v1 import sharing_list_pb2 as sl
from services.kit.errors import Unavailable
from services.objection.clients.registry import GrpcSharingList


def _listed() -> sl.GetSharingListResponse:
    item = sl.SharingListItem(code="TAX_PAYMENT", department="sx-tax")
    return sl.GetSharingListResponse(sharing_list=sl.SharingList(items=[item]))


class _Registry:
    def __init__(self) -> None:
        self.calls = 0
        self.before_answer = lambda: None

    def GetSharingList(self, request: object, **kwargs: object) -> sl.GetSharingListResponse:
        self.calls += 1
        self.before_answer()
        return _listed()


def test_a_refresh_in_flight_holds_up_no_routing_while_a_list_is_held() -> None:
    registry, now = _Registry(), [0.0]
    departments = GrpcSharingList(grpc.insecure_channel("127.0.0.1:9"), ttl=60, clock=lambda: now[0])
    departments._stub = registry  # type: ignore[assignment]
    assert departments.department_for("TAX_PAYMENT") == "departments/sx-tax"
    now[0] = 61.0  # a refresh is due
    refreshing, other_answered = threading.Event(), threading.Event()
    answered_during_refresh: list[bool] = []

    def slow() -> None:
        refreshing.set()
        # The registry answers only once the other routing was answered; the wait's bound only keeps a regression
        # from hanging the suite (it then fails below).
        answered_during_refresh.append(other_answered.wait(timeout=5))

    registry.before_answer = slow
    refresher = threading.Thread(target=departments.department_for, args=("TAX_PAYMENT",))
    refresher.start()
    refreshing.wait()
    other: list[str | None] = []

    def route() -> None:
        other.append(departments.department_for("TAX_PAYMENT"))
        other_answered.set()

    router = threading.Thread(target=route)
    router.start()
    router.join()
    refresher.join()
    assert answered_during_refresh == [True]  # answered from the list held, not after the registry's call
    assert other == ["departments/sx-tax"]
    assert registry.calls == 2


class _Down(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE


def test_a_failed_refresh_is_retried_a_second_after_it_ended_not_by_every_caller() -> None:
    # While the registry was down every routing past the TTL asked it again: a filing burst became a burst of calls
    # each waiting for its deadline. A failure now waits a second, counted from when the call ended.
    registry, now = _Registry(), [0.0]
    departments = GrpcSharingList(grpc.insecure_channel("127.0.0.1:9"), ttl=60, clock=lambda: now[0])
    departments._stub = registry  # type: ignore[assignment]
    departments.department_for("TAX_PAYMENT")
    now[0] = 61.0

    def down() -> None:
        now[0] += 5.0  # the call hangs to its deadline
        raise _Down()

    registry.before_answer = down
    for _ in range(3):
        assert departments.department_for("TAX_PAYMENT") == "departments/sx-tax"  # the stale list routes
    assert registry.calls == 2
    now[0] += 0.9
    departments.department_for("TAX_PAYMENT")
    assert registry.calls == 2
    now[0] += 0.2
    registry.before_answer = lambda: None
    departments.department_for("TAX_PAYMENT")
    assert registry.calls == 3


def test_the_registry_is_asked_with_a_deadline() -> None:
    # Without one a registry that accepts the call and never answers held the refreshing filing for ever.
    registry = _Registry()
    seen: list[object] = []
    answer = registry.GetSharingList

    def recording(request: object, **kwargs: object) -> sl.GetSharingListResponse:
        seen.append(kwargs.get("timeout"))
        return answer(request)

    registry.GetSharingList = recording  # type: ignore[method-assign]
    departments = GrpcSharingList(grpc.insecure_channel("127.0.0.1:9"))
    departments._stub = registry  # type: ignore[assignment]
    departments.department_for("TAX_PAYMENT")
    assert len(seen) == 1
    assert isinstance(seen[0], float | int)
    assert 0 < seen[0] <= 30


def test_a_failed_first_read_is_retried_a_second_after_it_ended_not_by_every_caller() -> None:
    # With no list read yet the callers queue on the refresh: each one asked the registry again after the one before
    # it failed, so a filing burst while the registry hung waited out one deadline per filing ahead of it.
    registry, now = _Registry(), [0.0]
    departments = GrpcSharingList(grpc.insecure_channel("127.0.0.1:9"), ttl=60, clock=lambda: now[0])
    departments._stub = registry  # type: ignore[assignment]

    def down() -> None:
        now[0] += 5.0  # the call hangs to its deadline
        raise _Down()

    registry.before_answer = down
    for _ in range(3):
        with pytest.raises(Unavailable) as refused:
            departments.department_for("TAX_PAYMENT")
        assert refused.value.metadata == {"code": "UNAVAILABLE"}
    assert registry.calls == 1
    now[0] += 1.1
    registry.before_answer = lambda: None
    assert departments.department_for("TAX_PAYMENT") == "departments/sx-tax"
    assert registry.calls == 2
