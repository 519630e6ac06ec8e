import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LoanStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOAN_STATUS_UNSPECIFIED: _ClassVar[LoanStatus]
    LOAN_STATUS_OUTSTANDING: _ClassVar[LoanStatus]
    LOAN_STATUS_CLOSED: _ClassVar[LoanStatus]

class LoanSecurity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOAN_SECURITY_UNSPECIFIED: _ClassVar[LoanSecurity]
    LOAN_SECURITY_CREDIT: _ClassVar[LoanSecurity]
    LOAN_SECURITY_SECURED: _ClassVar[LoanSecurity]

class AlertSeverity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_SEVERITY_UNSPECIFIED: _ClassVar[AlertSeverity]
    ALERT_SEVERITY_LOW: _ClassVar[AlertSeverity]
    ALERT_SEVERITY_MEDIUM: _ClassVar[AlertSeverity]
    ALERT_SEVERITY_HIGH: _ClassVar[AlertSeverity]

class EffectivenessGroup(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EFFECTIVENESS_GROUP_UNSPECIFIED: _ClassVar[EffectivenessGroup]
    EFFECTIVENESS_GROUP_PLATFORM: _ClassVar[EffectivenessGroup]
    EFFECTIVENESS_GROUP_CITY: _ClassVar[EffectivenessGroup]
    EFFECTIVENESS_GROUP_INSTITUTION: _ClassVar[EffectivenessGroup]

class EvaluationDisputeOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVALUATION_DISPUTE_OUTCOME_UNSPECIFIED: _ClassVar[EvaluationDisputeOutcome]
    EVALUATION_DISPUTE_OUTCOME_CORRECTED: _ClassVar[EvaluationDisputeOutcome]
    EVALUATION_DISPUTE_OUTCOME_UPHELD: _ClassVar[EvaluationDisputeOutcome]
    EVALUATION_DISPUTE_OUTCOME_UNVERIFIABLE: _ClassVar[EvaluationDisputeOutcome]
LOAN_STATUS_UNSPECIFIED: LoanStatus
LOAN_STATUS_OUTSTANDING: LoanStatus
LOAN_STATUS_CLOSED: LoanStatus
LOAN_SECURITY_UNSPECIFIED: LoanSecurity
LOAN_SECURITY_CREDIT: LoanSecurity
LOAN_SECURITY_SECURED: LoanSecurity
ALERT_SEVERITY_UNSPECIFIED: AlertSeverity
ALERT_SEVERITY_LOW: AlertSeverity
ALERT_SEVERITY_MEDIUM: AlertSeverity
ALERT_SEVERITY_HIGH: AlertSeverity
EFFECTIVENESS_GROUP_UNSPECIFIED: EffectivenessGroup
EFFECTIVENESS_GROUP_PLATFORM: EffectivenessGroup
EFFECTIVENESS_GROUP_CITY: EffectivenessGroup
EFFECTIVENESS_GROUP_INSTITUTION: EffectivenessGroup
EVALUATION_DISPUTE_OUTCOME_UNSPECIFIED: EvaluationDisputeOutcome
EVALUATION_DISPUTE_OUTCOME_CORRECTED: EvaluationDisputeOutcome
EVALUATION_DISPUTE_OUTCOME_UPHELD: EvaluationDisputeOutcome
EVALUATION_DISPUTE_OUTCOME_UNVERIFIABLE: EvaluationDisputeOutcome

class RecordRef(_message.Message):
    __slots__ = ("record", "version", "item_code", "in_dispute", "event_time")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ITEM_CODE_FIELD_NUMBER: _ClassVar[int]
    IN_DISPUTE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    record: str
    version: int
    item_code: str
    in_dispute: bool
    event_time: _timestamp_pb2.Timestamp
    def __init__(self, record: _Optional[str] = ..., version: _Optional[int] = ..., item_code: _Optional[str] = ..., in_dispute: _Optional[bool] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Contribution(_message.Message):
    __slots__ = ("indicator", "dimension", "value", "bin", "points", "weight", "contribution", "missing", "excluded", "evidence", "disputed")
    INDICATOR_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    BIN_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    CONTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    EXCLUDED_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    DISPUTED_FIELD_NUMBER: _ClassVar[int]
    indicator: str
    dimension: str
    value: float
    bin: str
    points: float
    weight: float
    contribution: float
    missing: bool
    excluded: bool
    evidence: _containers.RepeatedCompositeFieldContainer[RecordRef]
    disputed: bool
    def __init__(self, indicator: _Optional[str] = ..., dimension: _Optional[str] = ..., value: _Optional[float] = ..., bin: _Optional[str] = ..., points: _Optional[float] = ..., weight: _Optional[float] = ..., contribution: _Optional[float] = ..., missing: _Optional[bool] = ..., excluded: _Optional[bool] = ..., evidence: _Optional[_Iterable[_Union[RecordRef, _Mapping]]] = ..., disputed: _Optional[bool] = ...) -> None: ...

class Evaluation(_message.Message):
    __slots__ = ("name", "enterprise", "model_version", "score", "grade", "contributions", "coverage", "discipline_flags", "disciplined", "capped", "disputed", "evaluate_time", "record_revision", "in_dispute", "dispute_objection", "unverifiable", "statements", "as_of")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    CONTRIBUTIONS_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_FIELD_NUMBER: _ClassVar[int]
    DISCIPLINE_FLAGS_FIELD_NUMBER: _ClassVar[int]
    DISCIPLINED_FIELD_NUMBER: _ClassVar[int]
    CAPPED_FIELD_NUMBER: _ClassVar[int]
    DISPUTED_FIELD_NUMBER: _ClassVar[int]
    EVALUATE_TIME_FIELD_NUMBER: _ClassVar[int]
    RECORD_REVISION_FIELD_NUMBER: _ClassVar[int]
    IN_DISPUTE_FIELD_NUMBER: _ClassVar[int]
    DISPUTE_OBJECTION_FIELD_NUMBER: _ClassVar[int]
    UNVERIFIABLE_FIELD_NUMBER: _ClassVar[int]
    STATEMENTS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    name: str
    enterprise: str
    model_version: str
    score: int
    grade: str
    contributions: _containers.RepeatedCompositeFieldContainer[Contribution]
    coverage: float
    discipline_flags: _containers.RepeatedScalarFieldContainer[str]
    disciplined: bool
    capped: bool
    disputed: bool
    evaluate_time: _timestamp_pb2.Timestamp
    record_revision: int
    in_dispute: bool
    dispute_objection: str
    unverifiable: bool
    statements: _containers.RepeatedScalarFieldContainer[str]
    as_of: str
    def __init__(self, name: _Optional[str] = ..., enterprise: _Optional[str] = ..., model_version: _Optional[str] = ..., score: _Optional[int] = ..., grade: _Optional[str] = ..., contributions: _Optional[_Iterable[_Union[Contribution, _Mapping]]] = ..., coverage: _Optional[float] = ..., discipline_flags: _Optional[_Iterable[str]] = ..., disciplined: _Optional[bool] = ..., capped: _Optional[bool] = ..., disputed: _Optional[bool] = ..., evaluate_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., record_revision: _Optional[int] = ..., in_dispute: _Optional[bool] = ..., dispute_objection: _Optional[str] = ..., unverifiable: _Optional[bool] = ..., statements: _Optional[_Iterable[str]] = ..., as_of: _Optional[str] = ...) -> None: ...

class GetEvaluationRequest(_message.Message):
    __slots__ = ("enterprise",)
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    enterprise: str
    def __init__(self, enterprise: _Optional[str] = ...) -> None: ...

class GetEvaluationResponse(_message.Message):
    __slots__ = ("evaluation",)
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    evaluation: Evaluation
    def __init__(self, evaluation: _Optional[_Union[Evaluation, _Mapping]] = ...) -> None: ...

class ListEvaluationHistoryRequest(_message.Message):
    __slots__ = ("enterprise", "page_size", "page_token")
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    enterprise: str
    page_size: int
    page_token: str
    def __init__(self, enterprise: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListEvaluationHistoryResponse(_message.Message):
    __slots__ = ("evaluations", "next_page_token")
    EVALUATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    evaluations: _containers.RepeatedCompositeFieldContainer[Evaluation]
    next_page_token: str
    def __init__(self, evaluations: _Optional[_Iterable[_Union[Evaluation, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Tag(_message.Message):
    __slots__ = ("code", "label", "evidence")
    CODE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    code: str
    label: str
    evidence: _containers.RepeatedCompositeFieldContainer[RecordRef]
    def __init__(self, code: _Optional[str] = ..., label: _Optional[str] = ..., evidence: _Optional[_Iterable[_Union[RecordRef, _Mapping]]] = ...) -> None: ...

class DimensionSummary(_message.Message):
    __slots__ = ("dimension", "points")
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    dimension: str
    points: float
    def __init__(self, dimension: _Optional[str] = ..., points: _Optional[float] = ...) -> None: ...

class Portrait(_message.Message):
    __slots__ = ("enterprise", "model_version", "score", "grade", "discipline_flags", "positive_tags", "risk_tags", "dimensions", "coverage", "disputed", "in_dispute", "dispute_objection")
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    DISCIPLINE_FLAGS_FIELD_NUMBER: _ClassVar[int]
    POSITIVE_TAGS_FIELD_NUMBER: _ClassVar[int]
    RISK_TAGS_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_FIELD_NUMBER: _ClassVar[int]
    DISPUTED_FIELD_NUMBER: _ClassVar[int]
    IN_DISPUTE_FIELD_NUMBER: _ClassVar[int]
    DISPUTE_OBJECTION_FIELD_NUMBER: _ClassVar[int]
    enterprise: str
    model_version: str
    score: int
    grade: str
    discipline_flags: _containers.RepeatedScalarFieldContainer[str]
    positive_tags: _containers.RepeatedCompositeFieldContainer[Tag]
    risk_tags: _containers.RepeatedCompositeFieldContainer[Tag]
    dimensions: _containers.RepeatedCompositeFieldContainer[DimensionSummary]
    coverage: float
    disputed: bool
    in_dispute: bool
    dispute_objection: str
    def __init__(self, enterprise: _Optional[str] = ..., model_version: _Optional[str] = ..., score: _Optional[int] = ..., grade: _Optional[str] = ..., discipline_flags: _Optional[_Iterable[str]] = ..., positive_tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ..., risk_tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ..., dimensions: _Optional[_Iterable[_Union[DimensionSummary, _Mapping]]] = ..., coverage: _Optional[float] = ..., disputed: _Optional[bool] = ..., in_dispute: _Optional[bool] = ..., dispute_objection: _Optional[str] = ...) -> None: ...

class GetPortraitRequest(_message.Message):
    __slots__ = ("enterprise",)
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    enterprise: str
    def __init__(self, enterprise: _Optional[str] = ...) -> None: ...

class GetPortraitResponse(_message.Message):
    __slots__ = ("portrait",)
    PORTRAIT_FIELD_NUMBER: _ClassVar[int]
    portrait: Portrait
    def __init__(self, portrait: _Optional[_Union[Portrait, _Mapping]] = ...) -> None: ...

class Model(_message.Message):
    __slots__ = ("name", "version", "title", "publish_time", "current")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    title: str
    publish_time: _timestamp_pb2.Timestamp
    current: bool
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., title: _Optional[str] = ..., publish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., current: _Optional[bool] = ...) -> None: ...

class PublishModelRequest(_message.Message):
    __slots__ = ("document", "request_id")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    document: str
    request_id: str
    def __init__(self, document: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class PublishModelResponse(_message.Message):
    __slots__ = ("model", "enterprises_reevaluated")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ENTERPRISES_REEVALUATED_FIELD_NUMBER: _ClassVar[int]
    model: Model
    enterprises_reevaluated: int
    def __init__(self, model: _Optional[_Union[Model, _Mapping]] = ..., enterprises_reevaluated: _Optional[int] = ...) -> None: ...

class ScenarioModel(_message.Message):
    __slots__ = ("name", "institution", "base_version", "document", "create_time", "dropped")
    class DroppedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    BASE_VERSION_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    name: str
    institution: str
    base_version: str
    document: str
    create_time: _timestamp_pb2.Timestamp
    dropped: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., institution: _Optional[str] = ..., base_version: _Optional[str] = ..., document: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., dropped: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateScenarioModelRequest(_message.Message):
    __slots__ = ("institution", "scenario_id", "document", "request_id")
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    SCENARIO_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    institution: str
    scenario_id: str
    document: str
    request_id: str
    def __init__(self, institution: _Optional[str] = ..., scenario_id: _Optional[str] = ..., document: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateScenarioModelResponse(_message.Message):
    __slots__ = ("scenario_model",)
    SCENARIO_MODEL_FIELD_NUMBER: _ClassVar[int]
    scenario_model: ScenarioModel
    def __init__(self, scenario_model: _Optional[_Union[ScenarioModel, _Mapping]] = ...) -> None: ...

class Outcome(_message.Message):
    __slots__ = ("enterprise", "bad")
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    BAD_FIELD_NUMBER: _ClassVar[int]
    enterprise: str
    bad: bool
    def __init__(self, enterprise: _Optional[str] = ..., bad: _Optional[bool] = ...) -> None: ...

class FitScenarioModelRequest(_message.Message):
    __slots__ = ("institution", "scenario_id", "outcomes", "grade_mins", "request_id")
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    SCENARIO_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    GRADE_MINS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    institution: str
    scenario_id: str
    outcomes: _containers.RepeatedCompositeFieldContainer[Outcome]
    grade_mins: _containers.RepeatedScalarFieldContainer[float]
    request_id: str
    def __init__(self, institution: _Optional[str] = ..., scenario_id: _Optional[str] = ..., outcomes: _Optional[_Iterable[_Union[Outcome, _Mapping]]] = ..., grade_mins: _Optional[_Iterable[float]] = ..., request_id: _Optional[str] = ...) -> None: ...

class FitScenarioModelResponse(_message.Message):
    __slots__ = ("scenario_model", "outcomes_used")
    SCENARIO_MODEL_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_USED_FIELD_NUMBER: _ClassVar[int]
    scenario_model: ScenarioModel
    outcomes_used: int
    def __init__(self, scenario_model: _Optional[_Union[ScenarioModel, _Mapping]] = ..., outcomes_used: _Optional[int] = ...) -> None: ...

class GetScenarioScoreRequest(_message.Message):
    __slots__ = ("scenario_model", "enterprise")
    SCENARIO_MODEL_FIELD_NUMBER: _ClassVar[int]
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    scenario_model: str
    enterprise: str
    def __init__(self, scenario_model: _Optional[str] = ..., enterprise: _Optional[str] = ...) -> None: ...

class GetScenarioScoreResponse(_message.Message):
    __slots__ = ("evaluation",)
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    evaluation: Evaluation
    def __init__(self, evaluation: _Optional[_Union[Evaluation, _Mapping]] = ...) -> None: ...

class CalendarDay(_message.Message):
    __slots__ = ("year", "month", "day")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    year: int
    month: int
    day: int
    def __init__(self, year: _Optional[int] = ..., month: _Optional[int] = ..., day: _Optional[int] = ...) -> None: ...

class Loan(_message.Message):
    __slots__ = ("name", "institution", "enterprise", "platform", "city", "amount_yuan", "term_months", "security", "first_loan", "small_micro", "granted_on", "outstanding_yuan", "status", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_YUAN_FIELD_NUMBER: _ClassVar[int]
    TERM_MONTHS_FIELD_NUMBER: _ClassVar[int]
    SECURITY_FIELD_NUMBER: _ClassVar[int]
    FIRST_LOAN_FIELD_NUMBER: _ClassVar[int]
    SMALL_MICRO_FIELD_NUMBER: _ClassVar[int]
    GRANTED_ON_FIELD_NUMBER: _ClassVar[int]
    OUTSTANDING_YUAN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    institution: str
    enterprise: str
    platform: str
    city: str
    amount_yuan: str
    term_months: int
    security: LoanSecurity
    first_loan: bool
    small_micro: bool
    granted_on: CalendarDay
    outstanding_yuan: str
    status: LoanStatus
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., institution: _Optional[str] = ..., enterprise: _Optional[str] = ..., platform: _Optional[str] = ..., city: _Optional[str] = ..., amount_yuan: _Optional[str] = ..., term_months: _Optional[int] = ..., security: _Optional[_Union[LoanSecurity, str]] = ..., first_loan: _Optional[bool] = ..., small_micro: _Optional[bool] = ..., granted_on: _Optional[_Union[CalendarDay, _Mapping]] = ..., outstanding_yuan: _Optional[str] = ..., status: _Optional[_Union[LoanStatus, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReportLoanRequest(_message.Message):
    __slots__ = ("loan_id", "institution", "enterprise", "platform", "amount_yuan", "term_months", "security", "first_loan", "small_micro", "granted_on", "request_id")
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_YUAN_FIELD_NUMBER: _ClassVar[int]
    TERM_MONTHS_FIELD_NUMBER: _ClassVar[int]
    SECURITY_FIELD_NUMBER: _ClassVar[int]
    FIRST_LOAN_FIELD_NUMBER: _ClassVar[int]
    SMALL_MICRO_FIELD_NUMBER: _ClassVar[int]
    GRANTED_ON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    loan_id: str
    institution: str
    enterprise: str
    platform: str
    amount_yuan: str
    term_months: int
    security: LoanSecurity
    first_loan: bool
    small_micro: bool
    granted_on: CalendarDay
    request_id: str
    def __init__(self, loan_id: _Optional[str] = ..., institution: _Optional[str] = ..., enterprise: _Optional[str] = ..., platform: _Optional[str] = ..., amount_yuan: _Optional[str] = ..., term_months: _Optional[int] = ..., security: _Optional[_Union[LoanSecurity, str]] = ..., first_loan: _Optional[bool] = ..., small_micro: _Optional[bool] = ..., granted_on: _Optional[_Union[CalendarDay, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class ReportLoanResponse(_message.Message):
    __slots__ = ("loan",)
    LOAN_FIELD_NUMBER: _ClassVar[int]
    loan: Loan
    def __init__(self, loan: _Optional[_Union[Loan, _Mapping]] = ...) -> None: ...

class RepayLoanRequest(_message.Message):
    __slots__ = ("loan", "amount_yuan", "repaid_on", "close", "request_id")
    LOAN_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_YUAN_FIELD_NUMBER: _ClassVar[int]
    REPAID_ON_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    loan: str
    amount_yuan: str
    repaid_on: CalendarDay
    close: bool
    request_id: str
    def __init__(self, loan: _Optional[str] = ..., amount_yuan: _Optional[str] = ..., repaid_on: _Optional[_Union[CalendarDay, _Mapping]] = ..., close: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetLoanRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetLoanResponse(_message.Message):
    __slots__ = ("loan",)
    LOAN_FIELD_NUMBER: _ClassVar[int]
    loan: Loan
    def __init__(self, loan: _Optional[_Union[Loan, _Mapping]] = ...) -> None: ...

class RepayLoanResponse(_message.Message):
    __slots__ = ("loan",)
    LOAN_FIELD_NUMBER: _ClassVar[int]
    loan: Loan
    def __init__(self, loan: _Optional[_Union[Loan, _Mapping]] = ...) -> None: ...

class Alert(_message.Message):
    __slots__ = ("cursor", "institution", "enterprise", "loan", "risk", "severity", "reason", "evidence", "discipline_flags", "create_time", "key")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    LOAN_FIELD_NUMBER: _ClassVar[int]
    RISK_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    DISCIPLINE_FLAGS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    cursor: int
    institution: str
    enterprise: str
    loan: str
    risk: str
    severity: AlertSeverity
    reason: str
    evidence: _containers.RepeatedCompositeFieldContainer[RecordRef]
    discipline_flags: _containers.RepeatedScalarFieldContainer[str]
    create_time: _timestamp_pb2.Timestamp
    key: str
    def __init__(self, cursor: _Optional[int] = ..., institution: _Optional[str] = ..., enterprise: _Optional[str] = ..., loan: _Optional[str] = ..., risk: _Optional[str] = ..., severity: _Optional[_Union[AlertSeverity, str]] = ..., reason: _Optional[str] = ..., evidence: _Optional[_Iterable[_Union[RecordRef, _Mapping]]] = ..., discipline_flags: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., key: _Optional[str] = ...) -> None: ...

class WatchAlertsRequest(_message.Message):
    __slots__ = ("institution", "after_cursor")
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    AFTER_CURSOR_FIELD_NUMBER: _ClassVar[int]
    institution: str
    after_cursor: int
    def __init__(self, institution: _Optional[str] = ..., after_cursor: _Optional[int] = ...) -> None: ...

class WatchAlertsResponse(_message.Message):
    __slots__ = ("alerts", "cursor")
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[Alert]
    cursor: int
    def __init__(self, alerts: _Optional[_Iterable[_Union[Alert, _Mapping]]] = ..., cursor: _Optional[int] = ...) -> None: ...

class AckAlertsRequest(_message.Message):
    __slots__ = ("institution", "up_to_cursor", "request_id")
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    UP_TO_CURSOR_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    institution: str
    up_to_cursor: int
    request_id: str
    def __init__(self, institution: _Optional[str] = ..., up_to_cursor: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class AckAlertsResponse(_message.Message):
    __slots__ = ("acknowledged_cursor",)
    ACKNOWLEDGED_CURSOR_FIELD_NUMBER: _ClassVar[int]
    acknowledged_cursor: int
    def __init__(self, acknowledged_cursor: _Optional[int] = ...) -> None: ...

class GetEffectivenessRequest(_message.Message):
    __slots__ = ("periods", "group_by", "progress_on")
    PERIODS_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_ON_FIELD_NUMBER: _ClassVar[int]
    periods: _containers.RepeatedScalarFieldContainer[str]
    group_by: _containers.RepeatedScalarFieldContainer[EffectivenessGroup]
    progress_on: CalendarDay
    def __init__(self, periods: _Optional[_Iterable[str]] = ..., group_by: _Optional[_Iterable[_Union[EffectivenessGroup, str]]] = ..., progress_on: _Optional[_Union[CalendarDay, _Mapping]] = ...) -> None: ...

class EffectRow(_message.Message):
    __slots__ = ("period", "platform", "city", "institution", "loans_granted", "amount_granted_yuan", "credit_loans_granted", "credit_amount_granted_yuan", "first_loans", "first_loan_amount_yuan", "credit_balance_yuan", "small_micro_credit_balance_yuan", "small_micro_share")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    LOANS_GRANTED_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_GRANTED_YUAN_FIELD_NUMBER: _ClassVar[int]
    CREDIT_LOANS_GRANTED_FIELD_NUMBER: _ClassVar[int]
    CREDIT_AMOUNT_GRANTED_YUAN_FIELD_NUMBER: _ClassVar[int]
    FIRST_LOANS_FIELD_NUMBER: _ClassVar[int]
    FIRST_LOAN_AMOUNT_YUAN_FIELD_NUMBER: _ClassVar[int]
    CREDIT_BALANCE_YUAN_FIELD_NUMBER: _ClassVar[int]
    SMALL_MICRO_CREDIT_BALANCE_YUAN_FIELD_NUMBER: _ClassVar[int]
    SMALL_MICRO_SHARE_FIELD_NUMBER: _ClassVar[int]
    period: str
    platform: str
    city: str
    institution: str
    loans_granted: int
    amount_granted_yuan: str
    credit_loans_granted: int
    credit_amount_granted_yuan: str
    first_loans: int
    first_loan_amount_yuan: str
    credit_balance_yuan: str
    small_micro_credit_balance_yuan: str
    small_micro_share: float
    def __init__(self, period: _Optional[str] = ..., platform: _Optional[str] = ..., city: _Optional[str] = ..., institution: _Optional[str] = ..., loans_granted: _Optional[int] = ..., amount_granted_yuan: _Optional[str] = ..., credit_loans_granted: _Optional[int] = ..., credit_amount_granted_yuan: _Optional[str] = ..., first_loans: _Optional[int] = ..., first_loan_amount_yuan: _Optional[str] = ..., credit_balance_yuan: _Optional[str] = ..., small_micro_credit_balance_yuan: _Optional[str] = ..., small_micro_share: _Optional[float] = ...) -> None: ...

class PlanProgress(_message.Message):
    __slots__ = ("on", "credit_balance_yuan", "target_balance_yuan", "balance_progress", "small_micro_share", "target_share", "share_progress")
    ON_FIELD_NUMBER: _ClassVar[int]
    CREDIT_BALANCE_YUAN_FIELD_NUMBER: _ClassVar[int]
    TARGET_BALANCE_YUAN_FIELD_NUMBER: _ClassVar[int]
    BALANCE_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    SMALL_MICRO_SHARE_FIELD_NUMBER: _ClassVar[int]
    TARGET_SHARE_FIELD_NUMBER: _ClassVar[int]
    SHARE_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    on: CalendarDay
    credit_balance_yuan: str
    target_balance_yuan: str
    balance_progress: float
    small_micro_share: float
    target_share: float
    share_progress: float
    def __init__(self, on: _Optional[_Union[CalendarDay, _Mapping]] = ..., credit_balance_yuan: _Optional[str] = ..., target_balance_yuan: _Optional[str] = ..., balance_progress: _Optional[float] = ..., small_micro_share: _Optional[float] = ..., target_share: _Optional[float] = ..., share_progress: _Optional[float] = ...) -> None: ...

class GetEffectivenessResponse(_message.Message):
    __slots__ = ("rows", "progress")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[EffectRow]
    progress: PlanProgress
    def __init__(self, rows: _Optional[_Iterable[_Union[EffectRow, _Mapping]]] = ..., progress: _Optional[_Union[PlanProgress, _Mapping]] = ...) -> None: ...

class GetEvaluationByNameRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetEvaluationByNameResponse(_message.Message):
    __slots__ = ("evaluation",)
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    evaluation: Evaluation
    def __init__(self, evaluation: _Optional[_Union[Evaluation, _Mapping]] = ...) -> None: ...

class SetEvaluationDisputeRequest(_message.Message):
    __slots__ = ("name", "objection", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OBJECTION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    objection: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., objection: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class SetEvaluationDisputeResponse(_message.Message):
    __slots__ = ("evaluation",)
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    evaluation: Evaluation
    def __init__(self, evaluation: _Optional[_Union[Evaluation, _Mapping]] = ...) -> None: ...

class ClearEvaluationDisputeRequest(_message.Message):
    __slots__ = ("name", "objection", "outcome", "statement", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OBJECTION_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    objection: str
    outcome: EvaluationDisputeOutcome
    statement: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., objection: _Optional[str] = ..., outcome: _Optional[_Union[EvaluationDisputeOutcome, str]] = ..., statement: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ClearEvaluationDisputeResponse(_message.Message):
    __slots__ = ("evaluation",)
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    evaluation: Evaluation
    def __init__(self, evaluation: _Optional[_Union[Evaluation, _Mapping]] = ...) -> None: ...

class AttachEvaluationStatementRequest(_message.Message):
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

class AttachEvaluationStatementResponse(_message.Message):
    __slots__ = ("evaluation",)
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    evaluation: Evaluation
    def __init__(self, evaluation: _Optional[_Union[Evaluation, _Mapping]] = ...) -> None: ...

class ReEvaluateRequest(_message.Message):
    __slots__ = ("enterprise", "objection", "request_id")
    ENTERPRISE_FIELD_NUMBER: _ClassVar[int]
    OBJECTION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    enterprise: str
    objection: str
    request_id: str
    def __init__(self, enterprise: _Optional[str] = ..., objection: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ReEvaluateResponse(_message.Message):
    __slots__ = ("evaluation",)
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    evaluation: Evaluation
    def __init__(self, evaluation: _Optional[_Union[Evaluation, _Mapping]] = ...) -> None: ...
