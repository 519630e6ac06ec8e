"""Record ingestion, record reads and the sharing list over gRPC: decode, call a use case, encode. Nothing more.

The sending department is the internal trust boundary: the ingestion API is reached only from the government
data-sharing exchange (a NetworkPolicy admits nothing else), which sets the ``x-creditnode-department`` metadata
after authenticating the department. The registry checks the code names a registered department.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import grpc
import yaml

from creditnode.registry.v1 import participants_pb2 as part_pb
from creditnode.registry.v1 import records_pb2 as pb
from creditnode.registry.v1 import records_pb2_grpc as pb_grpc
from creditnode.registry.v1 import sharing_list_pb2 as sl_pb
from creditnode.registry.v1 import sharing_list_pb2_grpc as sl_grpc
from services.kit import paging, validation
from services.kit.errors import InvalidArgument
from services.kit.masking import mask_full
from services.kit.notify import CommitNotifier
from services.kit.protos import fingerprint, from_proto_enum, from_timestamp, timestamp, to_proto_enum
from services.registry import record_usecases as uc
from services.registry.api import checks
from services.registry.api.record_watch import RecordWatch, categories_named
from services.registry.api.stream_arrivals import NOTHING_YET, StreamArrivals
from services.registry.domain.ledger import DisputeOutcome, ListEntry, RecordState, StoredVersion
from services.registry.domain.records import EARLIEST_EVENT, FieldValue, IncomingRecord, Outcome, RecordRejected
from services.registry.domain.sharing_list import (
    FieldSchema,
    Item,
    SharingList,
    SharingListDiff,
    WorkingDays,
    diff_sharing_lists,
    parse_sharing_list,
)
from services.registry.record_usecases import CatalogueCache, RecordView, Submitted, UowFactory

Clock = Callable[[], datetime]
DEPARTMENT_METADATA = "x-creditnode-department"
STREAM_CHUNK = 1000
MAX_RESULTS = 10_000
MAX_STREAM_ID = 128
# A sharing list's YAML: 30 times the node's list. Every stored version is parsed again at each catalogue load, and
# the YAML parser spends seconds per megabyte.
MAX_SHARING_LIST_CHARS = 1_000_000
_OUTCOMES = {
    Outcome.ACCEPTED: pb.RECORD_OUTCOME_ACCEPTED,
    Outcome.DUPLICATE: pb.RECORD_OUTCOME_DUPLICATE,
    Outcome.PARKED: pb.RECORD_OUTCOME_PARKED,
    Outcome.REJECTED: pb.RECORD_OUTCOME_REJECTED,
}


def department_of(context: grpc.ServicerContext) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == DEPARTMENT_METADATA:
            return str(value)[:40]
    return ""


# ------------------------------------------------------------------------------------------------- conversion


def value_from(v: pb.FieldValue) -> object:
    kind = v.WhichOneof("kind")
    if kind == "date_value":
        d = v.date_value
        try:
            return date(d.year, d.month, d.day)
        except ValueError:
            return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"  # refused by the schema check as not a calendar date
    return None if kind is None else getattr(v, kind)


def value_to(value: object) -> pb.FieldValue:
    if isinstance(value, bool):
        return pb.FieldValue(bool_value=value)
    if isinstance(value, int):
        return pb.FieldValue(int_value=value)
    if isinstance(value, Decimal):
        return pb.FieldValue(decimal_value=format(value, "f"))
    if isinstance(value, date):
        return pb.FieldValue(date_value=sl_pb.CalendarDate(year=value.year, month=value.month, day=value.day))
    return pb.FieldValue(string_value=str(value))


def incoming(department: str, r: pb.IngestRecord, received_at: datetime | None = None) -> Submitted:
    rejection = None
    event_time = datetime(1970, 1, 1, tzinfo=UTC)
    if r.event_time.seconds == 0 and r.event_time.nanos == 0:
        rejection = RecordRejected("ERROR_REASON_FIELD_REQUIRED", "event_time is required", "event_time")
    else:
        try:
            event_time = r.event_time.ToDatetime(tzinfo=UTC)
        except (ValueError, OverflowError):
            rejection = RecordRejected("ERROR_REASON_FIELD_OUT_OF_RANGE", "event_time is out of range", "event_time")
    record = IncomingRecord(
        department=department,
        item_code=r.item_code,
        source_record_id=r.source_record_id,
        source_version=r.source_version,
        uscc=r.uscc,
        event_time=event_time,
        fields={name: value_from(v) for name, v in r.fields.items()},
        list_version=r.list_version,
    )
    return Submitted(r.sequence, record, rejection)


def result_to(r: uc.Result) -> pb.RecordResult:
    return pb.RecordResult(
        sequence=r.sequence,
        outcome=_OUTCOMES[r.outcome],
        reason=r.reason or None,
        message=r.message,
        field=r.field,
        record=r.record_name,
        on_time=r.on_time,
        due_time=timestamp(r.due_time),
    )


def _count(counts: pb.OutcomeCounts, outcome: Outcome) -> None:
    name = outcome.value.lower()
    setattr(counts, name, getattr(counts, name) + 1)


def _fields(
    item: Item | None, values: Mapping[str, FieldValue], raw: bool, also: Item | None = None
) -> tuple[dict[str, pb.FieldValue], bool]:
    """The values, personal fields masked unless ``raw``: those ``item`` marks and, for an older version of a record,
    those its current version's list (``also``) marks too, so neither list's change of mind unmasks a field."""
    if not raw and item is None and also is None:
        # No list says which fields are personal (a validated record always has its item): every value is hidden.
        return {k: value_to(mask_full(str(v))) for k, v in values.items()}, True
    shown: dict[str, object] = dict(values)
    masked = False
    for marking in () if raw else (also, item):  # the version's own list last: its mask wins for a field both mark
        if marking is None or not marking.personal_fields:
            continue
        masked_values = marking.mask_personal(values)
        shown.update({f.name: masked_values[f.name] for f in marking.personal_fields if f.name in values})
        masked = True
    return {k: value_to(v) for k, v in shown.items()}, masked


def provenance(v: StoredVersion, item: Item | None) -> pb.Provenance:
    return pb.Provenance(
        kind=to_proto_enum(pb.ProvenanceKind, "PROVENANCE_KIND", v.kind),
        department=f"departments/{v.department}",
        source_record_id="",
        source_version=v.source_version,
        list_version=v.list_version,
        receive_time=timestamp(v.received_at),
        due_time=timestamp(v.due_time),
        on_time=v.on_time,
        objection=v.objection,
        fingerprint=v.fingerprint,
    )


def credit_record(view: RecordView, raw: bool) -> pb.CreditRecord:
    v, h = view.version, view.head
    item = view.sharing_list.item(v.item_code)
    fields, masked = _fields(item, v.fields, raw)
    prov = provenance(v, item)
    prov.source_record_id = h.source_record_id
    return pb.CreditRecord(
        name=h.name,
        uscc=v.uscc,
        item_code=v.item_code,
        category=to_proto_enum(sl_pb.ItemCategory, "ITEM_CATEGORY", item.category) if item else None,
        openness=to_proto_enum(sl_pb.Openness, "OPENNESS", item.openness) if item else None,
        state=pb.RECORD_STATE_REMOVED if v.state is RecordState.REMOVED else pb.RECORD_STATE_CURRENT,
        version=v.version,
        fields=fields,
        event_time=timestamp(v.event_time),
        provenance=prov,
        disputes=[pb.RecordDispute(objection=d.objection, set_time=timestamp(d.set_at)) for d in view.open_disputes],
        statements=view.statements,
        personal_data_masked=masked,
        create_time=timestamp(h.created_at),
        # a flag's end changes the record's disputes as much as its start does
        update_time=timestamp(max([h.updated_at, *(d.cleared_at or d.set_at for d in view.disputes)])),
        # The version governing openness and masks governs the publicity period too; readers compare it with their now.
        publicity_end_time=timestamp(item.publicity_ends(v.event_time)) if item else None,
    )


def record_version(v: StoredVersion, sharing_list: SharingList, view: RecordView, raw: bool) -> pb.RecordVersion:
    """One version of a record, masked as the list version it was validated under says and as the record's current
    version's list says: a later list that stops (or starts) marking a field personal unmasks no version."""
    item = sharing_list.item(v.item_code)
    fields, _ = _fields(item, v.fields, raw, also=view.sharing_list.item(v.item_code))
    prov = provenance(v, item)
    prov.source_record_id = view.head.source_record_id
    return pb.RecordVersion(
        version=v.version,
        fields=fields,
        event_time=timestamp(v.event_time),
        provenance=prov,
        valid_from=timestamp(v.valid_from),
        valid_to=timestamp(v.valid_to),
    )


_RECORD_ID = re.compile(r"[0-9a-f]{32}")


def _record_name(name: str, field: str = "name") -> dict[str, str]:
    """``record_id`` and ``uscc`` of "enterprises/{uscc}/records/{record_id}", for the use cases: exactly the
    record's one name (another spelling would let an objection dispute one record twice)."""
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "enterprises" or parts[2] != "records" or not _RECORD_ID.fullmatch(parts[3]):
        raise validation.invalid(field, "must look like enterprises/{uscc}/records/{record_id}")
    return {"record_id": parts[3], "uscc": parts[1]}


def _raw(view: int) -> bool:
    return view == pb.PERSONAL_DATA_VIEW_RAW


def field_schema(f: FieldSchema) -> sl_pb.FieldSchema:
    out = sl_pb.FieldSchema(
        name=f.name,
        label=f.label,
        type=to_proto_enum(sl_pb.FieldType, "FIELD_TYPE", f.type),
        required=f.required,
        max_length=f.max_length or 0,
        pattern=f.pattern or "",
        values=list(f.values),
        personal=f.personal,
        mask=to_proto_enum(sl_pb.MaskKind, "MASK_KIND", f.mask) if f.mask else None,
    )
    if f.minimum is not None:
        out.minimum = format(f.minimum, "f")
    if f.maximum is not None:
        out.maximum = format(f.maximum, "f")
    if f.scale is not None:
        out.scale = f.scale
    return out


def sharing_list_to(s: SharingList) -> sl_pb.SharingList:
    return sl_pb.SharingList(
        version=s.version,
        title=s.title,
        extends=s.extends,
        effective_from=sl_pb.CalendarDate(
            year=s.effective_from.year, month=s.effective_from.month, day=s.effective_from.day
        ),
        departments=[
            sl_pb.SharingListDepartment(
                code=d.code, display_name=d.name, kind=to_proto_enum(part_pb.DepartmentKind, "DEPARTMENT_KIND", d.kind)
            )
            for d in s.departments
        ],
        items=[
            sl_pb.SharingListItem(
                code=i.code,
                name=i.name,
                category=to_proto_enum(sl_pb.ItemCategory, "ITEM_CATEGORY", i.category),
                department=i.department,
                sharing_method=to_proto_enum(sl_pb.SharingMethod, "SHARING_METHOD", i.sharing_method),
                deadline=sl_pb.Deadline(
                    kind=to_proto_enum(sl_pb.DeadlineKind, "DEADLINE_KIND", i.deadline.kind), amount=i.deadline.amount
                ),
                openness=to_proto_enum(sl_pb.Openness, "OPENNESS", i.openness),
                extends_national=i.extends_national,
                publicity_months=i.publicity_months or 0,
                fields=[field_schema(f) for f in i.fields],
            )
            for i in s.items
        ],
    )


def version_to(
    entry: ListEntry, s: SharingList, grace_until: datetime | None, published: bool = True
) -> sl_pb.SharingListVersion:
    return sl_pb.SharingListVersion(
        name=f"sharingLists/{entry.version}",
        version=entry.version,
        title=s.title,
        effective_from=sl_pb.CalendarDate(
            year=s.effective_from.year, month=s.effective_from.month, day=s.effective_from.day
        ),
        item_count=len(s.items),
        digest=entry.digest,
        publish_time=timestamp(entry.published_at) if published else None,
        published_by=entry.published_by,
        note=entry.note,
        supersede_time=timestamp(entry.superseded_at),
        accept_records_until=timestamp(grace_until),
    )


def diff_to(d: SharingListDiff | None) -> sl_pb.SharingListDiff | None:
    if d is None:
        return None
    return sl_pb.SharingListDiff(
        from_version=d.from_version,
        to_version=d.to_version,
        changes=[
            sl_pb.SharingListChange(
                path=c.path,
                kind=to_proto_enum(sl_pb.SharingListChangeKind, "SHARING_LIST_CHANGE_KIND", c.kind),
                before=c.before,
                after=c.after,
                breaking=c.breaking,
            )
            for c in d.changes
        ],
        breaking=d.breaking,
    )


# --------------------------------------------------------------------------------------------------- servicers


class RecordIngestion(pb_grpc.RecordIngestionServiceServicer):
    def __init__(
        self, writer: UowFactory, cache: CatalogueCache, notifier: CommitNotifier, clock: Clock, calendar: WorkingDays
    ) -> None:
        self.writer, self.cache, self.notifier, self.clock = writer, cache, notifier, clock
        # calendar is the official working-day calendar delivery deadlines are moved off rest days on.
        self.calendar = calendar

    def _department(self, context: grpc.ServicerContext) -> str:
        department = department_of(context)
        uc.check_department(self.writer(), department)
        return department

    def StreamRecords(self, request_iterator: Iterator[pb.StreamRecordsRequest], context: grpc.ServicerContext) -> Any:
        department = self._department(context)
        stream_id = ""
        last_seen = 0
        position = 0
        response = pb.StreamRecordsResponse()
        buffer: list[Submitted] = []

        def flush() -> None:
            nonlocal position, buffer
            if not buffer:
                return
            outcome = uc.ingest_chunk(
                self.writer(),
                self.cache,
                department=department,
                items=buffer,
                batch=f"streams/{stream_id}",
                stream_id=stream_id,
                now=self.clock(),
                calendar=self.calendar,
            )
            buffer = []
            position = max(position, outcome.position)
            if outcome.changed:
                self.notifier.notify()
            for r in outcome.results:
                _count(response.counts, r.outcome)
                if r.outcome is not Outcome.ACCEPTED:
                    if len(response.results) < MAX_RESULTS:
                        response.results.append(result_to(r))
                    else:
                        response.results_truncated = True

        def take(message: pb.StreamRecordsRequest, arrived: datetime) -> None:
            nonlocal stream_id, position, last_seen
            if not stream_id:
                stream_id = validation.text("stream_id", message.stream_id, max_len=MAX_STREAM_ID)
                position = uc.stream_position(self.writer(), department, stream_id)
            elif message.stream_id and message.stream_id.strip() != stream_id:  # compared as the first was kept
                raise validation.invalid("stream_id", "must not change within a stream")
            for r in message.records:
                if r.sequence <= last_seen:
                    raise InvalidArgument(
                        "ERROR_REASON_STREAM_SEQUENCE_INVALID",
                        "sequence must increase strictly along the stream",
                        {"field": "records.sequence", "last_acknowledged_sequence": str(position)},
                    )
                last_seen = r.sequence
                buffer.append(incoming(department, r, arrived))

        # What arrived while the last chunk was being stored goes into the next one, up to STREAM_CHUNK; whenever
        # nothing more is waiting, what is in hand is stored. A burst is stored in large chunks, and a department
        # pushing records as they happen has each one stored (and its deadline judged) as it arrives, not once a
        # chunk fills or the stream ends.
        arrivals = StreamArrivals(request_iterator, self.clock)
        try:
            ended = False
            while not ended:
                arrived = arrivals.get(wait=True)
                while isinstance(arrived, tuple):
                    take(*arrived)
                    arrived = arrivals.get(wait=False) if len(buffer) < STREAM_CHUNK else NOTHING_YET
                ended = arrived is None
                flush()
        finally:
            arrivals.close()
        response.last_acknowledged_sequence = position
        return response

    def GetStreamPosition(self, request: pb.GetStreamPositionRequest, context: grpc.ServicerContext) -> Any:
        department = self._department(context)
        stream_id = validation.text("stream_id", request.stream_id, max_len=MAX_STREAM_ID)
        return pb.GetStreamPositionResponse(
            last_acknowledged_sequence=uc.stream_position(self.writer(), department, stream_id)
        )

    def IngestBatch(self, request: pb.IngestBatchRequest, context: grpc.ServicerContext) -> Any:
        department = self._department(context)
        request_id = validation.request_id(request.request_id)
        items = [incoming(department, r) for r in request.records]
        results, changed = uc.ingest_batch(
            self.writer,
            self.cache,
            department=department,
            request_id=request_id,
            fingerprint=fingerprint(request, "request_id"),
            items=items,
            now=self.clock(),
            calendar=self.calendar,
        )
        if changed:
            self.notifier.notify()
        response = pb.IngestBatchResponse(results=[result_to(r) for r in results])
        for r in results:
            _count(response.counts, r.outcome)
        return response


class Records(pb_grpc.RecordServiceServicer):
    def __init__(
        self, writer: UowFactory, reader: UowFactory, cache: CatalogueCache, notifier: CommitNotifier, clock: Clock
    ) -> None:
        self.writer, self.reader, self.cache, self.notifier, self.clock = writer, reader, cache, notifier, clock

    def ListEnterpriseRecords(self, request: pb.ListEnterpriseRecordsRequest, context: grpc.ServicerContext) -> Any:
        uscc = checks.uscc_of(request.parent, "parent")
        size = paging.page_size(request.page_size)
        item_codes: list[str] | None = checks.item_codes(request.item_codes) or None
        wanted = categories_named(request.categories) if request.categories else None
        query = ["records", uscc, sorted(request.item_codes), sorted(request.categories), request.as_of.seconds,
                 request.as_of.nanos, request.include_removed]  # fmt: skip
        after = _records_after(request.page_token, query)
        as_of = from_timestamp(request.as_of, "as_of", required=False)
        with self.reader() as uow:
            catalogue = self.cache.get(uow)
        if wanted is not None:
            by_category = {i.code for v in catalogue.versions for i in v.sharing_list.items if i.category in wanted}
            item_codes = sorted(by_category & set(item_codes) if item_codes else by_category)
        views, revision, last = uc.list_enterprise_records(
            self.reader(),
            self.cache,
            uscc=uscc,
            item_codes=item_codes,
            as_of=as_of,
            include_removed=request.include_removed,
            after=after,
            limit=size,
            categories=wanted,
        )
        raw = _raw(request.view)
        return pb.ListEnterpriseRecordsResponse(
            records=[credit_record(v, raw) for v in views],
            next_page_token=paging.encode_token(last, query) if last else "",
            revision=revision,
            publicity_known=True,
        )

    def GetRecord(self, request: pb.GetRecordRequest, context: grpc.ServicerContext) -> Any:
        view, versions = uc.get_record(self.reader(), self.cache, **_record_name(request.name))
        raw = _raw(request.view)
        return pb.GetRecordResponse(
            record=credit_record(view, raw),
            versions=[record_version(v, sl, view, raw) for v, sl in versions] if request.include_history else [],
        )

    def SetRecordDispute(self, request: pb.SetRecordDisputeRequest, context: grpc.ServicerContext) -> Any:
        objection = _objection(request.objection)
        view = uc.set_dispute(
            self.writer(), self.cache, **_record_name(request.name), objection=objection, now=self.clock()
        )
        self.notifier.notify()
        return pb.SetRecordDisputeResponse(record=credit_record(view, raw=False))

    def AttachRecordStatement(self, request: pb.AttachRecordStatementRequest, context: grpc.ServicerContext) -> Any:
        view = uc.attach_statement(
            self.writer(),
            self.cache,
            **_record_name(request.name),
            objection=_objection(request.objection),
            statement=validation.text("statement", request.statement, max_len=2000),
        )
        self.notifier.notify()
        return pb.AttachRecordStatementResponse(record=credit_record(view, raw=False))

    def ClearRecordDispute(self, request: pb.ClearRecordDisputeRequest, context: grpc.ServicerContext) -> Any:
        objection = _objection(request.objection)
        outcome = from_proto_enum(pb.DisputeOutcome, "DISPUTE_OUTCOME", request.outcome, DisputeOutcome, "outcome")
        statement = validation.text("statement", request.statement, max_len=2000, required=False)
        view = uc.clear_dispute(
            self.writer(),
            self.cache,
            **_record_name(request.name),
            objection=objection,
            outcome=outcome,
            corrected_fields={k: value_from(v) for k, v in request.corrected_fields.items()},
            statement=statement,
            now=self.clock(),
            disputed_version=max(0, request.disputed_version),
        )
        self.notifier.notify()
        return pb.ClearRecordDisputeResponse(record=credit_record(view, raw=False))

    def WatchRecordChanges(self, request: pb.WatchRecordChangesRequest, context: grpc.ServicerContext) -> Any:
        return RecordWatch(self.reader, self.cache, self.notifier)(request, context)

    def GetTimeliness(self, request: pb.GetTimelinessRequest, context: grpc.ServicerContext) -> Any:
        end = from_timestamp(request.end_time, "end_time", required=False)
        if end is not None and end < EARLIEST_EVENT:
            # no record is older; and the default window, the 30 days before the end, is no date from year 1
            raise validation.invalid("end_time", "is before 1900-01-01 (UTC)")
        rows, start, end = uc.timeliness(
            self.reader(),
            self.cache,
            departments=set(request.departments),
            item_codes=set(request.item_codes),
            start=from_timestamp(request.start_time, "start_time", required=False),
            end=end,
            now=self.clock(),
        )
        if start >= end:
            raise validation.invalid("start_time", "must be before end_time")
        items = []
        for r in rows:
            f = r.figures
            by_reason = sorted(f.rejected_by_reason.items(), key=lambda kv: (-kv[1], kv[0]))
            items.append(
                pb.ItemTimeliness(
                    department=r.department,
                    item_code=r.item_code,
                    first_deliveries=f.first_deliveries,
                    on_time=f.on_time,
                    late=r.late,
                    on_time_share=r.on_time_share,
                    rejected=sum(f.rejected_by_reason.values()),
                    schema_rejected=sum(n for k, n in f.rejected_by_reason.items() if k in uc.SCHEMA_REASONS),
                    rejections_by_reason=[pb.ReasonCount(reason=k, count=n) for k, n in by_reason],
                    duplicates=f.duplicates,
                    no_data=r.no_data,
                    last_receive_time=timestamp(f.last_receive_time),
                )
            )
        return pb.GetTimelinessResponse(items=items, start_time=timestamp(start), end_time=timestamp(end))


def _records_after(token: str, query: object) -> str | None:
    """The position of a record listing's token: the JSON [item code, event time, record id] that ``page_key``
    writes, or INVALID_PAGE_TOKEN."""
    after = paging.decode_token(token, query)
    if after is None:
        return None
    try:
        item, event, record_id = json.loads(after)
        valid = (
            checks.ITEM_CODE.fullmatch(item) is not None
            and _RECORD_ID.fullmatch(record_id) is not None
            and _utc_instant(event)
        )
    except (ValueError, TypeError, OverflowError):
        valid = False
    if not valid:
        raise paging.bad_page_token()
    return after


def _utc_instant(text: str) -> bool:
    """Whether ``text`` is an aware time the event-time column can hold: it is bound in UTC, where a forged
    0001-01-01T00:00+08:00 (or a late 9999 behind UTC) is no date at all and failed as INTERNAL."""
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        return False
    at.astimezone(UTC)  # OverflowError outside the years 1-9999 in UTC
    return True


_OBJECTION = re.compile(r"objections/[^/\x00-\x20\x7f-\x9f]+")


def _objection(name: str) -> str:
    """ "objections/{id}": one id without slashes, spaces or control characters (it is stored as given)."""
    if len(name) > 80 or not _OBJECTION.fullmatch(name):
        raise validation.invalid("objection", "must look like objections/{id}")
    return name


class SharingLists(sl_grpc.SharingListServiceServicer):
    def __init__(self, writer: UowFactory, reader: UowFactory, cache: CatalogueCache, clock: Clock) -> None:
        self.writer, self.reader, self.cache, self.clock = writer, reader, cache, clock

    def _version(self, number: int) -> tuple[ListEntry, SharingList, datetime | None]:
        with self.reader() as uow:
            catalogue = self.cache.get(uow)
            entries = self.cache.entries(uow)
        found = catalogue.get(number)
        entry = next(e for e in entries if e.version == found.version)
        return entry, found.sharing_list, found.accept_records_until(catalogue.grace)

    def GetSharingList(self, request: sl_pb.GetSharingListRequest, context: grpc.ServicerContext) -> Any:
        entry, s, until = self._version(request.version)
        return sl_pb.GetSharingListResponse(
            version=version_to(entry, s, until),
            sharing_list=sharing_list_to(s),
            yaml_text=entry.yaml_text if request.include_yaml else "",
        )

    def ListSharingListVersions(
        self, request: sl_pb.ListSharingListVersionsRequest, context: grpc.ServicerContext
    ) -> Any:
        if request.page_size < 0:
            raise validation.invalid("page_size", "must not be negative")
        size = min(request.page_size or 50, 500)
        after = paging.decode_index_token(request.page_token, ["sharing-lists"])
        with self.reader() as uow:
            catalogue = self.cache.get(uow)
            entries = self.cache.entries(uow)
        newest_first = [e for e in reversed(entries) if after is None or e.version < after]
        page = newest_first[:size]
        out = []
        for e in page:
            found = catalogue.get(e.version)
            out.append(version_to(e, found.sharing_list, found.accept_records_until(catalogue.grace)))
        token = paging.encode_token(str(page[-1].version), ["sharing-lists"]) if len(newest_first) > size else ""
        return sl_pb.ListSharingListVersionsResponse(versions=out, next_page_token=token)

    def PublishSharingList(self, request: sl_pb.PublishSharingListRequest, context: grpc.ServicerContext) -> Any:
        source = request.WhichOneof("source") or "yaml_text"
        if source == "content":
            if request.content.ByteSize() > MAX_SHARING_LIST_CHARS:  # checked before the (slow) dump to YAML too
                raise validation.invalid(source, f"longer than {MAX_SHARING_LIST_CHARS} characters as YAML")
            # The YAML form is the list's source of truth; structured content is converted to it.
            text = yaml.safe_dump(_content_mapping(request.content), allow_unicode=True, sort_keys=False)
        else:
            text = request.yaml_text
        if not text.strip():
            raise validation.invalid("yaml_text", "is required")
        if len(text) > MAX_SHARING_LIST_CHARS:
            raise validation.invalid(source, f"longer than {MAX_SHARING_LIST_CHARS} characters as YAML")
        new = parse_sharing_list(text)
        by = validation.text("change.actor", request.change.actor, max_len=200)
        note = validation.text("change.reason", request.change.reason, max_len=2000)
        entry, diff = uc.publish_sharing_list(
            self.writer(), self.cache, new, by=by, note=note, now=self.clock(), validate_only=request.validate_only
        )
        return sl_pb.PublishSharingListResponse(
            version=version_to(entry, new, None, published=not request.validate_only), diff=diff_to(diff)
        )

    def DiffSharingListVersions(
        self, request: sl_pb.DiffSharingListVersionsRequest, context: grpc.ServicerContext
    ) -> Any:
        _, old, _ = self._version(request.from_version) if request.from_version else (None, None, None)
        if old is None:
            raise validation.invalid("from_version", "is required")
        _, new, _ = self._version(request.to_version)
        return sl_pb.DiffSharingListVersionsResponse(diff=diff_to(diff_sharing_lists(old, new)))


def _content_mapping(content: sl_pb.SharingList) -> dict[str, Any]:
    """The YAML structure of a structured list (the inverse of sharing_list_to)."""

    def short(enum: Any, prefix: str, number: int) -> str:
        # A number the contract does not define is passed on as such, so the list's validation names its path
        # (SHARING_LIST_INVALID) instead of the call failing as INTERNAL.
        if number not in enum.values():
            return str(number)
        return str(enum.Name(number)).removeprefix(prefix + "_")

    def field(f: sl_pb.FieldSchema) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": f.name,
            "label": f.label,
            "type": short(sl_pb.FieldType, "FIELD_TYPE", f.type).lower(),
        }
        if f.max_length:
            out["max_length"] = f.max_length
        if f.pattern:
            out["pattern"] = f.pattern
        if f.values:
            out["values"] = list(f.values)
        if f.HasField("minimum"):
            out["min"] = f.minimum
        if f.HasField("maximum"):
            out["max"] = f.maximum
        if f.HasField("scale"):
            out["scale"] = f.scale
        out["required"] = f.required
        if f.personal:
            out["personal"] = True
        if f.personal or f.mask:
            # A mask on a field not marked personal contradicts itself: passed on, validation refuses it, where
            # dropping it would publish the field unmasked.
            out["mask"] = short(sl_pb.MaskKind, "MASK_KIND", f.mask)
        return out

    deadline_keys = {"WITHIN_HOURS": "within_hours", "WITHIN_DAYS": "within_days",
                     "DAY_OF_FOLLOWING_MONTH": "day_of_following_month"}  # fmt: skip
    d = content.effective_from
    return {
        "version": content.version,
        "title": content.title,
        "extends": content.extends,
        "effective_from": f"{d.year:04d}-{d.month:02d}-{d.day:02d}",
        "departments": [
            {"code": x.code, "name": x.display_name, "kind": short(part_pb.DepartmentKind, "DEPARTMENT_KIND", x.kind)}
            for x in content.departments
        ],
        "items": [
            {
                "code": i.code,
                "name": i.name,
                "category": short(sl_pb.ItemCategory, "ITEM_CATEGORY", i.category),
                "department": i.department,
                "sharing_method": short(sl_pb.SharingMethod, "SHARING_METHOD", i.sharing_method),
                "deadline": {
                    deadline_keys.get(
                        short(sl_pb.DeadlineKind, "DEADLINE_KIND", i.deadline.kind), "?"
                    ): i.deadline.amount
                },
                "openness": short(sl_pb.Openness, "OPENNESS", i.openness),
                "extends_national": i.extends_national,
                **({"publicity_months": i.publicity_months} if i.publicity_months else {}),
                "fields": [field(f) for f in i.fields],
            }
            for i in content.items
        ],
    }
