import datetime

from creditnode.consent.v1 import consent_service_pb2 as _consent_service_pb2
from creditnode.objection.v1 import objection_service_pb2 as _objection_service_pb2
from creditnode.registry.v1 import records_pb2 as _records_pb2
from creditnode.registry.v1 import sharing_list_pb2 as _sharing_list_pb2
from creditnode.scoring.v1 import scoring_service_pb2 as _scoring_service_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Decision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_UNSPECIFIED: _ClassVar[Decision]
    DECISION_ALLOW: _ClassVar[Decision]
    DECISION_DENY: _ClassVar[Decision]

class WithheldReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WITHHELD_REASON_UNSPECIFIED: _ClassVar[WithheldReason]
    WITHHELD_REASON_NOT_AUTHORIZED: _ClassVar[WithheldReason]
    WITHHELD_REASON_DERIVED_ONLY: _ClassVar[WithheldReason]
    WITHHELD_REASON_COMMERCIAL_SECRET: _ClassVar[WithheldReason]
    WITHHELD_REASON_UNKNOWN_ITEM: _ClassVar[WithheldReason]

class DisclosureKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISCLOSURE_KIND_UNSPECIFIED: _ClassVar[DisclosureKind]
    DISCLOSURE_KIND_RELEASE: _ClassVar[DisclosureKind]
    DISCLOSURE_KIND_EVIDENCE_PACKAGE: _ClassVar[DisclosureKind]
DECISION_UNSPECIFIED: Decision
DECISION_ALLOW: Decision
DECISION_DENY: Decision
WITHHELD_REASON_UNSPECIFIED: WithheldReason
WITHHELD_REASON_NOT_AUTHORIZED: WithheldReason
WITHHELD_REASON_DERIVED_ONLY: WithheldReason
WITHHELD_REASON_COMMERCIAL_SECRET: WithheldReason
WITHHELD_REASON_UNKNOWN_ITEM: WithheldReason
DISCLOSURE_KIND_UNSPECIFIED: DisclosureKind
DISCLOSURE_KIND_RELEASE: DisclosureKind
DISCLOSURE_KIND_EVIDENCE_PACKAGE: DisclosureKind

class ItemDecision(_message.Message):
    __slots__ = ("item_code", "openness", "decision", "withheld_reason")
    ITEM_CODE_FIELD_NUMBER: _ClassVar[int]
    OPENNESS_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    WITHHELD_REASON_FIELD_NUMBER: _ClassVar[int]
    item_code: str
    openness: _sharing_list_pb2.Openness
    decision: Decision
    withheld_reason: WithheldReason
    def __init__(self, item_code: _Optional[str] = ..., openness: _Optional[_Union[_sharing_list_pb2.Openness, str]] = ..., decision: _Optional[_Union[Decision, str]] = ..., withheld_reason: _Optional[_Union[WithheldReason, str]] = ...) -> None: ...

class ReleasedRecord(_message.Message):
    __slots__ = ("record", "in_dispute")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    IN_DISPUTE_FIELD_NUMBER: _ClassVar[int]
    record: _records_pb2.CreditRecord
    in_dispute: bool
    def __init__(self, record: _Optional[_Union[_records_pb2.CreditRecord, _Mapping]] = ..., in_dispute: _Optional[bool] = ...) -> None: ...

class DisclosureReceipt(_message.Message):
    __slots__ = ("leaf_index", "payload_sha256", "origin")
    LEAF_INDEX_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_SHA256_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    leaf_index: int
    payload_sha256: str
    origin: str
    def __init__(self, leaf_index: _Optional[int] = ..., payload_sha256: _Optional[str] = ..., origin: _Optional[str] = ...) -> None: ...

class GetCreditReportRequest(_message.Message):
    __slots__ = ("enterprise", "purpose", "item_codes", "categories", "institution", "on_behalf_of", "request_id")
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    ITEM_CODES_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    enterprise: str
    purpose: str
    item_codes: _containers.RepeatedScalarFieldContainer[str]
    categories: _containers.RepeatedScalarFieldContainer[_sharing_list_pb2.ItemCategory]
    institution: str
    on_behalf_of: str
    request_id: str
    def __init__(self, enterprise: _Optional[str] = ..., purpose: _Optional[str] = ..., item_codes: _Optional[_Iterable[str]] = ..., categories: _Optional[_Iterable[_Union[_sharing_list_pb2.ItemCategory, str]]] = ..., institution: _Optional[str] = ..., on_behalf_of: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetCreditReportResponse(_message.Message):
    __slots__ = ("enterprise", "decision", "authorization", "items", "records", "receipt", "consent_reason")
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    CONSENT_REASON_FIELD_NUMBER: _ClassVar[int]
    enterprise: str
    decision: Decision
    authorization: str
    items: _containers.RepeatedCompositeFieldContainer[ItemDecision]
    records: _containers.RepeatedCompositeFieldContainer[ReleasedRecord]
    receipt: DisclosureReceipt
    consent_reason: _consent_service_pb2.DecisionReason
    def __init__(self, enterprise: _Optional[str] = ..., decision: _Optional[_Union[Decision, str]] = ..., authorization: _Optional[str] = ..., items: _Optional[_Iterable[_Union[ItemDecision, _Mapping]]] = ..., records: _Optional[_Iterable[_Union[ReleasedRecord, _Mapping]]] = ..., receipt: _Optional[_Union[DisclosureReceipt, _Mapping]] = ..., consent_reason: _Optional[_Union[_consent_service_pb2.DecisionReason, str]] = ...) -> None: ...

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

class SelfQueryRequest(_message.Message):
    __slots__ = ("enterprise", "item_codes", "signature", "on_behalf_of", "page_size", "page_token")
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    ITEM_CODES_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    enterprise: str
    item_codes: _containers.RepeatedScalarFieldContainer[str]
    signature: EnterpriseSignature
    on_behalf_of: str
    page_size: int
    page_token: str
    def __init__(self, enterprise: _Optional[str] = ..., item_codes: _Optional[_Iterable[str]] = ..., signature: _Optional[_Union[EnterpriseSignature, _Mapping]] = ..., on_behalf_of: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class EvidencePackageExport(_message.Message):
    __slots__ = ("lender", "loan_id", "dispute_reference_sha256")
    LENDER_FIELD_NUMBER: _ClassVar[int]
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    DISPUTE_REFERENCE_SHA256_FIELD_NUMBER: _ClassVar[int]
    lender: str
    loan_id: str
    dispute_reference_sha256: str
    def __init__(self, lender: _Optional[str] = ..., loan_id: _Optional[str] = ..., dispute_reference_sha256: _Optional[str] = ...) -> None: ...

class Disclosure(_message.Message):
    __slots__ = ("leaf_index", "requester", "platform", "purpose", "item_codes", "authorization", "release_time", "payload_sha256", "kind", "evidence_package")
    LEAF_INDEX_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    ITEM_CODES_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    RELEASE_TIME_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_SHA256_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_PACKAGE_FIELD_NUMBER: _ClassVar[int]
    leaf_index: int
    requester: str
    platform: str
    purpose: str
    item_codes: _containers.RepeatedScalarFieldContainer[str]
    authorization: str
    release_time: _timestamp_pb2.Timestamp
    payload_sha256: str
    kind: DisclosureKind
    evidence_package: EvidencePackageExport
    def __init__(self, leaf_index: _Optional[int] = ..., requester: _Optional[str] = ..., platform: _Optional[str] = ..., purpose: _Optional[str] = ..., item_codes: _Optional[_Iterable[str]] = ..., authorization: _Optional[str] = ..., release_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., payload_sha256: _Optional[str] = ..., kind: _Optional[_Union[DisclosureKind, str]] = ..., evidence_package: _Optional[_Union[EvidencePackageExport, _Mapping]] = ...) -> None: ...

class SelfQueryResponse(_message.Message):
    __slots__ = ("records", "disclosures", "receipt", "next_page_token")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    DISCLOSURES_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[ReleasedRecord]
    disclosures: _containers.RepeatedCompositeFieldContainer[Disclosure]
    receipt: DisclosureReceipt
    next_page_token: str
    def __init__(self, records: _Optional[_Iterable[_Union[ReleasedRecord, _Mapping]]] = ..., disclosures: _Optional[_Iterable[_Union[Disclosure, _Mapping]]] = ..., receipt: _Optional[_Union[DisclosureReceipt, _Mapping]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GrantAuthorizationRequest(_message.Message):
    __slots__ = ("grant", "on_behalf_of")
    GRANT_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    grant: _consent_service_pb2.GrantAuthorizationRequest
    on_behalf_of: str
    def __init__(self, grant: _Optional[_Union[_consent_service_pb2.GrantAuthorizationRequest, _Mapping]] = ..., on_behalf_of: _Optional[str] = ...) -> None: ...

class GrantAuthorizationResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _consent_service_pb2.GrantAuthorizationResponse
    def __init__(self, result: _Optional[_Union[_consent_service_pb2.GrantAuthorizationResponse, _Mapping]] = ...) -> None: ...

class PauseAuthorizationRequest(_message.Message):
    __slots__ = ("pause", "on_behalf_of")
    PAUSE_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    pause: _consent_service_pb2.PauseAuthorizationRequest
    on_behalf_of: str
    def __init__(self, pause: _Optional[_Union[_consent_service_pb2.PauseAuthorizationRequest, _Mapping]] = ..., on_behalf_of: _Optional[str] = ...) -> None: ...

class PauseAuthorizationResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _consent_service_pb2.PauseAuthorizationResponse
    def __init__(self, result: _Optional[_Union[_consent_service_pb2.PauseAuthorizationResponse, _Mapping]] = ...) -> None: ...

class ResumeAuthorizationRequest(_message.Message):
    __slots__ = ("resume", "on_behalf_of")
    RESUME_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    resume: _consent_service_pb2.ResumeAuthorizationRequest
    on_behalf_of: str
    def __init__(self, resume: _Optional[_Union[_consent_service_pb2.ResumeAuthorizationRequest, _Mapping]] = ..., on_behalf_of: _Optional[str] = ...) -> None: ...

class ResumeAuthorizationResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _consent_service_pb2.ResumeAuthorizationResponse
    def __init__(self, result: _Optional[_Union[_consent_service_pb2.ResumeAuthorizationResponse, _Mapping]] = ...) -> None: ...

class RevokeAuthorizationRequest(_message.Message):
    __slots__ = ("revoke", "on_behalf_of")
    REVOKE_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    revoke: _consent_service_pb2.RevokeAuthorizationRequest
    on_behalf_of: str
    def __init__(self, revoke: _Optional[_Union[_consent_service_pb2.RevokeAuthorizationRequest, _Mapping]] = ..., on_behalf_of: _Optional[str] = ...) -> None: ...

class RevokeAuthorizationResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _consent_service_pb2.RevokeAuthorizationResponse
    def __init__(self, result: _Optional[_Union[_consent_service_pb2.RevokeAuthorizationResponse, _Mapping]] = ...) -> None: ...

class GetEvaluationRequest(_message.Message):
    __slots__ = ("enterprise", "purpose", "institution", "on_behalf_of", "request_id")
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    enterprise: str
    purpose: str
    institution: str
    on_behalf_of: str
    request_id: str
    def __init__(self, enterprise: _Optional[str] = ..., purpose: _Optional[str] = ..., institution: _Optional[str] = ..., on_behalf_of: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetEvaluationResponse(_message.Message):
    __slots__ = ("evaluation", "authorization", "receipt")
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    evaluation: _scoring_service_pb2.Evaluation
    authorization: str
    receipt: DisclosureReceipt
    def __init__(self, evaluation: _Optional[_Union[_scoring_service_pb2.Evaluation, _Mapping]] = ..., authorization: _Optional[str] = ..., receipt: _Optional[_Union[DisclosureReceipt, _Mapping]] = ...) -> None: ...

class GetPortraitRequest(_message.Message):
    __slots__ = ("enterprise", "purpose", "institution", "on_behalf_of", "request_id")
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    enterprise: str
    purpose: str
    institution: str
    on_behalf_of: str
    request_id: str
    def __init__(self, enterprise: _Optional[str] = ..., purpose: _Optional[str] = ..., institution: _Optional[str] = ..., on_behalf_of: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetPortraitResponse(_message.Message):
    __slots__ = ("portrait", "authorization", "receipt")
    PORTRAIT_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    portrait: _scoring_service_pb2.Portrait
    authorization: str
    receipt: DisclosureReceipt
    def __init__(self, portrait: _Optional[_Union[_scoring_service_pb2.Portrait, _Mapping]] = ..., authorization: _Optional[str] = ..., receipt: _Optional[_Union[DisclosureReceipt, _Mapping]] = ...) -> None: ...

class CreateScenarioModelRequest(_message.Message):
    __slots__ = ("model", "on_behalf_of")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    model: _scoring_service_pb2.CreateScenarioModelRequest
    on_behalf_of: str
    def __init__(self, model: _Optional[_Union[_scoring_service_pb2.CreateScenarioModelRequest, _Mapping]] = ..., on_behalf_of: _Optional[str] = ...) -> None: ...

class CreateScenarioModelResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _scoring_service_pb2.CreateScenarioModelResponse
    def __init__(self, result: _Optional[_Union[_scoring_service_pb2.CreateScenarioModelResponse, _Mapping]] = ...) -> None: ...

class FitScenarioModelRequest(_message.Message):
    __slots__ = ("fit", "on_behalf_of")
    FIT_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    fit: _scoring_service_pb2.FitScenarioModelRequest
    on_behalf_of: str
    def __init__(self, fit: _Optional[_Union[_scoring_service_pb2.FitScenarioModelRequest, _Mapping]] = ..., on_behalf_of: _Optional[str] = ...) -> None: ...

class FitScenarioModelResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _scoring_service_pb2.FitScenarioModelResponse
    def __init__(self, result: _Optional[_Union[_scoring_service_pb2.FitScenarioModelResponse, _Mapping]] = ...) -> None: ...

class GetScenarioScoreRequest(_message.Message):
    __slots__ = ("enterprise", "purpose", "institution", "scenario_model", "on_behalf_of", "request_id")
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    SCENARIO_MODEL_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    enterprise: str
    purpose: str
    institution: str
    scenario_model: str
    on_behalf_of: str
    request_id: str
    def __init__(self, enterprise: _Optional[str] = ..., purpose: _Optional[str] = ..., institution: _Optional[str] = ..., scenario_model: _Optional[str] = ..., on_behalf_of: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetScenarioScoreResponse(_message.Message):
    __slots__ = ("evaluation", "authorization", "receipt")
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    evaluation: _scoring_service_pb2.Evaluation
    authorization: str
    receipt: DisclosureReceipt
    def __init__(self, evaluation: _Optional[_Union[_scoring_service_pb2.Evaluation, _Mapping]] = ..., authorization: _Optional[str] = ..., receipt: _Optional[_Union[DisclosureReceipt, _Mapping]] = ...) -> None: ...

class ReportLoanRequest(_message.Message):
    __slots__ = ("loan", "on_behalf_of")
    LOAN_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    loan: _scoring_service_pb2.ReportLoanRequest
    on_behalf_of: str
    def __init__(self, loan: _Optional[_Union[_scoring_service_pb2.ReportLoanRequest, _Mapping]] = ..., on_behalf_of: _Optional[str] = ...) -> None: ...

class ReportLoanResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _scoring_service_pb2.ReportLoanResponse
    def __init__(self, result: _Optional[_Union[_scoring_service_pb2.ReportLoanResponse, _Mapping]] = ...) -> None: ...

class SubscribeRiskAlertsRequest(_message.Message):
    __slots__ = ("institution", "after_cursor", "on_behalf_of")
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    AFTER_CURSOR_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    institution: str
    after_cursor: int
    on_behalf_of: str
    def __init__(self, institution: _Optional[str] = ..., after_cursor: _Optional[int] = ..., on_behalf_of: _Optional[str] = ...) -> None: ...

class SubscribeRiskAlertsResponse(_message.Message):
    __slots__ = ("alerts", "cursor", "receipts")
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    RECEIPTS_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[_scoring_service_pb2.Alert]
    cursor: int
    receipts: _containers.RepeatedCompositeFieldContainer[DisclosureReceipt]
    def __init__(self, alerts: _Optional[_Iterable[_Union[_scoring_service_pb2.Alert, _Mapping]]] = ..., cursor: _Optional[int] = ..., receipts: _Optional[_Iterable[_Union[DisclosureReceipt, _Mapping]]] = ...) -> None: ...

class AckRiskAlertsRequest(_message.Message):
    __slots__ = ("institution", "up_to_cursor", "on_behalf_of", "request_id")
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    UP_TO_CURSOR_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    institution: str
    up_to_cursor: int
    on_behalf_of: str
    request_id: str
    def __init__(self, institution: _Optional[str] = ..., up_to_cursor: _Optional[int] = ..., on_behalf_of: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class AckRiskAlertsResponse(_message.Message):
    __slots__ = ("acknowledged_cursor",)
    ACKNOWLEDGED_CURSOR_FIELD_NUMBER: _ClassVar[int]
    acknowledged_cursor: int
    def __init__(self, acknowledged_cursor: _Optional[int] = ...) -> None: ...

class FileObjectionRequest(_message.Message):
    __slots__ = ("objection", "on_behalf_of", "signature")
    OBJECTION_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    objection: _objection_service_pb2.FileObjectionRequest
    on_behalf_of: str
    signature: EnterpriseSignature
    def __init__(self, objection: _Optional[_Union[_objection_service_pb2.FileObjectionRequest, _Mapping]] = ..., on_behalf_of: _Optional[str] = ..., signature: _Optional[_Union[EnterpriseSignature, _Mapping]] = ...) -> None: ...

class FileObjectionResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _objection_service_pb2.FileObjectionResponse
    def __init__(self, result: _Optional[_Union[_objection_service_pb2.FileObjectionResponse, _Mapping]] = ...) -> None: ...

class GetObjectionRequest(_message.Message):
    __slots__ = ("name", "on_behalf_of")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    name: str
    on_behalf_of: str
    def __init__(self, name: _Optional[str] = ..., on_behalf_of: _Optional[str] = ...) -> None: ...

class GetObjectionResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _objection_service_pb2.GetObjectionResponse
    def __init__(self, result: _Optional[_Union[_objection_service_pb2.GetObjectionResponse, _Mapping]] = ...) -> None: ...

class GetEvidencePackageRequest(_message.Message):
    __slots__ = ("arbiter", "dispute_reference", "enterprise", "lender", "loan_id", "on_behalf_of")
    ARBITER_FIELD_NUMBER: _ClassVar[int]
    DISPUTE_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    LENDER_FIELD_NUMBER: _ClassVar[int]
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    arbiter: str
    dispute_reference: str
    enterprise: str
    lender: str
    loan_id: str
    on_behalf_of: str
    def __init__(self, arbiter: _Optional[str] = ..., dispute_reference: _Optional[str] = ..., enterprise: _Optional[str] = ..., lender: _Optional[str] = ..., loan_id: _Optional[str] = ..., on_behalf_of: _Optional[str] = ...) -> None: ...

class GetEvidencePackageResponse(_message.Message):
    __slots__ = ("package_json", "package_sha256", "leaf_index")
    PACKAGE_JSON_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_SHA256_FIELD_NUMBER: _ClassVar[int]
    LEAF_INDEX_FIELD_NUMBER: _ClassVar[int]
    package_json: str
    package_sha256: str
    leaf_index: int
    def __init__(self, package_json: _Optional[str] = ..., package_sha256: _Optional[str] = ..., leaf_index: _Optional[int] = ...) -> None: ...
