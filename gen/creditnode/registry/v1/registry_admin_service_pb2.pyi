import datetime

from creditnode.registry.v1 import participants_pb2 as _participants_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BreachKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BREACH_KIND_UNSPECIFIED: _ClassVar[BreachKind]
    BREACH_KIND_OBJECTION_FORWARDED_LATE: _ClassVar[BreachKind]
    BREACH_KIND_SUPERVISION_FINDING: _ClassVar[BreachKind]
BREACH_KIND_UNSPECIFIED: BreachKind
BREACH_KIND_OBJECTION_FORWARDED_LATE: BreachKind
BREACH_KIND_SUPERVISION_FINDING: BreachKind

class PlatformBreach(_message.Message):
    __slots__ = ("platform", "kind", "reference", "detail", "occur_time", "record_time")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    RECORD_TIME_FIELD_NUMBER: _ClassVar[int]
    platform: str
    kind: BreachKind
    reference: str
    detail: str
    occur_time: _timestamp_pb2.Timestamp
    record_time: _timestamp_pb2.Timestamp
    def __init__(self, platform: _Optional[str] = ..., kind: _Optional[_Union[BreachKind, str]] = ..., reference: _Optional[str] = ..., detail: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., record_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RecordPlatformBreachRequest(_message.Message):
    __slots__ = ("breach",)
    BREACH_FIELD_NUMBER: _ClassVar[int]
    breach: PlatformBreach
    def __init__(self, breach: _Optional[_Union[PlatformBreach, _Mapping]] = ...) -> None: ...

class RecordPlatformBreachResponse(_message.Message):
    __slots__ = ("breach",)
    BREACH_FIELD_NUMBER: _ClassVar[int]
    breach: PlatformBreach
    def __init__(self, breach: _Optional[_Union[PlatformBreach, _Mapping]] = ...) -> None: ...

class ListPlatformBreachesRequest(_message.Message):
    __slots__ = ("platform", "page_size", "page_token")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    platform: str
    page_size: int
    page_token: str
    def __init__(self, platform: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPlatformBreachesResponse(_message.Message):
    __slots__ = ("breaches", "next_page_token")
    BREACHES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    breaches: _containers.RepeatedCompositeFieldContainer[PlatformBreach]
    next_page_token: str
    def __init__(self, breaches: _Optional[_Iterable[_Union[PlatformBreach, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Change(_message.Message):
    __slots__ = ("actor", "reason", "evidence", "etag", "request_id")
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    actor: str
    reason: str
    evidence: _containers.RepeatedScalarFieldContainer[str]
    etag: str
    request_id: str
    def __init__(self, actor: _Optional[str] = ..., reason: _Optional[str] = ..., evidence: _Optional[_Iterable[str]] = ..., etag: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class Credential(_message.Message):
    __slots__ = ("certificate_pem", "ca_certificate_pem", "serial")
    CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    CA_CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    certificate_pem: str
    ca_certificate_pem: str
    serial: str
    def __init__(self, certificate_pem: _Optional[str] = ..., ca_certificate_pem: _Optional[str] = ..., serial: _Optional[str] = ...) -> None: ...

class CreatePlatformRequest(_message.Message):
    __slots__ = ("platform_id", "display_name", "kind", "region_code", "docking", "proxy", "change")
    PLATFORM_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    DOCKING_FIELD_NUMBER: _ClassVar[int]
    PROXY_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    platform_id: str
    display_name: str
    kind: _participants_pb2.PlatformKind
    region_code: str
    docking: _participants_pb2.Docking
    proxy: str
    change: Change
    def __init__(self, platform_id: _Optional[str] = ..., display_name: _Optional[str] = ..., kind: _Optional[_Union[_participants_pb2.PlatformKind, str]] = ..., region_code: _Optional[str] = ..., docking: _Optional[_Union[_participants_pb2.Docking, str]] = ..., proxy: _Optional[str] = ..., change: _Optional[_Union[Change, _Mapping]] = ...) -> None: ...

class CreatePlatformResponse(_message.Message):
    __slots__ = ("platform",)
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    platform: _participants_pb2.Platform
    def __init__(self, platform: _Optional[_Union[_participants_pb2.Platform, _Mapping]] = ...) -> None: ...

class StartPlatformReviewRequest(_message.Message):
    __slots__ = ("name", "change")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    change: Change
    def __init__(self, name: _Optional[str] = ..., change: _Optional[_Union[Change, _Mapping]] = ...) -> None: ...

class StartPlatformReviewResponse(_message.Message):
    __slots__ = ("platform",)
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    platform: _participants_pb2.Platform
    def __init__(self, platform: _Optional[_Union[_participants_pb2.Platform, _Mapping]] = ...) -> None: ...

class RecordAssessmentRequest(_message.Message):
    __slots__ = ("name", "assessment", "change")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    assessment: _participants_pb2.Assessment
    change: Change
    def __init__(self, name: _Optional[str] = ..., assessment: _Optional[_Union[_participants_pb2.Assessment, _Mapping]] = ..., change: _Optional[_Union[Change, _Mapping]] = ...) -> None: ...

class RecordAssessmentResponse(_message.Message):
    __slots__ = ("platform",)
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    platform: _participants_pb2.Platform
    def __init__(self, platform: _Optional[_Union[_participants_pb2.Platform, _Mapping]] = ...) -> None: ...

class AdmitPlatformRequest(_message.Message):
    __slots__ = ("name", "csr_pem", "change")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CSR_PEM_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    csr_pem: str
    change: Change
    def __init__(self, name: _Optional[str] = ..., csr_pem: _Optional[str] = ..., change: _Optional[_Union[Change, _Mapping]] = ...) -> None: ...

class AdmitPlatformResponse(_message.Message):
    __slots__ = ("platform", "credential")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    platform: _participants_pb2.Platform
    credential: Credential
    def __init__(self, platform: _Optional[_Union[_participants_pb2.Platform, _Mapping]] = ..., credential: _Optional[_Union[Credential, _Mapping]] = ...) -> None: ...

class RejectPlatformRequest(_message.Message):
    __slots__ = ("name", "change")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    change: Change
    def __init__(self, name: _Optional[str] = ..., change: _Optional[_Union[Change, _Mapping]] = ...) -> None: ...

class RejectPlatformResponse(_message.Message):
    __slots__ = ("platform",)
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    platform: _participants_pb2.Platform
    def __init__(self, platform: _Optional[_Union[_participants_pb2.Platform, _Mapping]] = ...) -> None: ...

class SuspendPlatformRequest(_message.Message):
    __slots__ = ("name", "change")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    change: Change
    def __init__(self, name: _Optional[str] = ..., change: _Optional[_Union[Change, _Mapping]] = ...) -> None: ...

class SuspendPlatformResponse(_message.Message):
    __slots__ = ("platform",)
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    platform: _participants_pb2.Platform
    def __init__(self, platform: _Optional[_Union[_participants_pb2.Platform, _Mapping]] = ...) -> None: ...

class ReadmitPlatformRequest(_message.Message):
    __slots__ = ("name", "csr_pem", "change")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CSR_PEM_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    csr_pem: str
    change: Change
    def __init__(self, name: _Optional[str] = ..., csr_pem: _Optional[str] = ..., change: _Optional[_Union[Change, _Mapping]] = ...) -> None: ...

class ReadmitPlatformResponse(_message.Message):
    __slots__ = ("platform", "credential")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    platform: _participants_pb2.Platform
    credential: Credential
    def __init__(self, platform: _Optional[_Union[_participants_pb2.Platform, _Mapping]] = ..., credential: _Optional[_Union[Credential, _Mapping]] = ...) -> None: ...

class RemovePlatformRequest(_message.Message):
    __slots__ = ("name", "change")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    change: Change
    def __init__(self, name: _Optional[str] = ..., change: _Optional[_Union[Change, _Mapping]] = ...) -> None: ...

class RemovePlatformResponse(_message.Message):
    __slots__ = ("platform",)
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    platform: _participants_pb2.Platform
    def __init__(self, platform: _Optional[_Union[_participants_pb2.Platform, _Mapping]] = ...) -> None: ...

class ExitPlatformRequest(_message.Message):
    __slots__ = ("name", "change")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    change: Change
    def __init__(self, name: _Optional[str] = ..., change: _Optional[_Union[Change, _Mapping]] = ...) -> None: ...

class ExitPlatformResponse(_message.Message):
    __slots__ = ("platform",)
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    platform: _participants_pb2.Platform
    def __init__(self, platform: _Optional[_Union[_participants_pb2.Platform, _Mapping]] = ...) -> None: ...

class IssuePlatformCertificateRequest(_message.Message):
    __slots__ = ("name", "csr_pem", "change")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CSR_PEM_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    csr_pem: str
    change: Change
    def __init__(self, name: _Optional[str] = ..., csr_pem: _Optional[str] = ..., change: _Optional[_Union[Change, _Mapping]] = ...) -> None: ...

class IssuePlatformCertificateResponse(_message.Message):
    __slots__ = ("credential",)
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    credential: Credential
    def __init__(self, credential: _Optional[_Union[Credential, _Mapping]] = ...) -> None: ...

class ListPlatformHistoryRequest(_message.Message):
    __slots__ = ("name", "page_size", "page_token")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    page_size: int
    page_token: str
    def __init__(self, name: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPlatformHistoryResponse(_message.Message):
    __slots__ = ("changes", "next_page_token")
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[_participants_pb2.StatusChange]
    next_page_token: str
    def __init__(self, changes: _Optional[_Iterable[_Union[_participants_pb2.StatusChange, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListPlatformsDueForReviewRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPlatformsDueForReviewResponse(_message.Message):
    __slots__ = ("platforms",)
    PLATFORMS_FIELD_NUMBER: _ClassVar[int]
    platforms: _containers.RepeatedCompositeFieldContainer[_participants_pb2.Platform]
    def __init__(self, platforms: _Optional[_Iterable[_Union[_participants_pb2.Platform, _Mapping]]] = ...) -> None: ...

class CreateInstitutionRequest(_message.Message):
    __slots__ = ("institution_id", "display_name", "licence_number", "type", "platform", "change")
    INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    LICENCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    institution_id: str
    display_name: str
    licence_number: str
    type: _participants_pb2.InstitutionType
    platform: str
    change: Change
    def __init__(self, institution_id: _Optional[str] = ..., display_name: _Optional[str] = ..., licence_number: _Optional[str] = ..., type: _Optional[_Union[_participants_pb2.InstitutionType, str]] = ..., platform: _Optional[str] = ..., change: _Optional[_Union[Change, _Mapping]] = ...) -> None: ...

class CreateInstitutionResponse(_message.Message):
    __slots__ = ("institution",)
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    institution: _participants_pb2.Institution
    def __init__(self, institution: _Optional[_Union[_participants_pb2.Institution, _Mapping]] = ...) -> None: ...

class SuspendInstitutionRequest(_message.Message):
    __slots__ = ("name", "change")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    change: Change
    def __init__(self, name: _Optional[str] = ..., change: _Optional[_Union[Change, _Mapping]] = ...) -> None: ...

class SuspendInstitutionResponse(_message.Message):
    __slots__ = ("institution",)
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    institution: _participants_pb2.Institution
    def __init__(self, institution: _Optional[_Union[_participants_pb2.Institution, _Mapping]] = ...) -> None: ...

class ReactivateInstitutionRequest(_message.Message):
    __slots__ = ("name", "change")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    change: Change
    def __init__(self, name: _Optional[str] = ..., change: _Optional[_Union[Change, _Mapping]] = ...) -> None: ...

class ReactivateInstitutionResponse(_message.Message):
    __slots__ = ("institution",)
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    institution: _participants_pb2.Institution
    def __init__(self, institution: _Optional[_Union[_participants_pb2.Institution, _Mapping]] = ...) -> None: ...

class RemoveInstitutionRequest(_message.Message):
    __slots__ = ("name", "change")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    change: Change
    def __init__(self, name: _Optional[str] = ..., change: _Optional[_Union[Change, _Mapping]] = ...) -> None: ...

class RemoveInstitutionResponse(_message.Message):
    __slots__ = ("institution",)
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    institution: _participants_pb2.Institution
    def __init__(self, institution: _Optional[_Union[_participants_pb2.Institution, _Mapping]] = ...) -> None: ...

class CreateDepartmentRequest(_message.Message):
    __slots__ = ("code", "display_name", "kind", "change")
    CODE_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    display_name: str
    kind: _participants_pb2.DepartmentKind
    change: Change
    def __init__(self, code: _Optional[str] = ..., display_name: _Optional[str] = ..., kind: _Optional[_Union[_participants_pb2.DepartmentKind, str]] = ..., change: _Optional[_Union[Change, _Mapping]] = ...) -> None: ...

class CreateDepartmentResponse(_message.Message):
    __slots__ = ("department",)
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    department: _participants_pb2.Department
    def __init__(self, department: _Optional[_Union[_participants_pb2.Department, _Mapping]] = ...) -> None: ...

class ReplaceEnterpriseKeyRequest(_message.Message):
    __slots__ = ("name", "new_public_key", "change")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NEW_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    new_public_key: bytes
    change: Change
    def __init__(self, name: _Optional[str] = ..., new_public_key: _Optional[bytes] = ..., change: _Optional[_Union[Change, _Mapping]] = ...) -> None: ...

class ReplaceEnterpriseKeyResponse(_message.Message):
    __slots__ = ("enterprise",)
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    enterprise: _participants_pb2.Enterprise
    def __init__(self, enterprise: _Optional[_Union[_participants_pb2.Enterprise, _Mapping]] = ...) -> None: ...
