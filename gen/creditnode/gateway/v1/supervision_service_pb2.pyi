import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FindingRule(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FINDING_RULE_UNSPECIFIED: _ClassVar[FindingRule]
    FINDING_RULE_UNAUTHORIZED_BREADTH: _ClassVar[FindingRule]
    FINDING_RULE_DENIAL_BURST: _ClassVar[FindingRule]
    FINDING_RULE_PURPOSE_PATTERN: _ClassVar[FindingRule]
    FINDING_RULE_RELEASE_AFTER_SUSPENSION: _ClassVar[FindingRule]
FINDING_RULE_UNSPECIFIED: FindingRule
FINDING_RULE_UNAUTHORIZED_BREADTH: FindingRule
FINDING_RULE_DENIAL_BURST: FindingRule
FINDING_RULE_PURPOSE_PATTERN: FindingRule
FINDING_RULE_RELEASE_AFTER_SUSPENSION: FindingRule

class Finding(_message.Message):
    __slots__ = ("name", "rule", "platform", "subject", "day", "count", "detail", "leaf_indices", "create_time", "report_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    LEAF_INDICES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    REPORT_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    rule: FindingRule
    platform: str
    subject: str
    day: str
    count: int
    detail: str
    leaf_indices: _containers.RepeatedScalarFieldContainer[int]
    create_time: _timestamp_pb2.Timestamp
    report_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., rule: _Optional[_Union[FindingRule, str]] = ..., platform: _Optional[str] = ..., subject: _Optional[str] = ..., day: _Optional[str] = ..., count: _Optional[int] = ..., detail: _Optional[str] = ..., leaf_indices: _Optional[_Iterable[int]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., report_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RunSupervisionRequest(_message.Message):
    __slots__ = ("start_time", "end_time")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RunSupervisionResponse(_message.Message):
    __slots__ = ("findings", "leaves_scanned")
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    LEAVES_SCANNED_FIELD_NUMBER: _ClassVar[int]
    findings: _containers.RepeatedCompositeFieldContainer[Finding]
    leaves_scanned: int
    def __init__(self, findings: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., leaves_scanned: _Optional[int] = ...) -> None: ...

class ListFindingsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "platform", "rule")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    platform: str
    rule: FindingRule
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., platform: _Optional[str] = ..., rule: _Optional[_Union[FindingRule, str]] = ...) -> None: ...

class ListFindingsResponse(_message.Message):
    __slots__ = ("findings", "next_page_token")
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    findings: _containers.RepeatedCompositeFieldContainer[Finding]
    next_page_token: str
    def __init__(self, findings: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetFindingRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetFindingResponse(_message.Message):
    __slots__ = ("finding", "receipts_json")
    FINDING_FIELD_NUMBER: _ClassVar[int]
    RECEIPTS_JSON_FIELD_NUMBER: _ClassVar[int]
    finding: Finding
    receipts_json: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, finding: _Optional[_Union[Finding, _Mapping]] = ..., receipts_json: _Optional[_Iterable[str]] = ...) -> None: ...

class ReportFindingRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ReportFindingResponse(_message.Message):
    __slots__ = ("finding", "breach_reference")
    FINDING_FIELD_NUMBER: _ClassVar[int]
    BREACH_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    finding: Finding
    breach_reference: str
    def __init__(self, finding: _Optional[_Union[Finding, _Mapping]] = ..., breach_reference: _Optional[str] = ...) -> None: ...
