"""The registry, as the objection service needs it: record versions, the sharing list, and dispute flags."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import grpc
import structlog
from google.protobuf.timestamp_pb2 import Timestamp

from creditnode.registry.v1 import records_pb2 as rec
from creditnode.registry.v1 import records_pb2_grpc as rec_grpc
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import registry_admin_service_pb2_grpc as admin_grpc
from creditnode.registry.v1 import sharing_list_pb2 as sl
from creditnode.registry.v1 import sharing_list_pb2_grpc as sl_grpc
from services.kit.errors import Unavailable
from services.kit.status import error_info
from services.objection.clients.refusals import delivery_failure
from services.objection.domain import RecordInfo

log = structlog.get_logger("objection.registry")

DONE = "DONE"
PARKED = "PARKED"


def _unavailable(code: str, what: str) -> Unavailable:
    """``code``: the registry call's status code name."""
    return Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", f"the registry's {what} is unavailable", {"code": code})


def department_name(code: str) -> str:
    """Sharing-list department codes ("sx-tax") as resource names ("departments/sx-tax"), as provenance says."""
    return code if code.startswith("departments/") else f"departments/{code}"


class GrpcRecords:
    """RecordLookup over ``RecordService.GetRecord``; a record id is the registry's record name."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._stub = rec_grpc.RecordServiceStub(channel)

    def _get(self, name: str, history: bool) -> rec.GetRecordResponse | None:
        if not name.startswith("enterprises/") or "/records/" not in name:
            return None
        try:
            response: rec.GetRecordResponse = self._stub.GetRecord(
                rec.GetRecordRequest(name=name, include_history=history)
            )
        except grpc.RpcError as exc:
            if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return None
            raise _unavailable(exc.code().name, "record service") from None
        return response

    def owner(self, record_id: str) -> str | None:
        response = self._get(record_id, history=False)
        return response.record.uscc if response is not None else None

    def version(self, record_id: str, version: int) -> RecordInfo | None:
        response = self._get(record_id, history=True)
        if response is None:
            return None
        record = response.record
        versions = {v.version: v.provenance for v in response.versions}
        if record.version not in versions:
            versions[record.version] = record.provenance
        provenance = versions.get(version)
        if provenance is None:
            return None
        return RecordInfo(
            record_id=record_id,
            version=version,
            enterprise=record.uscc,
            item=record.item_code,
            provider=department_name(provenance.department),
            content_sha256=provenance.fingerprint,
        )


# A registry that takes the call and never answers must not hold a filing for ever.
_SHARING_LIST_DEADLINE_SECONDS = 5.0


class GrpcSharingList:
    """ResponsibleDepartments over ``SharingListService.GetSharingList`` (current version), cached for ``ttl``."""

    def __init__(self, channel: grpc.Channel, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._stub = sl_grpc.SharingListServiceStub(channel)
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._items: dict[str, str] = {}
        self._loaded = False
        self._next_refresh = 0.0
        self._last_failure = ""

    def _refresh(self) -> dict[str, str]:
        # One caller refreshes; the others route with the list held meanwhile (the call may take its whole deadline)
        # and wait for it only when no list was read yet.
        if not self._lock.acquire(blocking=not self._loaded):
            return self._items
        try:
            now = self._clock()
            if now < self._next_refresh:
                if self._loaded:
                    return self._items
                raise _unavailable(self._last_failure, "sharing list")
            try:
                response: sl.GetSharingListResponse = self._stub.GetSharingList(
                    sl.GetSharingListRequest(version=0), timeout=_SHARING_LIST_DEADLINE_SECONDS
                )
            except grpc.RpcError as exc:
                self._last_failure = exc.code().name
                # Retried a second after this call ended, not by every caller meanwhile (those queued here for a first
                # list too): while the registry is down each of them would otherwise wait out a deadline of its own.
                self._next_refresh = self._clock() + min(1.0, self._ttl)
                if self._loaded:  # a stale list beats no routing
                    log.warning("sharing_list_refresh_failed", code=self._last_failure)
                    return self._items
                raise _unavailable(self._last_failure, "sharing list") from None
            self._items = {i.code: department_name(i.department) for i in response.sharing_list.items if i.department}
            self._loaded = True
            self._next_refresh = now + self._ttl
            return self._items
        finally:
            self._lock.release()

    def department_for(self, item: str) -> str | None:
        return self._refresh().get(item)


def _request_id(payload: Mapping[str, Any], what: str) -> str:
    """A stable request_id per effect, so a redelivered event is a replay at the registry."""
    raw = f"{payload['objection_id']}\x1f{payload['type']}\x1f{what}"
    return "obj-" + hashlib.sha256(raw.encode()).hexdigest()[:40]


_OUTCOMES = {
    "CORRECTED": rec.DISPUTE_OUTCOME_CORRECTED,
    "UPHELD": rec.DISPUTE_OUTCOME_UPHELD,
}


class RegistryDisputes:
    """Idempotent outbox handlers that set and clear in-dispute flags through ``RecordService``."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._stub = rec_grpc.RecordServiceStub(channel)

    def _call(self, method: str, request: Any, *, no_flag_is_done: bool = True) -> Any:
        try:
            return getattr(self._stub, method)(request)
        except grpc.RpcError as exc:
            info = error_info(exc)
            if no_flag_is_done and info is not None and info.reason == "ERROR_REASON_DISPUTE_NOT_FOUND":
                return None  # no flag of this objection to end (its raising was refused): the effect holds
            raise delivery_failure(exc, f"the registry's {method}") from None

    def flag_raised(self, payload: Mapping[str, Any]) -> str:
        target = payload["target"]
        if "record_id" not in target:
            return PARKED  # evaluation flags belong to scoring, which has no API for them yet
        self._call(
            "SetRecordDispute",
            rec.SetRecordDisputeRequest(
                name=target["record_id"],
                objection=f"objections/{payload['objection_id']}",
                request_id=_request_id(payload, target["record_id"]),
            ),
        )
        return DONE

    def flag_cleared(self, payload: Mapping[str, Any]) -> str:
        target = payload["target"]
        if "record_id" not in target:
            return PARKED
        # A CORRECTED answer means the department has already delivered the corrected version through ingestion:
        # no fields are sent, and the registry bars the disputed version's content from coming back.
        request = rec.ClearRecordDisputeRequest(
            name=target["record_id"],
            objection=f"objections/{payload['objection_id']}",
            outcome=_OUTCOMES[payload["outcome"]],
            request_id=_request_id(payload, target["record_id"]),
            disputed_version=int(target.get("version", 0)),
        )
        self._call("ClearRecordDispute", request)
        return DONE

    def statement_attached(self, payload: Mapping[str, Any]) -> str:
        target = payload["target"]
        if "record_id" not in target:
            return PARKED  # statements on evaluations belong to scoring, which has no API for them yet
        self._call(
            "AttachRecordStatement",
            rec.AttachRecordStatementRequest(
                name=target["record_id"],
                objection=f"objections/{payload['objection_id']}",
                statement=str(payload["statement"]),
                request_id=_request_id(payload, target["record_id"]),
            ),
            # Without the objection's flag the statement has nowhere to go: refused (kept, counted, alerted), not
            # reported delivered.
            no_flag_is_done=False,
        )
        return DONE

    def marked_unverifiable(self, payload: Mapping[str, Any]) -> str:
        target = payload["target"]
        if "record_id" not in target:
            return PARKED
        self._call(
            "ClearRecordDispute",
            rec.ClearRecordDisputeRequest(
                name=target["record_id"],
                objection=f"objections/{payload['objection_id']}",
                outcome=rec.DISPUTE_OUTCOME_UNVERIFIABLE,
                statement=payload.get("statement") or "",
                request_id=_request_id(payload, target["record_id"]),
            ),
        )
        return DONE


class RegistryBreaches:
    """Records a late forward as a compliance breach against the platform, in the registry (visible to supervision)."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._stub = admin_grpc.RegistryAdminServiceStub(channel)

    def forwarding_breached(self, payload: Mapping[str, Any]) -> str:
        log.warning(
            "objection_forwarding_breached", alert=True, objection=payload["objection_id"], platform=payload["platform"]
        )
        occurred = Timestamp()
        occurred.FromDatetime(datetime.fromisoformat(str(payload["forwarded_at"])))
        deadline = payload.get("deadline_last_day")
        request = admin_pb.RecordPlatformBreachRequest(
            breach=admin_pb.PlatformBreach(
                platform=str(payload["platform"]),
                kind=admin_pb.BREACH_KIND_OBJECTION_FORWARDED_LATE,
                reference=f"objections/{payload['objection_id']}",
                detail=f"forwarded after the deadline (last working day {deadline})" if deadline else "forwarded late",
                occur_time=occurred,
            )
        )
        try:
            self._stub.RecordPlatformBreach(request)  # idempotent on (kind, reference): redelivery is harmless
        except grpc.RpcError as exc:
            raise delivery_failure(exc, "the registry's RecordPlatformBreach") from None
        return DONE
