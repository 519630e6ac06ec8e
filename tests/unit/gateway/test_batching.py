"""The combining batcher: a lone caller sends at once in its own thread; queued callers share the next call."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import grpc
import pytest

from creditnode.consent.v1 import consent_service_pb2 as pb
from services.gateway.clients.batching import CombiningBatcher
from services.gateway.clients.consent import ConsentClient
from services.kit.errors import DomainError
from services.kit.logging import current_call


class Timeout(Exception):
    pass


class Downstream:
    """Records each call (its requests and the thread that made it); the first call can be held open."""

    def __init__(self, answer: Callable[[int], int | BaseException] = lambda r: r * 10) -> None:
        self.calls: list[tuple[list[int], str]] = []
        self.hold_first = threading.Event()
        self.hold_first.set()
        self.first_started = threading.Event()
        self.answer = answer

    def send(self, requests: list[int]) -> Sequence[int | BaseException]:
        self.calls.append((list(requests), threading.current_thread().name))
        if len(self.calls) == 1:
            self.first_started.set()
            assert self.hold_first.wait(10)
        return [self.answer(r) for r in requests]


def batcher(down: Downstream, max_batch: int = 64, queue_timeout: float = 10.0) -> CombiningBatcher[int, int]:
    return CombiningBatcher(down.send, max_batch=max_batch, queue_timeout=queue_timeout, on_timeout=Timeout)


def queued_behind_a_held_call(
    down: Downstream, b: CombiningBatcher[int, int], pool: ThreadPoolExecutor, requests: list[int]
) -> tuple[Future[int], list[Future[int]]]:
    """Start request 0 (held in flight by ``down``), then queue ``requests`` behind it."""
    down.hold_first.clear()
    first = pool.submit(b.call, 0)
    assert down.first_started.wait(5)
    rest = []
    for r in requests:
        rest.append(pool.submit(b.call, r))
        deadline = time.monotonic() + 5
        while len(b._queue) < len(rest) and time.monotonic() < deadline:  # queued in submission order
            time.sleep(0.001)
    assert len(b._queue) == len(requests)
    return first, rest


def test_a_lone_caller_sends_at_once_in_its_own_thread() -> None:
    down = Downstream()
    b = batcher(down)
    assert b.call(3) == 30
    assert b.call(4) == 40
    me = threading.current_thread().name
    assert down.calls == [([3], me), ([4], me)]


def test_callers_queued_behind_a_call_share_the_next_one_and_each_gets_its_own_answer() -> None:
    down = Downstream()
    b = batcher(down)
    with ThreadPoolExecutor(8, thread_name_prefix="caller") as pool:
        first, rest = queued_behind_a_held_call(down, b, pool, [1, 2, 3, 4, 5])
        down.hold_first.set()
        assert first.result(5) == 0
        assert [f.result(5) for f in rest] == [10, 20, 30, 40, 50]
    assert [requests for requests, _ in down.calls] == [[0], [1, 2, 3, 4, 5]]
    # The second call was made by the oldest queued caller, not by the first caller or a thread of the batcher's own.
    assert down.calls[1][1] != down.calls[0][1]
    assert down.calls[1][1].startswith("caller")
    assert b.calls == 2
    assert not b._busy


def test_batches_hold_at_most_max_batch_requests() -> None:
    down = Downstream()
    b = batcher(down, max_batch=2)
    with ThreadPoolExecutor(8) as pool:
        first, rest = queued_behind_a_held_call(down, b, pool, [1, 2, 3, 4, 5])
        down.hold_first.set()
        assert [f.result(5) for f in [first, *rest]] == [0, 10, 20, 30, 40, 50]
    assert [requests for requests, _ in down.calls] == [[0], [1, 2], [3, 4], [5]]


def test_a_failed_request_fails_alone() -> None:
    down = Downstream(lambda r: ValueError(f"bad {r}") if r == 2 else r * 10)
    b = batcher(down)
    with ThreadPoolExecutor(8) as pool:
        first, rest = queued_behind_a_held_call(down, b, pool, [1, 2, 3])
        down.hold_first.set()
        assert first.result(5) == 0
        assert rest[0].result(5) == 10
        with pytest.raises(ValueError, match="bad 2"):
            rest[1].result(5)
        assert rest[2].result(5) == 30


def test_a_failed_call_fails_its_batch_only_and_the_next_caller_still_sends() -> None:
    down = Downstream()
    failing = {"on": True}

    def send(requests: list[int]) -> Sequence[int | BaseException]:
        if failing["on"]:
            down.calls.append((list(requests), threading.current_thread().name))
            raise ConnectionError("downstream gone")
        return down.send(requests)

    b: CombiningBatcher[int, int] = CombiningBatcher(send, max_batch=8, queue_timeout=5, on_timeout=Timeout)
    with pytest.raises(ConnectionError):
        b.call(1)
    failing["on"] = False
    assert b.call(2) == 20
    assert not b._busy


def test_a_wrong_number_of_answers_fails_the_batch() -> None:
    b: CombiningBatcher[int, int] = CombiningBatcher(lambda rs: [], max_batch=8, queue_timeout=5, on_timeout=Timeout)
    with pytest.raises(RuntimeError, match="0 outcomes for 1 requests"):
        b.call(1)


def test_a_caller_queued_too_long_gives_up_and_is_never_sent() -> None:
    down = Downstream()
    b = batcher(down, queue_timeout=0.05)
    with ThreadPoolExecutor(4) as pool:
        first, rest = queued_behind_a_held_call(down, b, pool, [7])
        with pytest.raises(Timeout):
            rest[0].result(5)
        assert b._queue == []
        down.hold_first.set()
        assert first.result(5) == 0
    assert [requests for requests, _ in down.calls] == [[0]]
    assert b.call(8) == 80  # the batcher is free again


def test_many_concurrent_callers_all_get_their_own_answer() -> None:
    down = Downstream()
    b = batcher(down, max_batch=16)
    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(b.call, range(2000)))
    assert results == [r * 10 for r in range(2000)]
    sent = sorted(r for requests, _ in down.calls for r in requests)
    assert sent == list(range(2000))  # each request sent exactly once
    assert all(len(requests) <= 16 for requests, _ in down.calls)
    assert not b._busy
    assert b._queue == []


def test_the_consent_batch_keeps_its_own_deadline_whoever_sends_it() -> None:
    # The lead's caller may have little time left; the batch carries every queued caller's use, so its deadline is
    # the client's own, not the rest of the lead's.
    seen: list[object] = []

    class Stub:
        def BatchCheckAuthorizations(self, request: object) -> object:
            seen.append(current_call.get())
            return pb.BatchCheckAuthorizationsResponse(
                results=[pb.CheckAuthorizationResult(response=pb.CheckAuthorizationResponse())]
            )

    client = ConsentClient.__new__(ConsentClient)
    client.stub = Stub()  # type: ignore[assignment]
    token = current_call.set(("GetCreditReport", "r1", time.monotonic() + 0.2))
    try:
        client._check_batch([pb.CheckAuthorizationRequest()])
    finally:
        current_call.reset(token)
    assert seen == [("GetCreditReport", "r1", None)]


class _Refused(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return "consent went away"

    def trailing_metadata(self) -> tuple[()]:
        return ()


def test_each_release_of_a_failed_consent_batch_gets_an_error_of_its_own() -> None:
    # The gateway stamps a refusal's receipt (its leaf index) into the error's metadata before answering; one error
    # object shared by a batch's callers would carry another caller's receipt to each of them.
    first_started, hold_first = threading.Event(), threading.Event()

    class Stub:
        calls = 0

        def BatchCheckAuthorizations(self, request: pb.BatchCheckAuthorizationsRequest) -> object:
            Stub.calls += 1
            if Stub.calls == 1:
                first_started.set()
                assert hold_first.wait(10)
                return pb.BatchCheckAuthorizationsResponse(
                    results=[pb.CheckAuthorizationResult(response=pb.CheckAuthorizationResponse())]
                )
            raise _Refused()

    client = ConsentClient(grpc.insecure_channel("127.0.0.1:9"), queue_timeout=10)
    client.stub = Stub()  # type: ignore[assignment]

    def consume(rid: str) -> DomainError:
        try:
            client.consume("platforms/xian", "enterprises/x", "PRE_LOAN", ["TAX_PAYMENT"], "authorizations/a", rid)
        except DomainError as exc:
            return exc
        raise AssertionError("the use was recorded")

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(client.consume, "platforms/xian", "enterprises/x", "PRE_LOAN", [], "authorizations/a", "0")
        assert first_started.wait(5)
        rest = []
        for request_id in ("r1", "r2"):
            rest.append(pool.submit(consume, request_id))
            deadline = time.monotonic() + 5
            while len(client.uses._queue) < len(rest) and time.monotonic() < deadline:  # queued in order
                time.sleep(0.001)
        assert len(client.uses._queue) == 2
        hold_first.set()
        first.result(5)
        one, two = (f.result(5) for f in rest)
    assert Stub.calls == 2  # the two queued uses travelled, and failed, in one call
    assert one.reason == two.reason == "ERROR_REASON_DEPENDENCY_UNAVAILABLE"
    one.metadata["receipt_leaf_index"] = "17"
    assert "receipt_leaf_index" not in two.metadata
