"""The registry as scoring needs it: an enterprise's records, and the record and participant watches to follow."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date
from decimal import Decimal
from typing import Any

import grpc
import structlog

from creditnode.registry.v1 import participants_pb2 as pp
from creditnode.registry.v1 import records_pb2 as rpb
from creditnode.registry.v1 import records_pb2_grpc as rgrpc
from creditnode.registry.v1 import registry_service_pb2 as rs
from creditnode.registry.v1 import registry_service_pb2_grpc as rs_grpc
from creditnode.registry.v1 import sharing_list_pb2 as slpb
from creditnode.registry.v1 import sharing_list_pb2_grpc as slgrpc
from services.kit.errors import Unavailable
from services.kit.metrics import WATCH_CONNECTED, WATCH_LAG
from services.kit.status import error_info
from services.scoring.domain.ports import RecordPage
from services.scoring.domain.records import Record

log = structlog.get_logger("scoring.registry")

_ENTERPRISE_GONE_TYPES = {rs.PARTICIPANT_EVENT_TYPE_TOMBSTONE}


def field_value(v: rpb.FieldValue) -> object:
    kind = v.WhichOneof("kind")
    if kind == "string_value":
        return v.string_value
    if kind == "int_value":
        return v.int_value
    if kind == "decimal_value":
        return Decimal(v.decimal_value)
    if kind == "date_value":
        d = v.date_value
        return date(d.year, d.month, d.day)
    if kind == "bool_value":
        return v.bool_value
    return None


def to_record(r: rpb.CreditRecord, *, publicity_known: bool = True) -> Record:
    """A registry record as the scoring domain reads it; the record id is the last part of its name. With
    ``publicity_known`` False (a listing from a registry that keeps no publicity ends), an unset end is not known."""
    return Record(
        record_id=r.name.rsplit("/", 1)[-1],
        item_code=r.item_code,
        fields={k: field_value(v) for k, v in r.fields.items()},
        event_time=r.event_time.ToDatetime(tzinfo=UTC),
        version=r.version,
        in_dispute=len(r.disputes) > 0,
        publicity_end=r.publicity_end_time.ToDatetime(tzinfo=UTC) if r.HasField("publicity_end_time") else None,
        publicity_known=publicity_known or r.HasField("publicity_end_time"),
    )


class GrpcRecordSource:
    """RecordSource over ``creditnode.registry.v1.RecordService.ListEnterpriseRecords`` (masked view)."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._stub = rgrpc.RecordServiceStub(channel)

    def enterprise_records(self, uscc: str) -> RecordPage | None:
        records: list[Record] = []
        token, revision = "", 0
        try:
            while True:
                page = self._stub.ListEnterpriseRecords(
                    rpb.ListEnterpriseRecordsRequest(parent=f"enterprises/{uscc}", page_size=1000, page_token=token)
                )
                # A registry of the previous release (a rolling upgrade) sets no publicity ends: stored as unknown,
                # the day's re-check reads them again, where taken as "no end" a penalty would count for ever.
                known = page.publicity_known
                current = (r for r in page.records if r.state == rpb.RECORD_STATE_CURRENT)
                records += [to_record(r, publicity_known=known) for r in current]
                revision = revision or page.revision
                token = page.next_page_token
                if not token:
                    return RecordPage(records, revision)
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise Unavailable(
                "ERROR_REASON_DEPENDENCY_UNAVAILABLE", "the registry is unavailable", {"code": exc.code().name}
            ) from None


class Cursor:
    """Where a watch resumes after a restart (stored by the composition root's callable pair)."""

    def __init__(
        self, load: Callable[[], int], save: Callable[[int], None], reset: Callable[[], None] | None = None
    ) -> None:
        self.load = load
        self.save = save
        # reset starts the watch again from 0 (its revisions were compacted or went back): by default save(0)
        self.reset = reset or (lambda: save(0))


class _Watcher:
    """A background consumer: connects, handles batches, saves the cursor after each, reconnects with backoff."""

    name = "watch"

    def __init__(self, cursor: Cursor, *, min_backoff: float = 0.2, max_backoff: float = 5.0) -> None:
        self._cursor = cursor
        self._min, self._max = min_backoff, max_backoff
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"scoring-{self.name}", daemon=True)
        self._call: Any = None
        self.connected = threading.Event()
        self._last_message = time.monotonic()
        WATCH_LAG.labels("scoring", self.name).set_function(lambda: time.monotonic() - self._last_message)
        # Not connected until the registry answers, and said so from the start: with no series at all the "watch
        # stream down" alert had nothing to fire on while a first call waited to reach an unreachable registry.
        WATCH_CONNECTED.labels("scoring", self.name).set(0)

    def start(self) -> _Watcher:
        self._thread.start()
        return self

    def close(self) -> None:
        """Ask the consumer to stop and cancel its open stream. Where interceptors wrap the call in a plain generator
        (tracing on) it cannot be cancelled: the consumer then stops at the stream's next message, a heartbeat at
        most (the registry sends one every 2 s)."""
        self._stop.set()
        self._cancel()

    def join(self, timeout: float = 5.0) -> bool:
        """Wait for the consumer to stop; False, and a warning, when it has not within ``timeout``. The composition
        root joins before it closes the channels and the engine the consumer uses."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("watch_not_stopped", watch=self.name, timeout_seconds=timeout)
            return False
        return True

    def _cancel(self) -> None:
        cancel = getattr(self._call, "cancel", None)  # interceptors may wrap the call in a plain generator
        if cancel is not None:
            cancel()

    def _follow(self, call: Any) -> None:
        """Keep the open call for close(); one opened while close() ran is cancelled here, not left open."""
        self._call = call
        if self._stop.is_set():
            self._cancel()

    def _open(self, start: int) -> Iterator[tuple[int, object]]:
        raise NotImplementedError

    def _handle(self, batch: object) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        backoff = self._min
        reset = False
        while not self._stop.is_set():
            try:
                if reset:
                    # In the try: a reset that fails (the database is away) is tried again next round, not raised
                    # out of the handler below, which ended this thread and left scoring unready for good.
                    self._cursor.reset()  # start again; handlers are idempotent
                    reset = False
                for revision, batch in self._open(self._cursor.load()):
                    self._last_message = time.monotonic()
                    if not self.connected.is_set():
                        self.connected.set()
                        WATCH_CONNECTED.labels("scoring", self.name).set(1)
                    backoff = self._min
                    self._handle(batch)
                    self._cursor.save(revision)
                    if self._stop.is_set():
                        return
            except grpc.RpcError as exc:
                info = error_info(exc)
                if (info is not None and info.reason == "ERROR_REASON_WATCH_REVISION_COMPACTED") or (
                    exc.code() == grpc.StatusCode.FAILED_PRECONDITION
                ):
                    reset = True
                if not self._stop.is_set():
                    log.info("watch_retry", watch=self.name, code=exc.code().name)
            except Exception:  # keep consuming whatever happens; the next round resumes from the saved cursor
                if not self._stop.is_set():
                    log.warning("watch_failed", watch=self.name, exc_info=True)
            self.connected.clear()
            WATCH_CONNECTED.labels("scoring", self.name).set(0)
            self._stop.wait(backoff)
            backoff = min(backoff * 2, self._max)


class RecordChangeWatcher(_Watcher):
    """Consumes WatchRecordChanges; each changed enterprise goes to ``on_change(uscc, revision)`` once per batch."""

    name = "records"

    def __init__(self, channel: grpc.Channel, cursor: Cursor, on_change: Callable[[str, int], object], **kw: float):
        super().__init__(cursor, **kw)
        self._stub = rgrpc.RecordServiceStub(channel)
        self._on_change = on_change

    def _open(self, start: int) -> Iterator[tuple[int, object]]:
        call = self._stub.WatchRecordChanges(rpb.WatchRecordChangesRequest(start_revision=start))
        self._follow(call)
        for response in call:
            yield response.revision, response

    def _handle(self, batch: object) -> None:
        assert isinstance(batch, rpb.WatchRecordChangesResponse)
        latest: dict[str, int] = {}
        for change in batch.changes:
            latest[change.record.uscc] = max(latest.get(change.record.uscc, 0), change.revision)
        for uscc, revision in latest.items():
            self._on_change(uscc, revision)


class ParticipantWatcher(_Watcher):
    """Consumes WatchParticipants for enterprises (every one gets an evaluation) and platforms (their cities)."""

    name = "participants"

    def __init__(
        self,
        channel: grpc.Channel,
        cursor: Cursor,
        on_enterprise: Callable[[str, str, bool], object],
        on_platform: Callable[[str, str], object],
        **kw: float,
    ):
        super().__init__(cursor, **kw)
        self._stub = rs_grpc.RegistryServiceStub(channel)
        self._on_enterprise = on_enterprise
        self._on_platform = on_platform

    def _open(self, start: int) -> Iterator[tuple[int, object]]:
        call = self._stub.WatchParticipants(
            rs.WatchParticipantsRequest(
                start_revision=start, kinds=[rs.PARTICIPANT_KIND_ENTERPRISE, rs.PARTICIPANT_KIND_PLATFORM]
            )
        )
        self._follow(call)
        listed = start > 0
        for response in call:
            # during the initial listing the revision is only safe to save once the snapshot is complete
            listed = listed or response.snapshot_complete
            yield (response.revision if listed else start), response

    def _handle(self, batch: object) -> None:
        assert isinstance(batch, rs.WatchParticipantsResponse)
        for event in batch.events:
            participant: pp.Participant = event.participant
            kind = participant.WhichOneof("kind")
            if kind == "enterprise":
                e = participant.enterprise
                self._on_enterprise(
                    e.uscc, e.platform.removeprefix("platforms/"), event.type not in _ENTERPRISE_GONE_TYPES
                )
            elif kind == "platform":
                p = participant.platform
                self._on_platform(p.name.removeprefix("platforms/"), p.region_code)


class GrpcCatalogue:
    """The registry's current sharing list as scoring's catalogue (item -> field -> type), to validate models, and
    its public items, which an authorization's look-back does not hold back (as the gateway reads the same list)."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._stub = slgrpc.SharingListServiceStub(channel)

    def _listed(self, cannot: str) -> slpb.SharingList:
        try:
            listed: slpb.SharingList = self._stub.GetSharingList(slpb.GetSharingListRequest()).sharing_list
        except grpc.RpcError as exc:
            raise Unavailable(
                "ERROR_REASON_DEPENDENCY_UNAVAILABLE", f"the registry's sharing list is unavailable; cannot {cannot}"
            ) from exc
        return listed

    def public_items(self) -> frozenset[str]:
        """Items the current list marks public (公开); no answer is UNAVAILABLE (guessing none public would mark a
        sendable alert unsendable for good)."""
        listed = self._listed("tell public items")
        return frozenset(item.code for item in listed.items if item.openness == slpb.OPENNESS_PUBLIC)

    def __call__(self) -> dict[str, dict[str, str]]:
        # Publishing without the list would let a model name items that do not exist: refuse instead.
        listed = self._listed("check the model")
        return {
            item.code: {f.name: slpb.FieldType.Name(f.type).removeprefix("FIELD_TYPE_").lower() for f in item.fields}
            for item in listed.items
        }
