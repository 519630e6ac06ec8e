import datetime

from creditnode.common.v1 import error_reason_pb2 as _error_reason_pb2
from creditnode.registry.v1 import sharing_list_pb2 as _sharing_list_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RecordOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECORD_OUTCOME_UNSPECIFIED: _ClassVar[RecordOutcome]
    RECORD_OUTCOME_ACCEPTED: _ClassVar[RecordOutcome]
    RECORD_OUTCOME_DUPLICATE: _ClassVar[RecordOutcome]
    RECORD_OUTCOME_PARKED: _ClassVar[RecordOutcome]
    RECORD_OUTCOME_REJECTED: _ClassVar[RecordOutcome]

class RecordState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECORD_STATE_UNSPECIFIED: _ClassVar[RecordState]
    RECORD_STATE_CURRENT: _ClassVar[RecordState]
    RECORD_STATE_REMOVED: _ClassVar[RecordState]

class ProvenanceKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROVENANCE_KIND_UNSPECIFIED: _ClassVar[ProvenanceKind]
    PROVENANCE_KIND_DEPARTMENT: _ClassVar[ProvenanceKind]
    PROVENANCE_KIND_OBJECTION_CORRECTION: _ClassVar[ProvenanceKind]

class DisputeOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISPUTE_OUTCOME_UNSPECIFIED: _ClassVar[DisputeOutcome]
    DISPUTE_OUTCOME_CORRECTED: _ClassVar[DisputeOutcome]
    DISPUTE_OUTCOME_REMOVED: _ClassVar[DisputeOutcome]
    DISPUTE_OUTCOME_UPHELD: _ClassVar[DisputeOutcome]
    DISPUTE_OUTCOME_UNVERIFIABLE: _ClassVar[DisputeOutcome]
    DISPUTE_OUTCOME_WITHDRAWN: _ClassVar[DisputeOutcome]

class PersonalDataView(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PERSONAL_DATA_VIEW_UNSPECIFIED: _ClassVar[PersonalDataView]
    PERSONAL_DATA_VIEW_MASKED: _ClassVar[PersonalDataView]
    PERSONAL_DATA_VIEW_RAW: _ClassVar[PersonalDataView]

class RecordChangeType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECORD_CHANGE_TYPE_UNSPECIFIED: _ClassVar[RecordChangeType]
    RECORD_CHANGE_TYPE_CREATED: _ClassVar[RecordChangeType]
    RECORD_CHANGE_TYPE_VERSION_ADDED: _ClassVar[RecordChangeType]
    RECORD_CHANGE_TYPE_REMOVED: _ClassVar[RecordChangeType]
    RECORD_CHANGE_TYPE_DISPUTE_SET: _ClassVar[RecordChangeType]
    RECORD_CHANGE_TYPE_DISPUTE_CLEARED: _ClassVar[RecordChangeType]
RECORD_OUTCOME_UNSPECIFIED: RecordOutcome
RECORD_OUTCOME_ACCEPTED: RecordOutcome
RECORD_OUTCOME_DUPLICATE: RecordOutcome
RECORD_OUTCOME_PARKED: RecordOutcome
RECORD_OUTCOME_REJECTED: RecordOutcome
RECORD_STATE_UNSPECIFIED: RecordState
RECORD_STATE_CURRENT: RecordState
RECORD_STATE_REMOVED: RecordState
PROVENANCE_KIND_UNSPECIFIED: ProvenanceKind
PROVENANCE_KIND_DEPARTMENT: ProvenanceKind
PROVENANCE_KIND_OBJECTION_CORRECTION: ProvenanceKind
DISPUTE_OUTCOME_UNSPECIFIED: DisputeOutcome
DISPUTE_OUTCOME_CORRECTED: DisputeOutcome
DISPUTE_OUTCOME_REMOVED: DisputeOutcome
DISPUTE_OUTCOME_UPHELD: DisputeOutcome
DISPUTE_OUTCOME_UNVERIFIABLE: DisputeOutcome
DISPUTE_OUTCOME_WITHDRAWN: DisputeOutcome
PERSONAL_DATA_VIEW_UNSPECIFIED: PersonalDataView
PERSONAL_DATA_VIEW_MASKED: PersonalDataView
PERSONAL_DATA_VIEW_RAW: PersonalDataView
RECORD_CHANGE_TYPE_UNSPECIFIED: RecordChangeType
RECORD_CHANGE_TYPE_CREATED: RecordChangeType
RECORD_CHANGE_TYPE_VERSION_ADDED: RecordChangeType
RECORD_CHANGE_TYPE_REMOVED: RecordChangeType
RECORD_CHANGE_TYPE_DISPUTE_SET: RecordChangeType
RECORD_CHANGE_TYPE_DISPUTE_CLEARED: RecordChangeType

class FieldValue(_message.Message):
    __slots__ = ("string_value", "int_value", "decimal_value", "date_value", "bool_value")
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    DECIMAL_VALUE_FIELD_NUMBER: _ClassVar[int]
    DATE_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    string_value: str
    int_value: int
    decimal_value: str
    date_value: _sharing_list_pb2.CalendarDate
    bool_value: bool
    def __init__(self, string_value: _Optional[str] = ..., int_value: _Optional[int] = ..., decimal_value: _Optional[str] = ..., date_value: _Optional[_Union[_sharing_list_pb2.CalendarDate, _Mapping]] = ..., bool_value: _Optional[bool] = ...) -> None: ...

class IngestRecord(_message.Message):
    __slots__ = ("sequence", "item_code", "list_version", "source_record_id", "source_version", "uscc", "event_time", "fields")
    class FieldsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: FieldValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[FieldValue, _Mapping]] = ...) -> None: ...
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ITEM_CODE_FIELD_NUMBER: _ClassVar[int]
    LIST_VERSION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_VERSION_FIELD_NUMBER: _ClassVar[int]
    USCC_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    item_code: str
    list_version: int
    source_record_id: str
    source_version: int
    uscc: str
    event_time: _timestamp_pb2.Timestamp
    fields: _containers.MessageMap[str, FieldValue]
    def __init__(self, sequence: _Optional[int] = ..., item_code: _Optional[str] = ..., list_version: _Optional[int] = ..., source_record_id: _Optional[str] = ..., source_version: _Optional[int] = ..., uscc: _Optional[str] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., fields: _Optional[_Mapping[str, FieldValue]] = ...) -> None: ...

class RecordResult(_message.Message):
    __slots__ = ("sequence", "outcome", "reason", "message", "field", "record", "on_time", "due_time")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_FIELD_NUMBER: _ClassVar[int]
    DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    outcome: RecordOutcome
    reason: _error_reason_pb2.ErrorReason
    message: str
    field: str
    record: str
    on_time: bool
    due_time: _timestamp_pb2.Timestamp
    def __init__(self, sequence: _Optional[int] = ..., outcome: _Optional[_Union[RecordOutcome, str]] = ..., reason: _Optional[_Union[_error_reason_pb2.ErrorReason, str]] = ..., message: _Optional[str] = ..., field: _Optional[str] = ..., record: _Optional[str] = ..., on_time: _Optional[bool] = ..., due_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OutcomeCounts(_message.Message):
    __slots__ = ("accepted", "duplicate", "parked", "rejected")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    PARKED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    duplicate: int
    parked: int
    rejected: int
    def __init__(self, accepted: _Optional[int] = ..., duplicate: _Optional[int] = ..., parked: _Optional[int] = ..., rejected: _Optional[int] = ...) -> None: ...

class StreamRecordsRequest(_message.Message):
    __slots__ = ("stream_id", "records")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    records: _containers.RepeatedCompositeFieldContainer[IngestRecord]
    def __init__(self, stream_id: _Optional[str] = ..., records: _Optional[_Iterable[_Union[IngestRecord, _Mapping]]] = ...) -> None: ...

class StreamRecordsResponse(_message.Message):
    __slots__ = ("last_acknowledged_sequence", "counts", "results", "results_truncated")
    LAST_ACKNOWLEDGED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    RESULTS_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    last_acknowledged_sequence: int
    counts: OutcomeCounts
    results: _containers.RepeatedCompositeFieldContainer[RecordResult]
    results_truncated: bool
    def __init__(self, last_acknowledged_sequence: _Optional[int] = ..., counts: _Optional[_Union[OutcomeCounts, _Mapping]] = ..., results: _Optional[_Iterable[_Union[RecordResult, _Mapping]]] = ..., results_truncated: _Optional[bool] = ...) -> None: ...

class GetStreamPositionRequest(_message.Message):
    __slots__ = ("stream_id",)
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    def __init__(self, stream_id: _Optional[str] = ...) -> None: ...

class GetStreamPositionResponse(_message.Message):
    __slots__ = ("last_acknowledged_sequence",)
    LAST_ACKNOWLEDGED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    last_acknowledged_sequence: int
    def __init__(self, last_acknowledged_sequence: _Optional[int] = ...) -> None: ...

class IngestBatchRequest(_message.Message):
    __slots__ = ("request_id", "records")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    records: _containers.RepeatedCompositeFieldContainer[IngestRecord]
    def __init__(self, request_id: _Optional[str] = ..., records: _Optional[_Iterable[_Union[IngestRecord, _Mapping]]] = ...) -> None: ...

class IngestBatchResponse(_message.Message):
    __slots__ = ("results", "counts")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[RecordResult]
    counts: OutcomeCounts
    def __init__(self, results: _Optional[_Iterable[_Union[RecordResult, _Mapping]]] = ..., counts: _Optional[_Union[OutcomeCounts, _Mapping]] = ...) -> None: ...

class Provenance(_message.Message):
    __slots__ = ("kind", "department", "source_record_id", "source_version", "list_version", "receive_time", "due_time", "on_time", "objection", "fingerprint")
    KIND_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_VERSION_FIELD_NUMBER: _ClassVar[int]
    LIST_VERSION_FIELD_NUMBER: _ClassVar[int]
    RECEIVE_TIME_FIELD_NUMBER: _ClassVar[int]
    DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_FIELD_NUMBER: _ClassVar[int]
    OBJECTION_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    kind: ProvenanceKind
    department: str
    source_record_id: str
    source_version: int
    list_version: int
    receive_time: _timestamp_pb2.Timestamp
    due_time: _timestamp_pb2.Timestamp
    on_time: bool
    objection: str
    fingerprint: str
    def __init__(self, kind: _Optional[_Union[ProvenanceKind, str]] = ..., department: _Optional[str] = ..., source_record_id: _Optional[str] = ..., source_version: _Optional[int] = ..., list_version: _Optional[int] = ..., receive_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., due_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., on_time: _Optional[bool] = ..., objection: _Optional[str] = ..., fingerprint: _Optional[str] = ...) -> None: ...

class RecordVersion(_message.Message):
    __slots__ = ("version", "fields", "event_time", "provenance", "valid_from", "valid_to")
    class FieldsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: FieldValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[FieldValue, _Mapping]] = ...) -> None: ...
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_TO_FIELD_NUMBER: _ClassVar[int]
    version: int
    fields: _containers.MessageMap[str, FieldValue]
    event_time: _timestamp_pb2.Timestamp
    provenance: Provenance
    valid_from: _timestamp_pb2.Timestamp
    valid_to: _timestamp_pb2.Timestamp
    def __init__(self, version: _Optional[int] = ..., fields: _Optional[_Mapping[str, FieldValue]] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., provenance: _Optional[_Union[Provenance, _Mapping]] = ..., valid_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RecordDispute(_message.Message):
    __slots__ = ("objection", "set_time")
    OBJECTION_FIELD_NUMBER: _ClassVar[int]
    SET_TIME_FIELD_NUMBER: _ClassVar[int]
    objection: str
    set_time: _timestamp_pb2.Timestamp
    def __init__(self, objection: _Optional[str] = ..., set_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreditRecord(_message.Message):
    __slots__ = ("name", "uscc", "item_code", "category", "openness", "state", "version", "fields", "event_time", "provenance", "disputes", "statements", "personal_data_masked", "create_time", "update_time", "publicity_end_time")
    class FieldsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: FieldValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[FieldValue, _Mapping]] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    USCC_FIELD_NUMBER: _ClassVar[int]
    ITEM_CODE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    OPENNESS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    DISPUTES_FIELD_NUMBER: _ClassVar[int]
    STATEMENTS_FIELD_NUMBER: _ClassVar[int]
    PERSONAL_DATA_MASKED_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PUBLICITY_END_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    uscc: str
    item_code: str
    category: _sharing_list_pb2.ItemCategory
    openness: _sharing_list_pb2.Openness
    state: RecordState
    version: int
    fields: _containers.MessageMap[str, FieldValue]
    event_time: _timestamp_pb2.Timestamp
    provenance: Provenance
    disputes: _containers.RepeatedCompositeFieldContainer[RecordDispute]
    statements: _containers.RepeatedScalarFieldContainer[str]
    personal_data_masked: bool
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    publicity_end_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., uscc: _Optional[str] = ..., item_code: _Optional[str] = ..., category: _Optional[_Union[_sharing_list_pb2.ItemCategory, str]] = ..., openness: _Optional[_Union[_sharing_list_pb2.Openness, str]] = ..., state: _Optional[_Union[RecordState, str]] = ..., version: _Optional[int] = ..., fields: _Optional[_Mapping[str, FieldValue]] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., provenance: _Optional[_Union[Provenance, _Mapping]] = ..., disputes: _Optional[_Iterable[_Union[RecordDispute, _Mapping]]] = ..., statements: _Optional[_Iterable[str]] = ..., personal_data_masked: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., publicity_end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListEnterpriseRecordsRequest(_message.Message):
    __slots__ = ("parent", "item_codes", "categories", "as_of", "include_removed", "view", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    ITEM_CODES_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_REMOVED_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    item_codes: _containers.RepeatedScalarFieldContainer[str]
    categories: _containers.RepeatedScalarFieldContainer[_sharing_list_pb2.ItemCategory]
    as_of: _timestamp_pb2.Timestamp
    include_removed: bool
    view: PersonalDataView
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., item_codes: _Optional[_Iterable[str]] = ..., categories: _Optional[_Iterable[_Union[_sharing_list_pb2.ItemCategory, str]]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., include_removed: _Optional[bool] = ..., view: _Optional[_Union[PersonalDataView, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListEnterpriseRecordsResponse(_message.Message):
    __slots__ = ("records", "next_page_token", "revision", "publicity_known")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    PUBLICITY_KNOWN_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[CreditRecord]
    next_page_token: str
    revision: int
    publicity_known: bool
    def __init__(self, records: _Optional[_Iterable[_Union[CreditRecord, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., revision: _Optional[int] = ..., publicity_known: _Optional[bool] = ...) -> None: ...

class GetRecordRequest(_message.Message):
    __slots__ = ("name", "include_history", "view")
    NAME_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_HISTORY_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    name: str
    include_history: bool
    view: PersonalDataView
    def __init__(self, name: _Optional[str] = ..., include_history: _Optional[bool] = ..., view: _Optional[_Union[PersonalDataView, str]] = ...) -> None: ...

class GetRecordResponse(_message.Message):
    __slots__ = ("record", "versions")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    record: CreditRecord
    versions: _containers.RepeatedCompositeFieldContainer[RecordVersion]
    def __init__(self, record: _Optional[_Union[CreditRecord, _Mapping]] = ..., versions: _Optional[_Iterable[_Union[RecordVersion, _Mapping]]] = ...) -> None: ...

class SetRecordDisputeRequest(_message.Message):
    __slots__ = ("name", "objection", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OBJECTION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    objection: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., objection: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class SetRecordDisputeResponse(_message.Message):
    __slots__ = ("record",)
    RECORD_FIELD_NUMBER: _ClassVar[int]
    record: CreditRecord
    def __init__(self, record: _Optional[_Union[CreditRecord, _Mapping]] = ...) -> None: ...

class ClearRecordDisputeRequest(_message.Message):
    __slots__ = ("name", "objection", "outcome", "corrected_fields", "statement", "request_id", "disputed_version")
    class CorrectedFieldsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: FieldValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[FieldValue, _Mapping]] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    OBJECTION_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CORRECTED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DISPUTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    objection: str
    outcome: DisputeOutcome
    corrected_fields: _containers.MessageMap[str, FieldValue]
    statement: str
    request_id: str
    disputed_version: int
    def __init__(self, name: _Optional[str] = ..., objection: _Optional[str] = ..., outcome: _Optional[_Union[DisputeOutcome, str]] = ..., corrected_fields: _Optional[_Mapping[str, FieldValue]] = ..., statement: _Optional[str] = ..., request_id: _Optional[str] = ..., disputed_version: _Optional[int] = ...) -> None: ...

class ClearRecordDisputeResponse(_message.Message):
    __slots__ = ("record",)
    RECORD_FIELD_NUMBER: _ClassVar[int]
    record: CreditRecord
    def __init__(self, record: _Optional[_Union[CreditRecord, _Mapping]] = ...) -> None: ...

class AttachRecordStatementRequest(_message.Message):
    __slots__ = ("name", "objection", "statement", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OBJECTION_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    objection: str
    statement: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., objection: _Optional[str] = ..., statement: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class AttachRecordStatementResponse(_message.Message):
    __slots__ = ("record",)
    RECORD_FIELD_NUMBER: _ClassVar[int]
    record: CreditRecord
    def __init__(self, record: _Optional[_Union[CreditRecord, _Mapping]] = ...) -> None: ...

class WatchRecordChangesRequest(_message.Message):
    __slots__ = ("start_revision", "item_codes", "categories", "view")
    START_REVISION_FIELD_NUMBER: _ClassVar[int]
    ITEM_CODES_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    start_revision: int
    item_codes: _containers.RepeatedScalarFieldContainer[str]
    categories: _containers.RepeatedScalarFieldContainer[_sharing_list_pb2.ItemCategory]
    view: PersonalDataView
    def __init__(self, start_revision: _Optional[int] = ..., item_codes: _Optional[_Iterable[str]] = ..., categories: _Optional[_Iterable[_Union[_sharing_list_pb2.ItemCategory, str]]] = ..., view: _Optional[_Union[PersonalDataView, str]] = ...) -> None: ...

class RecordChange(_message.Message):
    __slots__ = ("revision", "type", "record")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    revision: int
    type: RecordChangeType
    record: CreditRecord
    def __init__(self, revision: _Optional[int] = ..., type: _Optional[_Union[RecordChangeType, str]] = ..., record: _Optional[_Union[CreditRecord, _Mapping]] = ...) -> None: ...

class WatchRecordChangesResponse(_message.Message):
    __slots__ = ("changes", "revision")
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[RecordChange]
    revision: int
    def __init__(self, changes: _Optional[_Iterable[_Union[RecordChange, _Mapping]]] = ..., revision: _Optional[int] = ...) -> None: ...

class GetTimelinessRequest(_message.Message):
    __slots__ = ("departments", "item_codes", "start_time", "end_time")
    DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    ITEM_CODES_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    departments: _containers.RepeatedScalarFieldContainer[str]
    item_codes: _containers.RepeatedScalarFieldContainer[str]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, departments: _Optional[_Iterable[str]] = ..., item_codes: _Optional[_Iterable[str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReasonCount(_message.Message):
    __slots__ = ("reason", "count")
    REASON_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    reason: _error_reason_pb2.ErrorReason
    count: int
    def __init__(self, reason: _Optional[_Union[_error_reason_pb2.ErrorReason, str]] = ..., count: _Optional[int] = ...) -> None: ...

class ItemTimeliness(_message.Message):
    __slots__ = ("department", "item_code", "first_deliveries", "on_time", "late", "on_time_share", "rejected", "schema_rejected", "rejections_by_reason", "duplicates", "no_data", "last_receive_time")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    ITEM_CODE_FIELD_NUMBER: _ClassVar[int]
    FIRST_DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_FIELD_NUMBER: _ClassVar[int]
    LATE_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_SHARE_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_REJECTED_FIELD_NUMBER: _ClassVar[int]
    REJECTIONS_BY_REASON_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    NO_DATA_FIELD_NUMBER: _ClassVar[int]
    LAST_RECEIVE_TIME_FIELD_NUMBER: _ClassVar[int]
    department: str
    item_code: str
    first_deliveries: int
    on_time: int
    late: int
    on_time_share: float
    rejected: int
    schema_rejected: int
    rejections_by_reason: _containers.RepeatedCompositeFieldContainer[ReasonCount]
    duplicates: int
    no_data: bool
    last_receive_time: _timestamp_pb2.Timestamp
    def __init__(self, department: _Optional[str] = ..., item_code: _Optional[str] = ..., first_deliveries: _Optional[int] = ..., on_time: _Optional[int] = ..., late: _Optional[int] = ..., on_time_share: _Optional[float] = ..., rejected: _Optional[int] = ..., schema_rejected: _Optional[int] = ..., rejections_by_reason: _Optional[_Iterable[_Union[ReasonCount, _Mapping]]] = ..., duplicates: _Optional[int] = ..., no_data: _Optional[bool] = ..., last_receive_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetTimelinessResponse(_message.Message):
    __slots__ = ("items", "start_time", "end_time")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ItemTimeliness]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, items: _Optional[_Iterable[_Union[ItemTimeliness, _Mapping]]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
