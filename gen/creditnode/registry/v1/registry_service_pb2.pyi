import datetime

from creditnode.registry.v1 import participants_pb2 as _participants_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ParticipantKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PARTICIPANT_KIND_UNSPECIFIED: _ClassVar[ParticipantKind]
    PARTICIPANT_KIND_PLATFORM: _ClassVar[ParticipantKind]
    PARTICIPANT_KIND_INSTITUTION: _ClassVar[ParticipantKind]
    PARTICIPANT_KIND_ENTERPRISE: _ClassVar[ParticipantKind]
    PARTICIPANT_KIND_DEPARTMENT: _ClassVar[ParticipantKind]

class ParticipantEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PARTICIPANT_EVENT_TYPE_UNSPECIFIED: _ClassVar[ParticipantEventType]
    PARTICIPANT_EVENT_TYPE_SNAPSHOT: _ClassVar[ParticipantEventType]
    PARTICIPANT_EVENT_TYPE_UPSERT: _ClassVar[ParticipantEventType]
    PARTICIPANT_EVENT_TYPE_TOMBSTONE: _ClassVar[ParticipantEventType]
PARTICIPANT_KIND_UNSPECIFIED: ParticipantKind
PARTICIPANT_KIND_PLATFORM: ParticipantKind
PARTICIPANT_KIND_INSTITUTION: ParticipantKind
PARTICIPANT_KIND_ENTERPRISE: ParticipantKind
PARTICIPANT_KIND_DEPARTMENT: ParticipantKind
PARTICIPANT_EVENT_TYPE_UNSPECIFIED: ParticipantEventType
PARTICIPANT_EVENT_TYPE_SNAPSHOT: ParticipantEventType
PARTICIPANT_EVENT_TYPE_UPSERT: ParticipantEventType
PARTICIPANT_EVENT_TYPE_TOMBSTONE: ParticipantEventType

class GetPlatformRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetPlatformResponse(_message.Message):
    __slots__ = ("platform",)
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    platform: _participants_pb2.Platform
    def __init__(self, platform: _Optional[_Union[_participants_pb2.Platform, _Mapping]] = ...) -> None: ...

class ListPlatformsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "status", "region_code", "proxy")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    PROXY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    status: _participants_pb2.PlatformStatus
    region_code: str
    proxy: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[_Union[_participants_pb2.PlatformStatus, str]] = ..., region_code: _Optional[str] = ..., proxy: _Optional[str] = ...) -> None: ...

class ListPlatformsResponse(_message.Message):
    __slots__ = ("platforms", "next_page_token")
    PLATFORMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    platforms: _containers.RepeatedCompositeFieldContainer[_participants_pb2.Platform]
    next_page_token: str
    def __init__(self, platforms: _Optional[_Iterable[_Union[_participants_pb2.Platform, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetInstitutionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetInstitutionResponse(_message.Message):
    __slots__ = ("institution",)
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    institution: _participants_pb2.Institution
    def __init__(self, institution: _Optional[_Union[_participants_pb2.Institution, _Mapping]] = ...) -> None: ...

class ListInstitutionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "platform")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    platform: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., platform: _Optional[str] = ...) -> None: ...

class ListInstitutionsResponse(_message.Message):
    __slots__ = ("institutions", "next_page_token")
    INSTITUTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    institutions: _containers.RepeatedCompositeFieldContainer[_participants_pb2.Institution]
    next_page_token: str
    def __init__(self, institutions: _Optional[_Iterable[_Union[_participants_pb2.Institution, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RegisterEnterpriseRequest(_message.Message):
    __slots__ = ("platform", "uscc", "display_name", "public_key", "request_id")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    USCC_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    platform: str
    uscc: str
    display_name: str
    public_key: bytes
    request_id: str
    def __init__(self, platform: _Optional[str] = ..., uscc: _Optional[str] = ..., display_name: _Optional[str] = ..., public_key: _Optional[bytes] = ..., request_id: _Optional[str] = ...) -> None: ...

class RegisterEnterpriseResponse(_message.Message):
    __slots__ = ("enterprise",)
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    enterprise: _participants_pb2.Enterprise
    def __init__(self, enterprise: _Optional[_Union[_participants_pb2.Enterprise, _Mapping]] = ...) -> None: ...

class GetEnterpriseRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetEnterpriseResponse(_message.Message):
    __slots__ = ("enterprise",)
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    enterprise: _participants_pb2.Enterprise
    def __init__(self, enterprise: _Optional[_Union[_participants_pb2.Enterprise, _Mapping]] = ...) -> None: ...

class ListEnterprisesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "platform")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    platform: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., platform: _Optional[str] = ...) -> None: ...

class ListEnterprisesResponse(_message.Message):
    __slots__ = ("enterprises", "next_page_token")
    ENTERPRISES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    enterprises: _containers.RepeatedCompositeFieldContainer[_participants_pb2.Enterprise]
    next_page_token: str
    def __init__(self, enterprises: _Optional[_Iterable[_Union[_participants_pb2.Enterprise, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RotateEnterpriseKeyRequest(_message.Message):
    __slots__ = ("name", "new_public_key", "signing_key_id", "signed_at", "signature", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NEW_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    SIGNING_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNED_AT_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    new_public_key: bytes
    signing_key_id: str
    signed_at: _timestamp_pb2.Timestamp
    signature: bytes
    request_id: str
    def __init__(self, name: _Optional[str] = ..., new_public_key: _Optional[bytes] = ..., signing_key_id: _Optional[str] = ..., signed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., signature: _Optional[bytes] = ..., request_id: _Optional[str] = ...) -> None: ...

class RotateEnterpriseKeyResponse(_message.Message):
    __slots__ = ("enterprise",)
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    enterprise: _participants_pb2.Enterprise
    def __init__(self, enterprise: _Optional[_Union[_participants_pb2.Enterprise, _Mapping]] = ...) -> None: ...

class GetDepartmentRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetDepartmentResponse(_message.Message):
    __slots__ = ("department",)
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    department: _participants_pb2.Department
    def __init__(self, department: _Optional[_Union[_participants_pb2.Department, _Mapping]] = ...) -> None: ...

class ListDepartmentsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDepartmentsResponse(_message.Message):
    __slots__ = ("departments", "next_page_token")
    DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    departments: _containers.RepeatedCompositeFieldContainer[_participants_pb2.Department]
    next_page_token: str
    def __init__(self, departments: _Optional[_Iterable[_Union[_participants_pb2.Department, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WatchParticipantsRequest(_message.Message):
    __slots__ = ("start_revision", "kinds")
    START_REVISION_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    start_revision: int
    kinds: _containers.RepeatedScalarFieldContainer[ParticipantKind]
    def __init__(self, start_revision: _Optional[int] = ..., kinds: _Optional[_Iterable[_Union[ParticipantKind, str]]] = ...) -> None: ...

class ParticipantEvent(_message.Message):
    __slots__ = ("revision", "type", "participant")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    revision: int
    type: ParticipantEventType
    participant: _participants_pb2.Participant
    def __init__(self, revision: _Optional[int] = ..., type: _Optional[_Union[ParticipantEventType, str]] = ..., participant: _Optional[_Union[_participants_pb2.Participant, _Mapping]] = ...) -> None: ...

class WatchParticipantsResponse(_message.Message):
    __slots__ = ("events", "revision", "snapshot_complete")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[ParticipantEvent]
    revision: int
    snapshot_complete: bool
    def __init__(self, events: _Optional[_Iterable[_Union[ParticipantEvent, _Mapping]]] = ..., revision: _Optional[int] = ..., snapshot_complete: _Optional[bool] = ...) -> None: ...

class ParticipantWatchStart(_message.Message):
    __slots__ = ("replica", "start_revision", "kinds")
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    START_REVISION_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    replica: str
    start_revision: int
    kinds: _containers.RepeatedScalarFieldContainer[ParticipantKind]
    def __init__(self, replica: _Optional[str] = ..., start_revision: _Optional[int] = ..., kinds: _Optional[_Iterable[_Union[ParticipantKind, str]]] = ...) -> None: ...

class ParticipantWatchAck(_message.Message):
    __slots__ = ("ack_id", "revision")
    ACK_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    ack_id: int
    revision: int
    def __init__(self, ack_id: _Optional[int] = ..., revision: _Optional[int] = ...) -> None: ...

class WatchParticipantsAckedRequest(_message.Message):
    __slots__ = ("start", "ack")
    START_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    start: ParticipantWatchStart
    ack: ParticipantWatchAck
    def __init__(self, start: _Optional[_Union[ParticipantWatchStart, _Mapping]] = ..., ack: _Optional[_Union[ParticipantWatchAck, _Mapping]] = ...) -> None: ...

class WatchParticipantsAckedResponse(_message.Message):
    __slots__ = ("events", "revision", "snapshot_complete", "acknowledged", "lease", "heartbeat_interval")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[ParticipantEvent]
    revision: int
    snapshot_complete: bool
    acknowledged: int
    lease: _duration_pb2.Duration
    heartbeat_interval: _duration_pb2.Duration
    def __init__(self, events: _Optional[_Iterable[_Union[ParticipantEvent, _Mapping]]] = ..., revision: _Optional[int] = ..., snapshot_complete: _Optional[bool] = ..., acknowledged: _Optional[int] = ..., lease: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., heartbeat_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class GetCertificateRevocationListRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCertificateRevocationListResponse(_message.Message):
    __slots__ = ("crl_der", "ca_certificate_pem", "revoked_serials")
    CRL_DER_FIELD_NUMBER: _ClassVar[int]
    CA_CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    REVOKED_SERIALS_FIELD_NUMBER: _ClassVar[int]
    crl_der: bytes
    ca_certificate_pem: str
    revoked_serials: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, crl_der: _Optional[bytes] = ..., ca_certificate_pem: _Optional[str] = ..., revoked_serials: _Optional[_Iterable[str]] = ...) -> None: ...

class GetCoverageRequest(_message.Message):
    __slots__ = ("as_of",)
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RegionCoverage(_message.Message):
    __slots__ = ("region_code", "platforms_admitted")
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    PLATFORMS_ADMITTED_FIELD_NUMBER: _ClassVar[int]
    region_code: str
    platforms_admitted: int
    def __init__(self, region_code: _Optional[str] = ..., platforms_admitted: _Optional[int] = ...) -> None: ...

class GetCoverageResponse(_message.Message):
    __slots__ = ("as_of", "regions", "platforms_admitted", "institutions_connected", "enterprises_registered", "departments_registered")
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    PLATFORMS_ADMITTED_FIELD_NUMBER: _ClassVar[int]
    INSTITUTIONS_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    ENTERPRISES_REGISTERED_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENTS_REGISTERED_FIELD_NUMBER: _ClassVar[int]
    as_of: _timestamp_pb2.Timestamp
    regions: _containers.RepeatedCompositeFieldContainer[RegionCoverage]
    platforms_admitted: int
    institutions_connected: int
    enterprises_registered: int
    departments_registered: int
    def __init__(self, as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., regions: _Optional[_Iterable[_Union[RegionCoverage, _Mapping]]] = ..., platforms_admitted: _Optional[int] = ..., institutions_connected: _Optional[int] = ..., enterprises_registered: _Optional[int] = ..., departments_registered: _Optional[int] = ...) -> None: ...
