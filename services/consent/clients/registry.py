"""The registry, as consent needs it: enterprise keys, requesters, and the participant watch for removals."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

import grpc
import structlog

from creditnode.registry.v1 import participants_pb2 as pp
from creditnode.registry.v1 import registry_service_pb2 as rs
from creditnode.registry.v1 import registry_service_pb2_grpc as rs_grpc
from services.consent.domain.ports import EnterpriseKey, Requester
from services.kit.errors import Unavailable
from services.kit.metrics import WATCH_CONNECTED, WATCH_LAG
from services.kit.status import error_info

log = structlog.get_logger("consent.registry")

_PLATFORM_GONE = {pp.PLATFORM_STATUS_REMOVED, pp.PLATFORM_STATUS_REJECTED, pp.PLATFORM_STATUS_EXITED}


def _unavailable(exc: grpc.RpcError) -> Unavailable:
    return Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", "the registry is unavailable", {"code": exc.code().name})


class GrpcRegistry:
    """Registry port over ``creditnode.registry.v1.RegistryService``."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._stub = rs_grpc.RegistryServiceStub(channel)

    def enterprise_keys(self, uscc: str) -> list[EnterpriseKey] | None:
        try:
            response = self._stub.GetEnterprise(rs.GetEnterpriseRequest(name=f"enterprises/{uscc}"))
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise _unavailable(exc) from None
        return [
            EnterpriseKey(k.key_id, bytes(k.public_key), k.state == pp.KEY_STATE_ACTIVE)
            for k in response.enterprise.keys
        ]

    def requester(self, name: str) -> Requester | None:
        try:
            if name.startswith("platforms/"):
                platform = self._stub.GetPlatform(rs.GetPlatformRequest(name=name)).platform
                return Requester(name, platform.status in _PLATFORM_GONE, platform.access == pp.ACCESS_ALLOWED)
            institution = self._stub.GetInstitution(rs.GetInstitutionRequest(name=name)).institution
            return Requester(
                name, institution.status == pp.INSTITUTION_STATUS_REMOVED, institution.access == pp.ACCESS_ALLOWED
            )
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise _unavailable(exc) from None


class Cursor(Protocol):
    """Where the participant watch resumes after a restart."""

    def load(self) -> int: ...

    def save(self, revision: int) -> None: ...


def removed_requester(event: pp.Participant, event_type: int) -> str | None:
    """The requester's name when this participant event means it left the node for good, else None."""
    kind = event.WhichOneof("kind")
    if kind == "platform":
        gone = event_type == rs.PARTICIPANT_EVENT_TYPE_TOMBSTONE or event.platform.status in _PLATFORM_GONE
        return event.platform.name if gone else None
    if kind == "institution":
        gone = (
            event_type == rs.PARTICIPANT_EVENT_TYPE_TOMBSTONE
            or event.institution.status == pp.INSTITUTION_STATUS_REMOVED
        )
        return event.institution.name if gone else None
    return None


class RequesterRemovalWatcher:
    """Consumes the registry's participant watch and revokes the authorizations of removed requesters.

    At-least-once: the cursor is saved after the batch's removals were handled, and handling is idempotent.
    """

    def __init__(
        self,
        channel: grpc.Channel,
        cursor: Cursor,
        on_removed: Callable[[str], int],
        *,
        retry_seconds: float = 1.0,
    ) -> None:
        self._channel = channel
        self._stub = rs_grpc.RegistryServiceStub(channel)
        self._cursor = cursor
        self._on_removed = on_removed
        self._retry = retry_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="consent-participants", daemon=True)
        self.connected = threading.Event()
        self._last_message = time.monotonic()
        WATCH_LAG.labels("consent", "participants").set_function(lambda: time.monotonic() - self._last_message)
        WATCH_CONNECTED.labels("consent", "participants").set(0)  # a series from the start, for the down alert

    def start(self) -> RequesterRemovalWatcher:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop watching. Closes the channel too (it is the last user at shutdown): that ends a blocked stream."""
        self._stop.set()
        self._channel.close()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        relist = False
        while not self._stop.is_set():
            try:
                if relist:
                    # In the try: a save that fails (the database is away) is tried again next round, not raised out
                    # of the handler below, which ended this thread and stopped revoking removed requesters for good.
                    self._cursor.save(0)  # list again; revoking is idempotent
                    relist = False
                self._watch()
            except grpc.RpcError as exc:
                info = error_info(exc)
                if info is not None and info.reason == "ERROR_REASON_WATCH_REVISION_COMPACTED":
                    relist = True
                if not self._stop.is_set():
                    log.info("participant_watch_retry", code=exc.code().name)
            except Exception:  # keep watching whatever happens; the next round starts from the saved cursor
                if not self._stop.is_set():
                    log.warning("participant_watch_failed", exc_info=True)
            self.connected.clear()
            WATCH_CONNECTED.labels("consent", "participants").set(0)
            self._stop.wait(self._retry)

    def _watch(self) -> None:
        request = rs.WatchParticipantsRequest(
            start_revision=self._cursor.load(),
            kinds=[rs.PARTICIPANT_KIND_PLATFORM, rs.PARTICIPANT_KIND_INSTITUTION],
        )
        stream = self._stub.WatchParticipants(request)
        for response in stream:
            self._last_message = time.monotonic()
            # Connected once the registry has answered (it does at once: a listing, or a heartbeat once the backlog is
            # through): opening the call sends nothing, and one to a registry that cannot be reached waits to connect.
            if not self.connected.is_set():
                self.connected.set()
                WATCH_CONNECTED.labels("consent", "participants").set(1)
            for event in response.events:
                name = removed_requester(event.participant, event.type)
                if name is not None:
                    revoked = self._on_removed(name)
                    log.info("requester_removed", requester=name, revoked=revoked)
            self._cursor.save(response.revision)
            if self._stop.is_set():
                return
