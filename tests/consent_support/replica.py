"""A reference gateway replica: keeps authorizations in memory from WatchAuthorizations and decides from memory.

It follows the client side of the protocol documented on ``ConsentService.WatchAuthorizations``: apply, then
acknowledge (noting when the acknowledgement was sent), decide only within the lease of the latest confirmed
acknowledgement, fail closed otherwise, and resume from the last applied revision after a broken stream.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc

from creditnode.consent.v1 import consent_service_pb2 as pb
from creditnode.consent.v1 import consent_service_pb2_grpc as pb_grpc

FAIL_CLOSED = "FAIL_CLOSED"


@dataclass(frozen=True)
class MemoryDecision:
    allowed: bool
    reason: str
    authorization: str
    started: float  # monotonic time the decision began (before reading memory)


class Replica:
    """One gateway replica's consent cache."""

    def __init__(self, address: str, replica_id: str, *, reconnect_delay: float = 0.05) -> None:
        self.replica_id = replica_id
        self._channel = grpc.insecure_channel(address)
        self._stub = pb_grpc.ConsentServiceStub(self._channel)
        self._lock = threading.Lock()
        self._by_name: dict[str, pb.Authorization] = {}
        self._by_key: dict[tuple[str, str, str], set[str]] = {}
        self.revision = 0
        self._lease_until = 0.0
        self._listing = False
        self._sent: dict[int, float] = {}
        self._ack_id = 0
        self._acks: queue.Queue[pb.WatchAuthorizationsRequest | None] = queue.Queue()
        self.acking = threading.Event()
        self.acking.set()
        # While set, the replica reads nothing from its stream, as if the network between it and consent stalled.
        self.partitioned = threading.Event()
        self.applied_at: dict[str, float] = {}  # authorization -> when a non-ACTIVE state was applied
        self.streams = 0
        self.errors: list[str] = []
        self._call: grpc.Call | None = None
        self._stop = threading.Event()
        self._reconnect_delay = reconnect_delay
        self._thread = threading.Thread(target=self._run, name=f"replica-{replica_id}", daemon=True)

    def start(self) -> Replica:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self.break_stream()
        self._thread.join(10)
        self._channel.close()

    def break_stream(self) -> None:
        call = self._call
        if call is not None:
            call.cancel()

    def wait_serving(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.serving():
            if time.monotonic() > deadline:
                raise TimeoutError(f"replica {self.replica_id} has no lease after {timeout}s: {self.errors[-3:]}")
            time.sleep(0.01)

    def serving(self) -> bool:
        with self._lock:
            return not self._listing and time.monotonic() < self._lease_until

    def wait_revision(self, revision: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.revision < revision:
            if time.monotonic() > deadline:
                raise TimeoutError(f"replica {self.replica_id} stuck at {self.revision} < {revision}")
            time.sleep(0.01)

    # ---------------------------------------------------------------- stream

    def _requests(
        self, start: pb.WatchAuthorizationsRequest, acks: queue.Queue[pb.WatchAuthorizationsRequest | None]
    ) -> Iterator[pb.WatchAuthorizationsRequest]:
        yield start
        while True:
            item = acks.get()
            if item is None:
                return
            yield item

    def _run(self) -> None:
        while not self._stop.is_set():
            acks: queue.Queue[pb.WatchAuthorizationsRequest | None] = queue.Queue()
            with self._lock:
                self._acks, self._sent, self._ack_id = acks, {}, 0
                start = pb.WatchAuthorizationsRequest(
                    start=pb.WatchStart(replica=self.replica_id, start_revision=0 if self._listing else self.revision)
                )
            try:
                call = self._stub.WatchAuthorizations(self._requests(start, acks))
                self._call = call
                self.streams += 1
                for response in call:
                    while self.partitioned.is_set() and not self._stop.is_set():
                        time.sleep(0.01)
                    self._apply(response)
            except grpc.RpcError as exc:
                self.errors.append(f"{exc.code().name}: {exc.details()}")
            finally:
                acks.put(None)
            self._stop.wait(self._reconnect_delay)

    def _apply(self, response: pb.WatchAuthorizationsResponse) -> None:
        with self._lock:
            if response.reset:
                self._by_name.clear()
                self._by_key.clear()
                self._listing = True
            for event in response.events:
                self._upsert(event.authorization)
            if response.snapshot_complete:
                self._listing = False
            self.revision = response.revision
            confirmed = self._sent.get(response.acknowledged)
            if confirmed is not None:
                self._lease_until = max(self._lease_until, confirmed + response.lease.ToTimedelta().total_seconds())
                self._sent = {k: v for k, v in self._sent.items() if k > response.acknowledged}
            if self.acking.is_set():
                self._ack_id += 1
                self._sent[self._ack_id] = time.monotonic()  # noted before sending: the lease errs short
                self._acks.put(
                    pb.WatchAuthorizationsRequest(ack=pb.WatchAck(ack_id=self._ack_id, revision=response.revision))
                )

    def _upsert(self, auth: pb.Authorization) -> None:
        key = (auth.requester, auth.enterprise, auth.purpose)
        if auth.state in (pb.AUTHORIZATION_STATE_REVOKED, pb.AUTHORIZATION_STATE_EXPIRED):
            self._by_name.pop(auth.name, None)
            self._by_key.get(key, set()).discard(auth.name)
        else:
            self._by_name[auth.name] = auth
            self._by_key.setdefault(key, set()).add(auth.name)
        if auth.state != pb.AUTHORIZATION_STATE_ACTIVE:
            self.applied_at.setdefault(auth.name, time.monotonic())

    # ---------------------------------------------------------------- decisions

    def decide(self, requester: str, enterprise: str, purpose: str, items: tuple[str, ...]) -> MemoryDecision:
        started = time.monotonic()
        with self._lock:
            if self._listing or time.monotonic() >= self._lease_until:
                return MemoryDecision(False, FAIL_CLOSED, "", started)
            now = datetime.now(UTC)
            reason, match = "NO_AUTHORIZATION", ""
            for name in self._by_key.get((requester, enterprise, purpose), ()):
                auth = self._by_name[name]
                if auth.state == pb.AUTHORIZATION_STATE_PAUSED:
                    reason, match = "PAUSED", name
                    continue
                if not auth.valid_from.ToDatetime(UTC) <= now < auth.valid_until.ToDatetime(UTC):
                    reason, match = "NOT_VALID_NOW", name
                    continue
                if not set(items) <= set(auth.covered_items):
                    reason, match = "OUT_OF_SCOPE", name
                    continue
                return MemoryDecision(True, "AUTHORIZED", name, started)
            return MemoryDecision(False, reason, match, started)
