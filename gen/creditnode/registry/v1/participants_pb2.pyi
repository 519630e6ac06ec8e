import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PlatformKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLATFORM_KIND_UNSPECIFIED: _ClassVar[PlatformKind]
    PLATFORM_KIND_CITY: _ClassVar[PlatformKind]
    PLATFORM_KIND_COUNTY: _ClassVar[PlatformKind]
    PLATFORM_KIND_AGGREGATOR: _ClassVar[PlatformKind]

class Docking(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DOCKING_UNSPECIFIED: _ClassVar[Docking]
    DOCKING_DIRECT: _ClassVar[Docking]
    DOCKING_PROXIED: _ClassVar[Docking]

class PlatformStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLATFORM_STATUS_UNSPECIFIED: _ClassVar[PlatformStatus]
    PLATFORM_STATUS_APPLIED: _ClassVar[PlatformStatus]
    PLATFORM_STATUS_UNDER_REVIEW: _ClassVar[PlatformStatus]
    PLATFORM_STATUS_ADMITTED: _ClassVar[PlatformStatus]
    PLATFORM_STATUS_REJECTED: _ClassVar[PlatformStatus]
    PLATFORM_STATUS_SUSPENDED: _ClassVar[PlatformStatus]
    PLATFORM_STATUS_REMOVED: _ClassVar[PlatformStatus]
    PLATFORM_STATUS_EXITED: _ClassVar[PlatformStatus]

class AssessmentKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASSESSMENT_KIND_UNSPECIFIED: _ClassVar[AssessmentKind]
    ASSESSMENT_KIND_SECURITY: _ClassVar[AssessmentKind]
    ASSESSMENT_KIND_AUTHORIZATION: _ClassVar[AssessmentKind]

class AssessmentResult(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASSESSMENT_RESULT_UNSPECIFIED: _ClassVar[AssessmentResult]
    ASSESSMENT_RESULT_PASSED: _ClassVar[AssessmentResult]
    ASSESSMENT_RESULT_FAILED: _ClassVar[AssessmentResult]

class InstitutionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INSTITUTION_TYPE_UNSPECIFIED: _ClassVar[InstitutionType]
    INSTITUTION_TYPE_BANK: _ClassVar[InstitutionType]
    INSTITUTION_TYPE_GUARANTEE: _ClassVar[InstitutionType]
    INSTITUTION_TYPE_MICROLOAN: _ClassVar[InstitutionType]
    INSTITUTION_TYPE_OTHER: _ClassVar[InstitutionType]
    INSTITUTION_TYPE_ARBITRATION: _ClassVar[InstitutionType]
    INSTITUTION_TYPE_COURT: _ClassVar[InstitutionType]

class InstitutionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INSTITUTION_STATUS_UNSPECIFIED: _ClassVar[InstitutionStatus]
    INSTITUTION_STATUS_ACTIVE: _ClassVar[InstitutionStatus]
    INSTITUTION_STATUS_SUSPENDED: _ClassVar[InstitutionStatus]
    INSTITUTION_STATUS_REMOVED: _ClassVar[InstitutionStatus]

class DepartmentKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEPARTMENT_KIND_UNSPECIFIED: _ClassVar[DepartmentKind]
    DEPARTMENT_KIND_GOVERNMENT: _ClassVar[DepartmentKind]
    DEPARTMENT_KIND_UTILITY: _ClassVar[DepartmentKind]

class KeyState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KEY_STATE_UNSPECIFIED: _ClassVar[KeyState]
    KEY_STATE_ACTIVE: _ClassVar[KeyState]
    KEY_STATE_RETIRED: _ClassVar[KeyState]

class Access(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCESS_UNSPECIFIED: _ClassVar[Access]
    ACCESS_ALLOWED: _ClassVar[Access]
    ACCESS_DENIED: _ClassVar[Access]
PLATFORM_KIND_UNSPECIFIED: PlatformKind
PLATFORM_KIND_CITY: PlatformKind
PLATFORM_KIND_COUNTY: PlatformKind
PLATFORM_KIND_AGGREGATOR: PlatformKind
DOCKING_UNSPECIFIED: Docking
DOCKING_DIRECT: Docking
DOCKING_PROXIED: Docking
PLATFORM_STATUS_UNSPECIFIED: PlatformStatus
PLATFORM_STATUS_APPLIED: PlatformStatus
PLATFORM_STATUS_UNDER_REVIEW: PlatformStatus
PLATFORM_STATUS_ADMITTED: PlatformStatus
PLATFORM_STATUS_REJECTED: PlatformStatus
PLATFORM_STATUS_SUSPENDED: PlatformStatus
PLATFORM_STATUS_REMOVED: PlatformStatus
PLATFORM_STATUS_EXITED: PlatformStatus
ASSESSMENT_KIND_UNSPECIFIED: AssessmentKind
ASSESSMENT_KIND_SECURITY: AssessmentKind
ASSESSMENT_KIND_AUTHORIZATION: AssessmentKind
ASSESSMENT_RESULT_UNSPECIFIED: AssessmentResult
ASSESSMENT_RESULT_PASSED: AssessmentResult
ASSESSMENT_RESULT_FAILED: AssessmentResult
INSTITUTION_TYPE_UNSPECIFIED: InstitutionType
INSTITUTION_TYPE_BANK: InstitutionType
INSTITUTION_TYPE_GUARANTEE: InstitutionType
INSTITUTION_TYPE_MICROLOAN: InstitutionType
INSTITUTION_TYPE_OTHER: InstitutionType
INSTITUTION_TYPE_ARBITRATION: InstitutionType
INSTITUTION_TYPE_COURT: InstitutionType
INSTITUTION_STATUS_UNSPECIFIED: InstitutionStatus
INSTITUTION_STATUS_ACTIVE: InstitutionStatus
INSTITUTION_STATUS_SUSPENDED: InstitutionStatus
INSTITUTION_STATUS_REMOVED: InstitutionStatus
DEPARTMENT_KIND_UNSPECIFIED: DepartmentKind
DEPARTMENT_KIND_GOVERNMENT: DepartmentKind
DEPARTMENT_KIND_UTILITY: DepartmentKind
KEY_STATE_UNSPECIFIED: KeyState
KEY_STATE_ACTIVE: KeyState
KEY_STATE_RETIRED: KeyState
ACCESS_UNSPECIFIED: Access
ACCESS_ALLOWED: Access
ACCESS_DENIED: Access

class Assessment(_message.Message):
    __slots__ = ("kind", "assessor", "assessed_on", "result", "findings", "expires_on")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ASSESSOR_FIELD_NUMBER: _ClassVar[int]
    ASSESSED_ON_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_ON_FIELD_NUMBER: _ClassVar[int]
    kind: AssessmentKind
    assessor: str
    assessed_on: _timestamp_pb2.Timestamp
    result: AssessmentResult
    findings: str
    expires_on: _timestamp_pb2.Timestamp
    def __init__(self, kind: _Optional[_Union[AssessmentKind, str]] = ..., assessor: _Optional[str] = ..., assessed_on: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., result: _Optional[_Union[AssessmentResult, str]] = ..., findings: _Optional[str] = ..., expires_on: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StatusChange(_message.Message):
    __slots__ = ("from_status", "to_status", "actor", "reason", "evidence", "change_time", "revision")
    FROM_STATUS_FIELD_NUMBER: _ClassVar[int]
    TO_STATUS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    CHANGE_TIME_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    from_status: str
    to_status: str
    actor: str
    reason: str
    evidence: _containers.RepeatedScalarFieldContainer[str]
    change_time: _timestamp_pb2.Timestamp
    revision: int
    def __init__(self, from_status: _Optional[str] = ..., to_status: _Optional[str] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ..., evidence: _Optional[_Iterable[str]] = ..., change_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revision: _Optional[int] = ...) -> None: ...

class Platform(_message.Message):
    __slots__ = ("name", "display_name", "kind", "region_code", "docking", "proxy", "status", "access", "assessments", "due_for_review", "certificate_serial", "etag", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    DOCKING_FIELD_NUMBER: _ClassVar[int]
    PROXY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACCESS_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENTS_FIELD_NUMBER: _ClassVar[int]
    DUE_FOR_REVIEW_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_SERIAL_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    kind: PlatformKind
    region_code: str
    docking: Docking
    proxy: str
    status: PlatformStatus
    access: Access
    assessments: _containers.RepeatedCompositeFieldContainer[Assessment]
    due_for_review: bool
    certificate_serial: str
    etag: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., kind: _Optional[_Union[PlatformKind, str]] = ..., region_code: _Optional[str] = ..., docking: _Optional[_Union[Docking, str]] = ..., proxy: _Optional[str] = ..., status: _Optional[_Union[PlatformStatus, str]] = ..., access: _Optional[_Union[Access, str]] = ..., assessments: _Optional[_Iterable[_Union[Assessment, _Mapping]]] = ..., due_for_review: _Optional[bool] = ..., certificate_serial: _Optional[str] = ..., etag: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Institution(_message.Message):
    __slots__ = ("name", "display_name", "licence_number", "type", "platform", "status", "access", "etag", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    LICENCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACCESS_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    licence_number: str
    type: InstitutionType
    platform: str
    status: InstitutionStatus
    access: Access
    etag: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., licence_number: _Optional[str] = ..., type: _Optional[_Union[InstitutionType, str]] = ..., platform: _Optional[str] = ..., status: _Optional[_Union[InstitutionStatus, str]] = ..., access: _Optional[_Union[Access, str]] = ..., etag: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EnterpriseKey(_message.Message):
    __slots__ = ("key_id", "public_key", "state", "create_time", "retire_time")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    RETIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    public_key: bytes
    state: KeyState
    create_time: _timestamp_pb2.Timestamp
    retire_time: _timestamp_pb2.Timestamp
    def __init__(self, key_id: _Optional[str] = ..., public_key: _Optional[bytes] = ..., state: _Optional[_Union[KeyState, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., retire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Enterprise(_message.Message):
    __slots__ = ("name", "uscc", "display_name", "platform", "keys", "legacy_org_code_warning", "etag", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    USCC_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    LEGACY_ORG_CODE_WARNING_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    uscc: str
    display_name: str
    platform: str
    keys: _containers.RepeatedCompositeFieldContainer[EnterpriseKey]
    legacy_org_code_warning: bool
    etag: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., uscc: _Optional[str] = ..., display_name: _Optional[str] = ..., platform: _Optional[str] = ..., keys: _Optional[_Iterable[_Union[EnterpriseKey, _Mapping]]] = ..., legacy_org_code_warning: _Optional[bool] = ..., etag: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Department(_message.Message):
    __slots__ = ("name", "code", "display_name", "kind", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    code: str
    display_name: str
    kind: DepartmentKind
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., code: _Optional[str] = ..., display_name: _Optional[str] = ..., kind: _Optional[_Union[DepartmentKind, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Participant(_message.Message):
    __slots__ = ("platform", "institution", "enterprise", "department")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    platform: Platform
    institution: Institution
    enterprise: Enterprise
    department: Department
    def __init__(self, platform: _Optional[_Union[Platform, _Mapping]] = ..., institution: _Optional[_Union[Institution, _Mapping]] = ..., enterprise: _Optional[_Union[Enterprise, _Mapping]] = ..., department: _Optional[_Union[Department, _Mapping]] = ...) -> None: ...
