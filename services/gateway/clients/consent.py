"""The consent cache: authorizations in memory from WatchAuthorizations, following consent's no-stale-window protocol.

Apply each response, then acknowledge it (noting when the acknowledgement was sent); decide from memory only while
the lease of the latest confirmed acknowledgement runs and no listing is in progress; otherwise fail closed. After a
broken stream, keep the lease (it lapses on its own) and resume from the last applied revision.
See services/consent/README.md.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
import structlog

from creditnode.consent.v1 import consent_service_pb2 as pb
from creditnode.consent.v1 import consent_service_pb2_grpc as pb_grpc
from services.gateway.clients.batching import CombiningBatcher
from services.gateway.clients.errors import relayed, relayed_check_error, unavailable
from services.gateway.clients.followed_stream import FollowedStream
from services.gateway.domain.policy import Coverage
from services.kit.client import Reconnects, queued_requests, serving_many_callers

log = structlog.get_logger("gateway.consent")


@dataclass(frozen=True)
class CachedDecision:
    """A decision from memory: the covering authorization, or the reason of the closest candidate."""

    allowed: bool
    reason: int  # consent DecisionReason
    authorization: str = ""
    covered: frozenset[str] = frozenset()
    data_since: datetime | None = None
    named: frozenset[str] = frozenset()  # the items the enterprise named (opt-in data needs its item named)

    @property
    def coverage(self) -> Coverage:
        return Coverage(self.covered, self.named)


class ConsentUnavailable(Exception):
    """The cache has no running lease (or is listing): nothing that needs an authorization may be released."""


class ConsentCache(FollowedStream):
    """One gateway replica's view of consent."""

    def __init__(
        self,
        channel: grpc.Channel,
        replica_id: str,
        *,
        reconnect_seconds: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.replica_id = replica_id
        self._stub = pb_grpc.ConsentServiceStub(channel)
        self._reconnects = Reconnects(reconnect_seconds)
        self._lock = threading.Lock()
        self._by_name: dict[str, pb.Authorization] = {}
        self._by_key: dict[tuple[str, str, str], set[str]] = {}
        self.revision = 0
        self._lease_until = 0.0
        self._listing = False
        self._been_live = False
        self._sent: dict[int, float] = {}
        self._ack_id = 0
        self._acks: queue.Queue[pb.WatchAuthorizationsRequest | None] = queue.Queue()
        super().__init__(f"consent-watch-{replica_id}", "authorizations", clock)

    def live(self) -> bool:
        with self._lock:
            return not self._listing and self._clock() < self._lease_until

    def has_been_live(self) -> bool:
        """Whether the cache was ever live: the gateway's readiness. A new replica takes no traffic before it can
        decide; one that loses consent later stays ready, refusing only what needs an authorization."""
        with self._lock:
            return self._been_live

    # ---- stream ---------------------------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            acks: queue.Queue[pb.WatchAuthorizationsRequest | None] = queue.Queue()
            with self._lock:
                self._acks, self._sent, self._ack_id = acks, {}, 0
                start = pb.WatchAuthorizationsRequest(
                    start=pb.WatchStart(replica=self.replica_id, start_revision=self.resume_from())
                )
            try:
                call = self._stub.WatchAuthorizations(queued_requests(start, acks))
                self._call = call
                for response in call:
                    self._reconnects.delivered()
                    self._apply(response)
            except grpc.RpcError as exc:
                if not self._stop.is_set():
                    log.warning("consent_watch_broken", code=exc.code().name)
            except Exception:  # keep following: a dead thread would leave this replica failed closed for good
                log.error("consent_watch_failed", exc_info=True)
            finally:
                acks.put(None)
            self._stop.wait(self._reconnects.next_wait())

    def resume_from(self) -> int:
        """Where a new stream starts: the last applied revision, or 0 (a new listing) when a listing broke part-way,
        which resuming would never complete. Called under the lock."""
        return 0 if self._listing else self.revision

    def _apply(self, response: pb.WatchAuthorizationsResponse) -> None:
        self._last_message = self._clock()
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
                lease = response.lease.ToTimedelta().total_seconds()
                self._lease_until = max(self._lease_until, confirmed + lease)
                self._been_live = self._been_live or (not self._listing and self._clock() < self._lease_until)
                self._sent = {k: v for k, v in self._sent.items() if k > response.acknowledged}
            self._ack_id += 1
            self._sent[self._ack_id] = self._clock()  # noted before sending: the lease errs short
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

    # ---- decisions ------------------------------------------------------------------------------------------------

    def decide(self, requester: str, enterprise: str, purpose: str, items: frozenset[str]) -> CachedDecision:
        """From memory, under a running lease; ConsentUnavailable otherwise (fail closed). ALLOW names an
        authorization covering at least one of ``items``; the caller releases only what its covered items hold."""
        with self._lock:
            if self._listing or self._clock() >= self._lease_until:
                raise ConsentUnavailable
            now = datetime.now(UTC)
            best: CachedDecision = CachedDecision(False, pb.DECISION_REASON_NO_AUTHORIZATION)
            rank = {
                pb.DECISION_REASON_NO_AUTHORIZATION: 0,
                pb.DECISION_REASON_EXPIRED: 1,
                pb.DECISION_REASON_PAUSED: 2,
                pb.DECISION_REASON_NOT_YET_VALID: 3,
                pb.DECISION_REASON_OUT_OF_SCOPE: 4,
            }
            found: list[pb.Authorization] = []
            for name in self._by_key.get((requester, enterprise, purpose), ()):
                auth = self._by_name[name]
                reason = pb.DECISION_REASON_AUTHORIZED
                if auth.state == pb.AUTHORIZATION_STATE_PAUSED:
                    reason = pb.DECISION_REASON_PAUSED
                elif now < auth.valid_from.ToDatetime(UTC):
                    reason = pb.DECISION_REASON_NOT_YET_VALID
                elif now >= auth.valid_until.ToDatetime(UTC):
                    reason = pb.DECISION_REASON_EXPIRED
                elif not items & set(auth.covered_items):
                    reason = pb.DECISION_REASON_OUT_OF_SCOPE
                if reason == pb.DECISION_REASON_AUTHORIZED:
                    found.append(auth)
                elif rank.get(reason, 0) >= rank.get(best.reason, 0):  # type: ignore[call-overload]
                    best = CachedDecision(False, reason, name)
            if not found:
                return best
            # The one covering most of what was asked; among equals, like consent, the one that ends soonest.
            auth = min(found, key=lambda a: (-len(items & set(a.covered_items)), a.valid_until.ToDatetime(UTC), a.name))
            since = auth.data_since.ToDatetime(UTC) if auth.HasField("data_since") else None
            return CachedDecision(
                True,
                pb.DECISION_REASON_AUTHORIZED,
                auth.name,
                frozenset(auth.covered_items),
                since,
                frozenset(auth.items),
            )


class ConsentClient:
    """Unary calls to consent: recording uses, and the relays of enterprise-signed requests.

    Uses go through a combining batcher: the uses of concurrent releases travel in one BatchCheckAuthorizations call
    and are recorded by consent in one transaction; a lone release makes one call, in its own thread."""

    def __init__(self, channel: grpc.Channel, *, max_batch: int = 64, queue_timeout: float = 5.0) -> None:
        self.stub = pb_grpc.ConsentServiceStub(channel)
        self.uses: CombiningBatcher[pb.CheckAuthorizationRequest, pb.CheckAuthorizationResponse] = CombiningBatcher(
            self._check_batch,
            max_batch=max_batch,
            queue_timeout=queue_timeout,
            on_timeout=lambda: unavailable("consent"),
        )

    def consume(
        self,
        requester: str,
        enterprise: str,
        purpose: str,
        items: list[str],
        authorization: str,
        request_id: str,
        *,
        consume: bool = True,
    ) -> pb.CheckAuthorizationResponse:
        """Record one use under ``authorization`` (consent decides again; with ``consume`` false it only decides);
        DomainError when consent cannot."""
        return self.uses.call(
            pb.CheckAuthorizationRequest(
                requester=requester,
                enterprise=enterprise,
                purpose=purpose,
                items=items,
                consume=consume,
                authorization=authorization,
                request_id=request_id,
            )
        )

    def check_named(
        self, requester: str, enterprise: str, purpose: str, items: list[str], authorization: str
    ) -> pb.CheckAuthorizationResponse:
        """Whether ``authorization`` allows the release now, spending nothing (consent decides); DomainError when
        consent cannot answer."""
        return self.consume(requester, enterprise, purpose, items, authorization, "", consume=False)

    def _check_batch(
        self, requests: list[pb.CheckAuthorizationRequest]
    ) -> list[pb.CheckAuthorizationResponse | BaseException]:
        # A failure of the whole call is answered with one error per request, never one shared object: each caller
        # stamps its own refusal's receipt into its error's metadata.
        try:
            with serving_many_callers():
                response = self.stub.BatchCheckAuthorizations(pb.BatchCheckAuthorizationsRequest(requests=requests))
        except grpc.RpcError as exc:
            return [relayed(exc, "consent") for _ in requests]
        if len(response.results) != len(requests):
            return [unavailable("consent") for _ in requests]
        return [
            r.response if r.HasField("response") else relayed_check_error(r.error, "consent") for r in response.results
        ]

    def relay(self, method: str, request: object) -> object:
        try:
            return getattr(self.stub, method)(request)
        except grpc.RpcError as exc:
            raise relayed(exc, "consent") from None


__all__ = ["CachedDecision", "ConsentCache", "ConsentClient", "ConsentUnavailable", "unavailable"]
