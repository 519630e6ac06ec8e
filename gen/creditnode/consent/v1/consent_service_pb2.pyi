import datetime

from creditnode.common.v1 import error_reason_pb2 as _error_reason_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AuthorizationState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUTHORIZATION_STATE_UNSPECIFIED: _ClassVar[AuthorizationState]
    AUTHORIZATION_STATE_ACTIVE: _ClassVar[AuthorizationState]
    AUTHORIZATION_STATE_PAUSED: _ClassVar[AuthorizationState]
    AUTHORIZATION_STATE_REVOKED: _ClassVar[AuthorizationState]
    AUTHORIZATION_STATE_EXPIRED: _ClassVar[AuthorizationState]

class UseLimitKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USE_LIMIT_KIND_UNSPECIFIED: _ClassVar[UseLimitKind]
    USE_LIMIT_KIND_ONE_TIME: _ClassVar[UseLimitKind]
    USE_LIMIT_KIND_MAX_USES: _ClassVar[UseLimitKind]
    USE_LIMIT_KIND_FREQUENCY: _ClassVar[UseLimitKind]

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_TYPE_UNSPECIFIED: _ClassVar[EventType]
    EVENT_TYPE_GRANTED: _ClassVar[EventType]
    EVENT_TYPE_PAUSED: _ClassVar[EventType]
    EVENT_TYPE_RESUMED: _ClassVar[EventType]
    EVENT_TYPE_REVOKED: _ClassVar[EventType]
    EVENT_TYPE_REVOKED_REQUESTER_REMOVED: _ClassVar[EventType]
    EVENT_TYPE_EXPIRED: _ClassVar[EventType]

class Decision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_UNSPECIFIED: _ClassVar[Decision]
    DECISION_ALLOW: _ClassVar[Decision]
    DECISION_DENY: _ClassVar[Decision]

class DecisionReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_REASON_UNSPECIFIED: _ClassVar[DecisionReason]
    DECISION_REASON_AUTHORIZED: _ClassVar[DecisionReason]
    DECISION_REASON_NO_AUTHORIZATION: _ClassVar[DecisionReason]
    DECISION_REASON_PAUSED: _ClassVar[DecisionReason]
    DECISION_REASON_REVOKED: _ClassVar[DecisionReason]
    DECISION_REASON_EXPIRED: _ClassVar[DecisionReason]
    DECISION_REASON_NOT_YET_VALID: _ClassVar[DecisionReason]
    DECISION_REASON_OUT_OF_SCOPE: _ClassVar[DecisionReason]
    DECISION_REASON_USE_LIMIT_REACHED: _ClassVar[DecisionReason]
AUTHORIZATION_STATE_UNSPECIFIED: AuthorizationState
AUTHORIZATION_STATE_ACTIVE: AuthorizationState
AUTHORIZATION_STATE_PAUSED: AuthorizationState
AUTHORIZATION_STATE_REVOKED: AuthorizationState
AUTHORIZATION_STATE_EXPIRED: AuthorizationState
USE_LIMIT_KIND_UNSPECIFIED: UseLimitKind
USE_LIMIT_KIND_ONE_TIME: UseLimitKind
USE_LIMIT_KIND_MAX_USES: UseLimitKind
USE_LIMIT_KIND_FREQUENCY: UseLimitKind
EVENT_TYPE_UNSPECIFIED: EventType
EVENT_TYPE_GRANTED: EventType
EVENT_TYPE_PAUSED: EventType
EVENT_TYPE_RESUMED: EventType
EVENT_TYPE_REVOKED: EventType
EVENT_TYPE_REVOKED_REQUESTER_REMOVED: EventType
EVENT_TYPE_EXPIRED: EventType
DECISION_UNSPECIFIED: Decision
DECISION_ALLOW: Decision
DECISION_DENY: Decision
DECISION_REASON_UNSPECIFIED: DecisionReason
DECISION_REASON_AUTHORIZED: DecisionReason
DECISION_REASON_NO_AUTHORIZATION: DecisionReason
DECISION_REASON_PAUSED: DecisionReason
DECISION_REASON_REVOKED: DecisionReason
DECISION_REASON_EXPIRED: DecisionReason
DECISION_REASON_NOT_YET_VALID: DecisionReason
DECISION_REASON_OUT_OF_SCOPE: DecisionReason
DECISION_REASON_USE_LIMIT_REACHED: DecisionReason

class EnterpriseSignature(_message.Message):
    __slots__ = ("key_id", "nonce", "signed_at", "signature")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    SIGNED_AT_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    nonce: str
    signed_at: _timestamp_pb2.Timestamp
    signature: bytes
    def __init__(self, key_id: _Optional[str] = ..., nonce: _Optional[str] = ..., signed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., signature: _Optional[bytes] = ...) -> None: ...

class UseLimit(_message.Message):
    __slots__ = ("kind", "max_uses", "period_days")
    KIND_FIELD_NUMBER: _ClassVar[int]
    MAX_USES_FIELD_NUMBER: _ClassVar[int]
    PERIOD_DAYS_FIELD_NUMBER: _ClassVar[int]
    kind: UseLimitKind
    max_uses: int
    period_days: int
    def __init__(self, kind: _Optional[_Union[UseLimitKind, str]] = ..., max_uses: _Optional[int] = ..., period_days: _Optional[int] = ...) -> None: ...

class Authorization(_message.Message):
    __slots__ = ("name", "enterprise", "requester", "purpose", "items", "categories", "covered_items", "valid_from", "valid_until", "data_since", "use_limit", "state", "uses", "last_use_time", "revision", "signing_key_id", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    COVERED_ITEMS_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    DATA_SINCE_FIELD_NUMBER: _ClassVar[int]
    USE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    USES_FIELD_NUMBER: _ClassVar[int]
    LAST_USE_TIME_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SIGNING_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    enterprise: str
    requester: str
    purpose: str
    items: _containers.RepeatedScalarFieldContainer[str]
    categories: _containers.RepeatedScalarFieldContainer[str]
    covered_items: _containers.RepeatedScalarFieldContainer[str]
    valid_from: _timestamp_pb2.Timestamp
    valid_until: _timestamp_pb2.Timestamp
    data_since: _timestamp_pb2.Timestamp
    use_limit: UseLimit
    state: AuthorizationState
    uses: int
    last_use_time: _timestamp_pb2.Timestamp
    revision: int
    signing_key_id: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., enterprise: _Optional[str] = ..., requester: _Optional[str] = ..., purpose: _Optional[str] = ..., items: _Optional[_Iterable[str]] = ..., categories: _Optional[_Iterable[str]] = ..., covered_items: _Optional[_Iterable[str]] = ..., valid_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., data_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., use_limit: _Optional[_Union[UseLimit, _Mapping]] = ..., state: _Optional[_Union[AuthorizationState, str]] = ..., uses: _Optional[int] = ..., last_use_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revision: _Optional[int] = ..., signing_key_id: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Receipt(_message.Message):
    __slots__ = ("name", "authorization", "event_type", "revision", "record_time", "signed_payload", "signature", "signing_key_id", "previous_digest", "digest")
    NAME_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    RECORD_TIME_FIELD_NUMBER: _ClassVar[int]
    SIGNED_PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    SIGNING_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_DIGEST_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    name: str
    authorization: str
    event_type: EventType
    revision: int
    record_time: _timestamp_pb2.Timestamp
    signed_payload: bytes
    signature: bytes
    signing_key_id: str
    previous_digest: bytes
    digest: bytes
    def __init__(self, name: _Optional[str] = ..., authorization: _Optional[str] = ..., event_type: _Optional[_Union[EventType, str]] = ..., revision: _Optional[int] = ..., record_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., signed_payload: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., signing_key_id: _Optional[str] = ..., previous_digest: _Optional[bytes] = ..., digest: _Optional[bytes] = ...) -> None: ...

class AuthorizationEvent(_message.Message):
    __slots__ = ("revision", "event_type", "authorization", "receipt")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    revision: int
    event_type: EventType
    authorization: Authorization
    receipt: Receipt
    def __init__(self, revision: _Optional[int] = ..., event_type: _Optional[_Union[EventType, str]] = ..., authorization: _Optional[_Union[Authorization, _Mapping]] = ..., receipt: _Optional[_Union[Receipt, _Mapping]] = ...) -> None: ...

class Use(_message.Message):
    __slots__ = ("use_time", "items", "request_id")
    USE_TIME_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    use_time: _timestamp_pb2.Timestamp
    items: _containers.RepeatedScalarFieldContainer[str]
    request_id: str
    def __init__(self, use_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., items: _Optional[_Iterable[str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class PurposeTemplate(_message.Message):
    __slots__ = ("code", "display_name", "max_validity", "max_lookback", "max_uses", "use_limit_kinds", "min_period_days")
    CODE_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    MAX_VALIDITY_FIELD_NUMBER: _ClassVar[int]
    MAX_LOOKBACK_FIELD_NUMBER: _ClassVar[int]
    MAX_USES_FIELD_NUMBER: _ClassVar[int]
    USE_LIMIT_KINDS_FIELD_NUMBER: _ClassVar[int]
    MIN_PERIOD_DAYS_FIELD_NUMBER: _ClassVar[int]
    code: str
    display_name: str
    max_validity: _duration_pb2.Duration
    max_lookback: _duration_pb2.Duration
    max_uses: int
    use_limit_kinds: _containers.RepeatedScalarFieldContainer[UseLimitKind]
    min_period_days: int
    def __init__(self, code: _Optional[str] = ..., display_name: _Optional[str] = ..., max_validity: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_lookback: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_uses: _Optional[int] = ..., use_limit_kinds: _Optional[_Iterable[_Union[UseLimitKind, str]]] = ..., min_period_days: _Optional[int] = ...) -> None: ...

class GrantAuthorizationRequest(_message.Message):
    __slots__ = ("enterprise", "requester", "purpose", "items", "categories", "valid_from", "valid_until", "data_since", "use_limit", "signature", "request_id")
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    DATA_SINCE_FIELD_NUMBER: _ClassVar[int]
    USE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    enterprise: str
    requester: str
    purpose: str
    items: _containers.RepeatedScalarFieldContainer[str]
    categories: _containers.RepeatedScalarFieldContainer[str]
    valid_from: _timestamp_pb2.Timestamp
    valid_until: _timestamp_pb2.Timestamp
    data_since: _timestamp_pb2.Timestamp
    use_limit: UseLimit
    signature: EnterpriseSignature
    request_id: str
    def __init__(self, enterprise: _Optional[str] = ..., requester: _Optional[str] = ..., purpose: _Optional[str] = ..., items: _Optional[_Iterable[str]] = ..., categories: _Optional[_Iterable[str]] = ..., valid_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., data_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., use_limit: _Optional[_Union[UseLimit, _Mapping]] = ..., signature: _Optional[_Union[EnterpriseSignature, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GrantAuthorizationResponse(_message.Message):
    __slots__ = ("authorization", "receipt")
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    authorization: Authorization
    receipt: Receipt
    def __init__(self, authorization: _Optional[_Union[Authorization, _Mapping]] = ..., receipt: _Optional[_Union[Receipt, _Mapping]] = ...) -> None: ...

class PauseAuthorizationRequest(_message.Message):
    __slots__ = ("authorization", "enterprise", "signature", "request_id")
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    authorization: str
    enterprise: str
    signature: EnterpriseSignature
    request_id: str
    def __init__(self, authorization: _Optional[str] = ..., enterprise: _Optional[str] = ..., signature: _Optional[_Union[EnterpriseSignature, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class PauseAuthorizationResponse(_message.Message):
    __slots__ = ("authorization", "receipt")
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    authorization: Authorization
    receipt: Receipt
    def __init__(self, authorization: _Optional[_Union[Authorization, _Mapping]] = ..., receipt: _Optional[_Union[Receipt, _Mapping]] = ...) -> None: ...

class ResumeAuthorizationRequest(_message.Message):
    __slots__ = ("authorization", "enterprise", "signature", "request_id")
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    authorization: str
    enterprise: str
    signature: EnterpriseSignature
    request_id: str
    def __init__(self, authorization: _Optional[str] = ..., enterprise: _Optional[str] = ..., signature: _Optional[_Union[EnterpriseSignature, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class ResumeAuthorizationResponse(_message.Message):
    __slots__ = ("authorization", "receipt")
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    authorization: Authorization
    receipt: Receipt
    def __init__(self, authorization: _Optional[_Union[Authorization, _Mapping]] = ..., receipt: _Optional[_Union[Receipt, _Mapping]] = ...) -> None: ...

class RevokeAuthorizationRequest(_message.Message):
    __slots__ = ("authorization", "enterprise", "signature", "request_id")
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    authorization: str
    enterprise: str
    signature: EnterpriseSignature
    request_id: str
    def __init__(self, authorization: _Optional[str] = ..., enterprise: _Optional[str] = ..., signature: _Optional[_Union[EnterpriseSignature, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class RevokeAuthorizationResponse(_message.Message):
    __slots__ = ("authorization", "receipt")
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    authorization: Authorization
    receipt: Receipt
    def __init__(self, authorization: _Optional[_Union[Authorization, _Mapping]] = ..., receipt: _Optional[_Union[Receipt, _Mapping]] = ...) -> None: ...

class GetAuthorizationRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetAuthorizationResponse(_message.Message):
    __slots__ = ("authorization",)
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    authorization: Authorization
    def __init__(self, authorization: _Optional[_Union[Authorization, _Mapping]] = ...) -> None: ...

class ListAuthorizationsRequest(_message.Message):
    __slots__ = ("enterprise", "page_size", "page_token", "requester", "state")
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    enterprise: str
    page_size: int
    page_token: str
    requester: str
    state: AuthorizationState
    def __init__(self, enterprise: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., requester: _Optional[str] = ..., state: _Optional[_Union[AuthorizationState, str]] = ...) -> None: ...

class ListAuthorizationsResponse(_message.Message):
    __slots__ = ("authorizations", "next_page_token")
    AUTHORIZATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    authorizations: _containers.RepeatedCompositeFieldContainer[Authorization]
    next_page_token: str
    def __init__(self, authorizations: _Optional[_Iterable[_Union[Authorization, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListAuthorizationEventsRequest(_message.Message):
    __slots__ = ("authorization", "page_size", "page_token")
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    authorization: str
    page_size: int
    page_token: str
    def __init__(self, authorization: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAuthorizationEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[AuthorizationEvent]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[AuthorizationEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListAuthorizationUsesRequest(_message.Message):
    __slots__ = ("authorization", "page_size", "page_token")
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    authorization: str
    page_size: int
    page_token: str
    def __init__(self, authorization: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAuthorizationUsesResponse(_message.Message):
    __slots__ = ("uses", "next_page_token")
    USES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    uses: _containers.RepeatedCompositeFieldContainer[Use]
    next_page_token: str
    def __init__(self, uses: _Optional[_Iterable[_Union[Use, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CheckAuthorizationRequest(_message.Message):
    __slots__ = ("requester", "enterprise", "purpose", "items", "data_since", "consume", "authorization", "request_id")
    REQUESTER_FIELD_NUMBER: _ClassVar[int]
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    DATA_SINCE_FIELD_NUMBER: _ClassVar[int]
    CONSUME_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    requester: str
    enterprise: str
    purpose: str
    items: _containers.RepeatedScalarFieldContainer[str]
    data_since: _timestamp_pb2.Timestamp
    consume: bool
    authorization: str
    request_id: str
    def __init__(self, requester: _Optional[str] = ..., enterprise: _Optional[str] = ..., purpose: _Optional[str] = ..., items: _Optional[_Iterable[str]] = ..., data_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., consume: _Optional[bool] = ..., authorization: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class CheckAuthorizationResponse(_message.Message):
    __slots__ = ("decision", "reason", "authorization", "data_since", "valid_until", "uses")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    DATA_SINCE_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    USES_FIELD_NUMBER: _ClassVar[int]
    decision: Decision
    reason: DecisionReason
    authorization: str
    data_since: _timestamp_pb2.Timestamp
    valid_until: _timestamp_pb2.Timestamp
    uses: int
    def __init__(self, decision: _Optional[_Union[Decision, str]] = ..., reason: _Optional[_Union[DecisionReason, str]] = ..., authorization: _Optional[str] = ..., data_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., uses: _Optional[int] = ...) -> None: ...

class BatchCheckAuthorizationsRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[CheckAuthorizationRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[CheckAuthorizationRequest, _Mapping]]] = ...) -> None: ...

class BatchCheckAuthorizationsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[CheckAuthorizationResult]
    def __init__(self, results: _Optional[_Iterable[_Union[CheckAuthorizationResult, _Mapping]]] = ...) -> None: ...

class CheckAuthorizationResult(_message.Message):
    __slots__ = ("response", "error")
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    response: CheckAuthorizationResponse
    error: CheckAuthorizationError
    def __init__(self, response: _Optional[_Union[CheckAuthorizationResponse, _Mapping]] = ..., error: _Optional[_Union[CheckAuthorizationError, _Mapping]] = ...) -> None: ...

class CheckAuthorizationError(_message.Message):
    __slots__ = ("code", "message", "reason", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    reason: _error_reason_pb2.ErrorReason
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., reason: _Optional[_Union[_error_reason_pb2.ErrorReason, str]] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListPurposesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPurposesResponse(_message.Message):
    __slots__ = ("purposes", "next_page_token")
    PURPOSES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    purposes: _containers.RepeatedCompositeFieldContainer[PurposeTemplate]
    next_page_token: str
    def __init__(self, purposes: _Optional[_Iterable[_Union[PurposeTemplate, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WatchStart(_message.Message):
    __slots__ = ("replica", "start_revision")
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    START_REVISION_FIELD_NUMBER: _ClassVar[int]
    replica: str
    start_revision: int
    def __init__(self, replica: _Optional[str] = ..., start_revision: _Optional[int] = ...) -> None: ...

class WatchAck(_message.Message):
    __slots__ = ("ack_id", "revision")
    ACK_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    ack_id: int
    revision: int
    def __init__(self, ack_id: _Optional[int] = ..., revision: _Optional[int] = ...) -> None: ...

class WatchAuthorizationsRequest(_message.Message):
    __slots__ = ("start", "ack")
    START_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    start: WatchStart
    ack: WatchAck
    def __init__(self, start: _Optional[_Union[WatchStart, _Mapping]] = ..., ack: _Optional[_Union[WatchAck, _Mapping]] = ...) -> None: ...

class WatchAuthorizationsResponse(_message.Message):
    __slots__ = ("events", "revision", "snapshot_complete", "reset", "acknowledged", "lease", "heartbeat_interval")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    RESET_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[AuthorizationEvent]
    revision: int
    snapshot_complete: bool
    reset: bool
    acknowledged: int
    lease: _duration_pb2.Duration
    heartbeat_interval: _duration_pb2.Duration
    def __init__(self, events: _Optional[_Iterable[_Union[AuthorizationEvent, _Mapping]]] = ..., revision: _Optional[int] = ..., snapshot_complete: _Optional[bool] = ..., reset: _Optional[bool] = ..., acknowledged: _Optional[int] = ..., lease: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., heartbeat_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...
