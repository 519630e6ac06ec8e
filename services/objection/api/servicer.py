"""The objection gRPC servicer: validate the wire message, call a use case, convert the answer. Nothing more."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import grpc

from creditnode.objection.v1 import objection_service_pb2 as pb
from creditnode.objection.v1 import objection_service_pb2_grpc as pb_grpc
from services.kit import paging, validation
from services.kit.protos import fingerprint, from_proto_enum, from_timestamp
from services.kit.workdays import local_date
from services.objection import usecases
from services.objection.api import convert
from services.objection.domain import (
    EVALUATION_HANDLER,
    FileObjection,
    Filer,
    FilerKind,
    ObjectionFilter,
    ObjectionStatus,
    Outcome,
    RecordRef,
)
from services.objection.usecases import Idempotency, Lookups, UowFactory

Clock = Callable[[], datetime]
MissingYears = Callable[[date], tuple[int, ...]]


def _objection_id(name: str) -> str:
    oid = validation.resource_id("name", name, "objections")
    if not oid or "/" in oid or len(oid) > 200:
        raise validation.invalid("name", "must look like objections/{id}")
    # A control character would reach the database (a NUL fails in PostgreSQL as INTERNAL): no id of ours has one.
    if validation.text("name", oid, max_len=200) != oid:
        raise validation.invalid("name", "must look like objections/{id}")
    return oid


def _prefixed(field: str, value: str, prefixes: tuple[str, ...], *, required: bool = True) -> str:
    if not value and not required:
        return ""
    if value == EVALUATION_HANDLER and EVALUATION_HANDLER in prefixes:
        return value
    if not any(value.startswith(p) and len(value) > len(p) for p in prefixes):
        shapes = (p if p == EVALUATION_HANDLER else f"{p}{{id}}" for p in prefixes)
        raise validation.invalid(field, "must look like " + " or ".join(shapes))
    return validation.text(field, value, max_len=200)


class ObjectionApi(pb_grpc.ObjectionServiceServicer):
    """``creditnode.objection.v1.ObjectionService``."""

    def __init__(
        self, writer: UowFactory, reader: UowFactory, lookups: Lookups, clock: Clock, missing_years: MissingYears
    ) -> None:
        self.writer, self.reader, self.lookups, self.clock = writer, reader, lookups, clock
        self.missing_years = missing_years

    def FileObjection(
        self, request: pb.FileObjectionRequest, context: grpc.ServicerContext
    ) -> pb.FileObjectionResponse:
        now = self.clock()
        platform = _prefixed("platform", request.platform, ("platforms/",))
        kind = from_proto_enum(pb.FilerKind, "FILER_KIND", request.filer_kind, FilerKind, "filer_kind")
        if kind is FilerKind.ENTERPRISE:
            filer_id = _prefixed("filer", request.filer, ("enterprises/",)).removeprefix("enterprises/")
        else:
            filer_id = _prefixed("filer", request.filer, ("institutions/",))
        received = from_timestamp(request.receive_time, "receive_time")
        assert received is not None
        evaluation = convert.evaluation_from(request.evaluation, "evaluation") if request.evaluation else None
        command = FileObjection(
            objection_id=usecases.new_objection_id(platform, validation.request_id(request.request_id)),
            platform=platform,
            filer=Filer(kind, filer_id),
            # Checked here too: for an institution it is looked up in the gateway's log before anything else.
            enterprise=validation.text("enterprise", request.enterprise, max_len=200, required=False),
            reasons=request.reasons,
            received_at=received,
            forwarded_at=now,
            records=tuple(RecordRef(r.record, r.version) for r in request.records),
            evaluation=evaluation,
            attachments=tuple(request.attachment_sha256),
            statement=request.statement or None,
        )
        idem = Idempotency(request.request_id, fingerprint(request, "request_id"))
        objection = usecases.file(self.writer, self.reader, self.lookups, command, idem, now)
        return pb.FileObjectionResponse(objection=convert.objection(objection, now, with_timeline=True))

    def GetObjection(self, request: pb.GetObjectionRequest, context: grpc.ServicerContext) -> pb.GetObjectionResponse:
        requester = _prefixed(
            "requester",
            request.requester,
            ("enterprises/", "platforms/", "institutions/", "departments/", "supervisors/", EVALUATION_HANDLER),
        )
        objection = usecases.get(self.reader, _objection_id(request.name), requester)
        return pb.GetObjectionResponse(objection=convert.objection(objection, self.clock(), with_timeline=True))

    def ListObjections(
        self, request: pb.ListObjectionsRequest, context: grpc.ServicerContext
    ) -> pb.ListObjectionsResponse:
        now = self.clock()
        status = (
            from_proto_enum(pb.ObjectionStatus, "OBJECTION_STATUS", request.status, ObjectionStatus, "status")
            if request.status
            else None
        )
        where = ObjectionFilter(
            status=status,
            platform=_prefixed("platform", request.platform, ("platforms/",), required=False) or None,
            department=_prefixed("department", request.department, ("departments/", EVALUATION_HANDLER), required=False)
            or None,
            enterprise=validation.text("enterprise", request.enterprise, max_len=200, required=False) or None,
        )
        query = ["list", request.status, request.platform, request.department, request.enterprise]
        limit = paging.page_size(request.page_size)
        after = paging.decode_token(request.page_token, query)
        # One more than the page: a token only when something follows (the last page has none).
        listing = usecases.list_objections(self.reader, where, after, limit + 1, now)
        page = listing.objections[:limit]
        response = pb.ListObjectionsResponse(
            objections=[convert.objection(o, now, with_timeline=False) for o in page],
            sla=convert.figures(listing.figures, self.missing_years(local_date(now))),
        )
        if len(listing.objections) > limit:
            response.next_page_token = paging.encode_token(page[-1].id, query)
        return response

    def AnswerObjection(
        self, request: pb.AnswerObjectionRequest, context: grpc.ServicerContext
    ) -> pb.AnswerObjectionResponse:
        now = self.clock()
        outcome = from_proto_enum(pb.Outcome, "OUTCOME", request.outcome, Outcome, "outcome")
        objection = usecases.answer(
            self.writer,
            self.lookups,
            _objection_id(request.name),
            # The scoring team answers evaluations as "node:scoring"; the domain refuses it for records.
            department=_prefixed("department", request.department, ("departments/", EVALUATION_HANDLER)),
            target=convert.target_from(request.target),
            outcome=outcome,
            corrected_version=request.corrected_version or None,
            idem=Idempotency(validation.request_id(request.request_id), fingerprint(request, "request_id")),
            now=now,
        )
        return pb.AnswerObjectionResponse(objection=convert.objection(objection, now, with_timeline=True))

    def AttachStatement(
        self, request: pb.AttachStatementRequest, context: grpc.ServicerContext
    ) -> pb.AttachStatementResponse:
        now = self.clock()
        objection = usecases.attach_statement(
            self.writer,
            _objection_id(request.name),
            enterprise=validation.text("enterprise", request.enterprise, max_len=200),
            target=convert.target_from(request.target),
            statement=request.statement,
            idem=Idempotency(validation.request_id(request.request_id), fingerprint(request, "request_id")),
            now=now,
        )
        return pb.AttachStatementResponse(objection=convert.objection(objection, now, with_timeline=True))

    def ExtendObjection(
        self, request: pb.ExtendObjectionRequest, context: grpc.ServicerContext
    ) -> pb.ExtendObjectionResponse:
        now = self.clock()
        objection = usecases.extend(
            self.writer,
            self.lookups.policy,
            _objection_id(request.name),
            days=request.days,
            reason=request.reason,
            by=validation.text("operator", request.operator, max_len=200),
            idem=Idempotency(validation.request_id(request.request_id), fingerprint(request, "request_id")),
            now=now,
        )
        return pb.ExtendObjectionResponse(objection=convert.objection(objection, now, with_timeline=True))

    def ListCorrectionNotices(
        self, request: pb.ListCorrectionNoticesRequest, context: grpc.ServicerContext
    ) -> pb.ListCorrectionNoticesResponse:
        recipient = _prefixed("recipient", request.recipient, ("platforms/", "institutions/"), required=False)
        query = ["notices", recipient]
        limit = paging.page_size(request.page_size)
        after = paging.decode_index_token(request.page_token, query)
        got = usecases.list_notices(self.reader, recipient or None, after, limit + 1)
        notices = got[:limit]
        response = pb.ListCorrectionNoticesResponse(notices=[convert.notice(n) for n in notices])
        if len(got) > limit:
            response.next_page_token = paging.encode_token(str(notices[-1].id), query)
        return response

    def ListOverdueObjections(
        self, request: pb.ListOverdueObjectionsRequest, context: grpc.ServicerContext
    ) -> pb.ListOverdueObjectionsResponse:
        now = self.clock()
        department = _prefixed("department", request.department, ("departments/", EVALUATION_HANDLER), required=False)
        query = ["overdue", department]
        limit = paging.page_size(request.page_size)
        after = paging.decode_token(request.page_token, query)
        got = usecases.list_overdue(self.reader, department or None, after, limit + 1, now)
        page = got[:limit]
        response = pb.ListOverdueObjectionsResponse(
            objections=[convert.objection(o, now, with_timeline=False) for o in page]
        )
        if len(got) > limit:
            response.next_page_token = paging.encode_token(page[-1].id, query)
        return response
