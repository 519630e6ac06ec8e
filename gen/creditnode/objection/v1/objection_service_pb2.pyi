import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FilerKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FILER_KIND_UNSPECIFIED: _ClassVar[FilerKind]
    FILER_KIND_ENTERPRISE: _ClassVar[FilerKind]
    FILER_KIND_INSTITUTION: _ClassVar[FilerKind]

class ObjectionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OBJECTION_STATUS_UNSPECIFIED: _ClassVar[ObjectionStatus]
    OBJECTION_STATUS_FORWARDED: _ClassVar[ObjectionStatus]
    OBJECTION_STATUS_ROUTED: _ClassVar[ObjectionStatus]
    OBJECTION_STATUS_RESOLVED: _ClassVar[ObjectionStatus]

class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTCOME_UNSPECIFIED: _ClassVar[Outcome]
    OUTCOME_CORRECTED: _ClassVar[Outcome]
    OUTCOME_UPHELD: _ClassVar[Outcome]
    OUTCOME_CANNOT_VERIFY: _ClassVar[Outcome]

class ForwardTimeliness(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FORWARD_TIMELINESS_UNSPECIFIED: _ClassVar[ForwardTimeliness]
    FORWARD_TIMELINESS_ON_TIME: _ClassVar[ForwardTimeliness]
    FORWARD_TIMELINESS_LATE: _ClassVar[ForwardTimeliness]
    FORWARD_TIMELINESS_UNKNOWN: _ClassVar[ForwardTimeliness]
FILER_KIND_UNSPECIFIED: FilerKind
FILER_KIND_ENTERPRISE: FilerKind
FILER_KIND_INSTITUTION: FilerKind
OBJECTION_STATUS_UNSPECIFIED: ObjectionStatus
OBJECTION_STATUS_FORWARDED: ObjectionStatus
OBJECTION_STATUS_ROUTED: ObjectionStatus
OBJECTION_STATUS_RESOLVED: ObjectionStatus
OUTCOME_UNSPECIFIED: Outcome
OUTCOME_CORRECTED: Outcome
OUTCOME_UPHELD: Outcome
OUTCOME_CANNOT_VERIFY: Outcome
FORWARD_TIMELINESS_UNSPECIFIED: ForwardTimeliness
FORWARD_TIMELINESS_ON_TIME: ForwardTimeliness
FORWARD_TIMELINESS_LATE: ForwardTimeliness
FORWARD_TIMELINESS_UNKNOWN: ForwardTimeliness

class Target(_message.Message):
    __slots__ = ("record", "evaluation")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    record: RecordTarget
    evaluation: str
    def __init__(self, record: _Optional[_Union[RecordTarget, _Mapping]] = ..., evaluation: _Optional[str] = ...) -> None: ...

class RecordTarget(_message.Message):
    __slots__ = ("record", "version")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    record: str
    version: int
    def __init__(self, record: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class DisputeLine(_message.Message):
    __slots__ = ("target", "item", "department", "route_time", "outcome", "answer_time", "corrected_version", "statement")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    ROUTE_TIME_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ANSWER_TIME_FIELD_NUMBER: _ClassVar[int]
    CORRECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    target: Target
    item: str
    department: str
    route_time: _timestamp_pb2.Timestamp
    outcome: Outcome
    answer_time: _timestamp_pb2.Timestamp
    corrected_version: int
    statement: str
    def __init__(self, target: _Optional[_Union[Target, _Mapping]] = ..., item: _Optional[str] = ..., department: _Optional[str] = ..., route_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., outcome: _Optional[_Union[Outcome, str]] = ..., answer_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., corrected_version: _Optional[int] = ..., statement: _Optional[str] = ...) -> None: ...

class TimelineEntry(_message.Message):
    __slots__ = ("seq", "time", "kind", "actor_kind", "actor", "target", "detail")
    class DetailEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACTOR_KIND_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    seq: int
    time: _timestamp_pb2.Timestamp
    kind: str
    actor_kind: str
    actor: str
    target: Target
    detail: _containers.ScalarMap[str, str]
    def __init__(self, seq: _Optional[int] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[str] = ..., actor_kind: _Optional[str] = ..., actor: _Optional[str] = ..., target: _Optional[_Union[Target, _Mapping]] = ..., detail: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Extension(_message.Message):
    __slots__ = ("days", "reason", "extended_by", "time")
    DAYS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXTENDED_BY_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    days: int
    reason: str
    extended_by: str
    time: _timestamp_pb2.Timestamp
    def __init__(self, days: _Optional[int] = ..., reason: _Optional[str] = ..., extended_by: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Objection(_message.Message):
    __slots__ = ("name", "platform", "filer_kind", "filer", "enterprise", "reasons", "attachment_sha256", "receive_time", "forward_time", "forward_timeliness", "forward_due_time", "status", "handling_due_time", "resolve_time", "overdue", "lines", "extensions", "timeline")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    FILER_KIND_FIELD_NUMBER: _ClassVar[int]
    FILER_FIELD_NUMBER: _ClassVar[int]
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    RECEIVE_TIME_FIELD_NUMBER: _ClassVar[int]
    FORWARD_TIME_FIELD_NUMBER: _ClassVar[int]
    FORWARD_TIMELINESS_FIELD_NUMBER: _ClassVar[int]
    FORWARD_DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HANDLING_DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    RESOLVE_TIME_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    EXTENSIONS_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_FIELD_NUMBER: _ClassVar[int]
    name: str
    platform: str
    filer_kind: FilerKind
    filer: str
    enterprise: str
    reasons: str
    attachment_sha256: _containers.RepeatedScalarFieldContainer[str]
    receive_time: _timestamp_pb2.Timestamp
    forward_time: _timestamp_pb2.Timestamp
    forward_timeliness: ForwardTimeliness
    forward_due_time: _timestamp_pb2.Timestamp
    status: ObjectionStatus
    handling_due_time: _timestamp_pb2.Timestamp
    resolve_time: _timestamp_pb2.Timestamp
    overdue: bool
    lines: _containers.RepeatedCompositeFieldContainer[DisputeLine]
    extensions: _containers.RepeatedCompositeFieldContainer[Extension]
    timeline: _containers.RepeatedCompositeFieldContainer[TimelineEntry]
    def __init__(self, name: _Optional[str] = ..., platform: _Optional[str] = ..., filer_kind: _Optional[_Union[FilerKind, str]] = ..., filer: _Optional[str] = ..., enterprise: _Optional[str] = ..., reasons: _Optional[str] = ..., attachment_sha256: _Optional[_Iterable[str]] = ..., receive_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., forward_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., forward_timeliness: _Optional[_Union[ForwardTimeliness, str]] = ..., forward_due_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[_Union[ObjectionStatus, str]] = ..., handling_due_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolve_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., overdue: _Optional[bool] = ..., lines: _Optional[_Iterable[_Union[DisputeLine, _Mapping]]] = ..., extensions: _Optional[_Iterable[_Union[Extension, _Mapping]]] = ..., timeline: _Optional[_Iterable[_Union[TimelineEntry, _Mapping]]] = ...) -> None: ...

class Share(_message.Message):
    __slots__ = ("part", "whole")
    PART_FIELD_NUMBER: _ClassVar[int]
    WHOLE_FIELD_NUMBER: _ClassVar[int]
    part: int
    whole: int
    def __init__(self, part: _Optional[int] = ..., whole: _Optional[int] = ...) -> None: ...

class SlaFigures(_message.Message):
    __slots__ = ("objections", "open", "overdue", "forwarded_on_time", "forwarding_unknown", "handled_on_time", "median_forwarding_days", "median_handling_days", "calendar_missing_years")
    OBJECTIONS_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    FORWARDED_ON_TIME_FIELD_NUMBER: _ClassVar[int]
    FORWARDING_UNKNOWN_FIELD_NUMBER: _ClassVar[int]
    HANDLED_ON_TIME_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_FORWARDING_DAYS_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_HANDLING_DAYS_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_MISSING_YEARS_FIELD_NUMBER: _ClassVar[int]
    objections: int
    open: int
    overdue: int
    forwarded_on_time: Share
    forwarding_unknown: int
    handled_on_time: Share
    median_forwarding_days: float
    median_handling_days: float
    calendar_missing_years: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, objections: _Optional[int] = ..., open: _Optional[int] = ..., overdue: _Optional[int] = ..., forwarded_on_time: _Optional[_Union[Share, _Mapping]] = ..., forwarding_unknown: _Optional[int] = ..., handled_on_time: _Optional[_Union[Share, _Mapping]] = ..., median_forwarding_days: _Optional[float] = ..., median_handling_days: _Optional[float] = ..., calendar_missing_years: _Optional[_Iterable[int]] = ...) -> None: ...

class CorrectionNotice(_message.Message):
    __slots__ = ("name", "objection", "recipient", "enterprise", "changes", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OBJECTION_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    objection: str
    recipient: str
    enterprise: str
    changes: _containers.RepeatedCompositeFieldContainer[NoticeChange]
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., objection: _Optional[str] = ..., recipient: _Optional[str] = ..., enterprise: _Optional[str] = ..., changes: _Optional[_Iterable[_Union[NoticeChange, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class NoticeChange(_message.Message):
    __slots__ = ("target", "item", "outcome", "corrected_version")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CORRECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    target: Target
    item: str
    outcome: Outcome
    corrected_version: int
    def __init__(self, target: _Optional[_Union[Target, _Mapping]] = ..., item: _Optional[str] = ..., outcome: _Optional[_Union[Outcome, str]] = ..., corrected_version: _Optional[int] = ...) -> None: ...

class FileObjectionRequest(_message.Message):
    __slots__ = ("platform", "filer_kind", "filer", "enterprise", "records", "evaluation", "reasons", "attachment_sha256", "statement", "receive_time", "request_id")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    FILER_KIND_FIELD_NUMBER: _ClassVar[int]
    FILER_FIELD_NUMBER: _ClassVar[int]
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    RECEIVE_TIME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    platform: str
    filer_kind: FilerKind
    filer: str
    enterprise: str
    records: _containers.RepeatedCompositeFieldContainer[RecordTarget]
    evaluation: str
    reasons: str
    attachment_sha256: _containers.RepeatedScalarFieldContainer[str]
    statement: str
    receive_time: _timestamp_pb2.Timestamp
    request_id: str
    def __init__(self, platform: _Optional[str] = ..., filer_kind: _Optional[_Union[FilerKind, str]] = ..., filer: _Optional[str] = ..., enterprise: _Optional[str] = ..., records: _Optional[_Iterable[_Union[RecordTarget, _Mapping]]] = ..., evaluation: _Optional[str] = ..., reasons: _Optional[str] = ..., attachment_sha256: _Optional[_Iterable[str]] = ..., statement: _Optional[str] = ..., receive_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class FileObjectionResponse(_message.Message):
    __slots__ = ("objection",)
    OBJECTION_FIELD_NUMBER: _ClassVar[int]
    objection: Objection
    def __init__(self, objection: _Optional[_Union[Objection, _Mapping]] = ...) -> None: ...

class GetObjectionRequest(_message.Message):
    __slots__ = ("name", "requester")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_FIELD_NUMBER: _ClassVar[int]
    name: str
    requester: str
    def __init__(self, name: _Optional[str] = ..., requester: _Optional[str] = ...) -> None: ...

class GetObjectionResponse(_message.Message):
    __slots__ = ("objection",)
    OBJECTION_FIELD_NUMBER: _ClassVar[int]
    objection: Objection
    def __init__(self, objection: _Optional[_Union[Objection, _Mapping]] = ...) -> None: ...

class ListObjectionsRequest(_message.Message):
    __slots__ = ("status", "platform", "department", "enterprise", "page_size", "page_token")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    status: ObjectionStatus
    platform: str
    department: str
    enterprise: str
    page_size: int
    page_token: str
    def __init__(self, status: _Optional[_Union[ObjectionStatus, str]] = ..., platform: _Optional[str] = ..., department: _Optional[str] = ..., enterprise: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListObjectionsResponse(_message.Message):
    __slots__ = ("objections", "next_page_token", "sla")
    OBJECTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SLA_FIELD_NUMBER: _ClassVar[int]
    objections: _containers.RepeatedCompositeFieldContainer[Objection]
    next_page_token: str
    sla: SlaFigures
    def __init__(self, objections: _Optional[_Iterable[_Union[Objection, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., sla: _Optional[_Union[SlaFigures, _Mapping]] = ...) -> None: ...

class AnswerObjectionRequest(_message.Message):
    __slots__ = ("name", "department", "target", "outcome", "corrected_version", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CORRECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    department: str
    target: Target
    outcome: Outcome
    corrected_version: int
    request_id: str
    def __init__(self, name: _Optional[str] = ..., department: _Optional[str] = ..., target: _Optional[_Union[Target, _Mapping]] = ..., outcome: _Optional[_Union[Outcome, str]] = ..., corrected_version: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class AnswerObjectionResponse(_message.Message):
    __slots__ = ("objection",)
    OBJECTION_FIELD_NUMBER: _ClassVar[int]
    objection: Objection
    def __init__(self, objection: _Optional[_Union[Objection, _Mapping]] = ...) -> None: ...

class AttachStatementRequest(_message.Message):
    __slots__ = ("name", "enterprise", "target", "statement", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    enterprise: str
    target: Target
    statement: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., enterprise: _Optional[str] = ..., target: _Optional[_Union[Target, _Mapping]] = ..., statement: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class AttachStatementResponse(_message.Message):
    __slots__ = ("objection",)
    OBJECTION_FIELD_NUMBER: _ClassVar[int]
    objection: Objection
    def __init__(self, objection: _Optional[_Union[Objection, _Mapping]] = ...) -> None: ...

class ExtendObjectionRequest(_message.Message):
    __slots__ = ("name", "days", "reason", "operator", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    days: int
    reason: str
    operator: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., days: _Optional[int] = ..., reason: _Optional[str] = ..., operator: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ExtendObjectionResponse(_message.Message):
    __slots__ = ("objection",)
    OBJECTION_FIELD_NUMBER: _ClassVar[int]
    objection: Objection
    def __init__(self, objection: _Optional[_Union[Objection, _Mapping]] = ...) -> None: ...

class ListCorrectionNoticesRequest(_message.Message):
    __slots__ = ("recipient", "page_size", "page_token")
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    recipient: str
    page_size: int
    page_token: str
    def __init__(self, recipient: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCorrectionNoticesResponse(_message.Message):
    __slots__ = ("notices", "next_page_token")
    NOTICES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    notices: _containers.RepeatedCompositeFieldContainer[CorrectionNotice]
    next_page_token: str
    def __init__(self, notices: _Optional[_Iterable[_Union[CorrectionNotice, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListOverdueObjectionsRequest(_message.Message):
    __slots__ = ("department", "page_size", "page_token")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    department: str
    page_size: int
    page_token: str
    def __init__(self, department: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOverdueObjectionsResponse(_message.Message):
    __slots__ = ("objections", "next_page_token")
    OBJECTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    objections: _containers.RepeatedCompositeFieldContainer[Objection]
    next_page_token: str
    def __init__(self, objections: _Optional[_Iterable[_Union[Objection, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
