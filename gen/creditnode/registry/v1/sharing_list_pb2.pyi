import datetime

from creditnode.registry.v1 import participants_pb2 as _participants_pb2
from creditnode.registry.v1 import registry_admin_service_pb2 as _registry_admin_service_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ItemCategory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ITEM_CATEGORY_UNSPECIFIED: _ClassVar[ItemCategory]
    ITEM_CATEGORY_REGISTRATION: _ClassVar[ItemCategory]
    ITEM_CATEGORY_TAX: _ClassVar[ItemCategory]
    ITEM_CATEGORY_SOCIAL_INSURANCE: _ClassVar[ItemCategory]
    ITEM_CATEGORY_HOUSING_FUND: _ClassVar[ItemCategory]
    ITEM_CATEGORY_UTILITIES: _ClassVar[ItemCategory]
    ITEM_CATEGORY_JUDICIAL: _ClassVar[ItemCategory]
    ITEM_CATEGORY_ADMINISTRATIVE_PENALTY: _ClassVar[ItemCategory]
    ITEM_CATEGORY_SUPERVISION: _ClassVar[ItemCategory]
    ITEM_CATEGORY_DISHONESTY_DISCIPLINE: _ClassVar[ItemCategory]
    ITEM_CATEGORY_CREDIT_COMMITMENT: _ClassVar[ItemCategory]
    ITEM_CATEGORY_HONOURS: _ClassVar[ItemCategory]
    ITEM_CATEGORY_INTELLECTUAL_PROPERTY: _ClassVar[ItemCategory]
    ITEM_CATEGORY_FINANCE: _ClassVar[ItemCategory]
    ITEM_CATEGORY_CUSTOMS: _ClassVar[ItemCategory]
    ITEM_CATEGORY_ENVIRONMENT: _ClassVar[ItemCategory]

class SharingMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SHARING_METHOD_UNSPECIFIED: _ClassVar[SharingMethod]
    SHARING_METHOD_REALTIME_PUSH: _ClassVar[SharingMethod]
    SHARING_METHOD_DAILY_BATCH: _ClassVar[SharingMethod]
    SHARING_METHOD_MONTHLY_BATCH: _ClassVar[SharingMethod]

class Openness(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OPENNESS_UNSPECIFIED: _ClassVar[Openness]
    OPENNESS_PUBLIC: _ClassVar[Openness]
    OPENNESS_NON_PUBLIC: _ClassVar[Openness]
    OPENNESS_OPERATING_OPT_IN: _ClassVar[Openness]
    OPENNESS_COMMERCIAL_SECRET: _ClassVar[Openness]

class FieldType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FIELD_TYPE_UNSPECIFIED: _ClassVar[FieldType]
    FIELD_TYPE_STRING: _ClassVar[FieldType]
    FIELD_TYPE_INT: _ClassVar[FieldType]
    FIELD_TYPE_DECIMAL: _ClassVar[FieldType]
    FIELD_TYPE_DATE: _ClassVar[FieldType]
    FIELD_TYPE_BOOL: _ClassVar[FieldType]
    FIELD_TYPE_ENUM: _ClassVar[FieldType]

class MaskKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MASK_KIND_UNSPECIFIED: _ClassVar[MaskKind]
    MASK_KIND_NAME: _ClassVar[MaskKind]
    MASK_KIND_ID_NUMBER: _ClassVar[MaskKind]
    MASK_KIND_PHONE: _ClassVar[MaskKind]
    MASK_KIND_EMAIL: _ClassVar[MaskKind]
    MASK_KIND_FULL: _ClassVar[MaskKind]

class DeadlineKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEADLINE_KIND_UNSPECIFIED: _ClassVar[DeadlineKind]
    DEADLINE_KIND_WITHIN_HOURS: _ClassVar[DeadlineKind]
    DEADLINE_KIND_WITHIN_DAYS: _ClassVar[DeadlineKind]
    DEADLINE_KIND_DAY_OF_FOLLOWING_MONTH: _ClassVar[DeadlineKind]

class SharingListChangeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SHARING_LIST_CHANGE_KIND_UNSPECIFIED: _ClassVar[SharingListChangeKind]
    SHARING_LIST_CHANGE_KIND_ADDED: _ClassVar[SharingListChangeKind]
    SHARING_LIST_CHANGE_KIND_REMOVED: _ClassVar[SharingListChangeKind]
    SHARING_LIST_CHANGE_KIND_CHANGED: _ClassVar[SharingListChangeKind]
ITEM_CATEGORY_UNSPECIFIED: ItemCategory
ITEM_CATEGORY_REGISTRATION: ItemCategory
ITEM_CATEGORY_TAX: ItemCategory
ITEM_CATEGORY_SOCIAL_INSURANCE: ItemCategory
ITEM_CATEGORY_HOUSING_FUND: ItemCategory
ITEM_CATEGORY_UTILITIES: ItemCategory
ITEM_CATEGORY_JUDICIAL: ItemCategory
ITEM_CATEGORY_ADMINISTRATIVE_PENALTY: ItemCategory
ITEM_CATEGORY_SUPERVISION: ItemCategory
ITEM_CATEGORY_DISHONESTY_DISCIPLINE: ItemCategory
ITEM_CATEGORY_CREDIT_COMMITMENT: ItemCategory
ITEM_CATEGORY_HONOURS: ItemCategory
ITEM_CATEGORY_INTELLECTUAL_PROPERTY: ItemCategory
ITEM_CATEGORY_FINANCE: ItemCategory
ITEM_CATEGORY_CUSTOMS: ItemCategory
ITEM_CATEGORY_ENVIRONMENT: ItemCategory
SHARING_METHOD_UNSPECIFIED: SharingMethod
SHARING_METHOD_REALTIME_PUSH: SharingMethod
SHARING_METHOD_DAILY_BATCH: SharingMethod
SHARING_METHOD_MONTHLY_BATCH: SharingMethod
OPENNESS_UNSPECIFIED: Openness
OPENNESS_PUBLIC: Openness
OPENNESS_NON_PUBLIC: Openness
OPENNESS_OPERATING_OPT_IN: Openness
OPENNESS_COMMERCIAL_SECRET: Openness
FIELD_TYPE_UNSPECIFIED: FieldType
FIELD_TYPE_STRING: FieldType
FIELD_TYPE_INT: FieldType
FIELD_TYPE_DECIMAL: FieldType
FIELD_TYPE_DATE: FieldType
FIELD_TYPE_BOOL: FieldType
FIELD_TYPE_ENUM: FieldType
MASK_KIND_UNSPECIFIED: MaskKind
MASK_KIND_NAME: MaskKind
MASK_KIND_ID_NUMBER: MaskKind
MASK_KIND_PHONE: MaskKind
MASK_KIND_EMAIL: MaskKind
MASK_KIND_FULL: MaskKind
DEADLINE_KIND_UNSPECIFIED: DeadlineKind
DEADLINE_KIND_WITHIN_HOURS: DeadlineKind
DEADLINE_KIND_WITHIN_DAYS: DeadlineKind
DEADLINE_KIND_DAY_OF_FOLLOWING_MONTH: DeadlineKind
SHARING_LIST_CHANGE_KIND_UNSPECIFIED: SharingListChangeKind
SHARING_LIST_CHANGE_KIND_ADDED: SharingListChangeKind
SHARING_LIST_CHANGE_KIND_REMOVED: SharingListChangeKind
SHARING_LIST_CHANGE_KIND_CHANGED: SharingListChangeKind

class CalendarDate(_message.Message):
    __slots__ = ("year", "month", "day")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    year: int
    month: int
    day: int
    def __init__(self, year: _Optional[int] = ..., month: _Optional[int] = ..., day: _Optional[int] = ...) -> None: ...

class Deadline(_message.Message):
    __slots__ = ("kind", "amount")
    KIND_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    kind: DeadlineKind
    amount: int
    def __init__(self, kind: _Optional[_Union[DeadlineKind, str]] = ..., amount: _Optional[int] = ...) -> None: ...

class FieldSchema(_message.Message):
    __slots__ = ("name", "label", "type", "required", "max_length", "pattern", "minimum", "maximum", "scale", "values", "personal", "mask")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    MAX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    PERSONAL_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    name: str
    label: str
    type: FieldType
    required: bool
    max_length: int
    pattern: str
    minimum: str
    maximum: str
    scale: int
    values: _containers.RepeatedScalarFieldContainer[str]
    personal: bool
    mask: MaskKind
    def __init__(self, name: _Optional[str] = ..., label: _Optional[str] = ..., type: _Optional[_Union[FieldType, str]] = ..., required: _Optional[bool] = ..., max_length: _Optional[int] = ..., pattern: _Optional[str] = ..., minimum: _Optional[str] = ..., maximum: _Optional[str] = ..., scale: _Optional[int] = ..., values: _Optional[_Iterable[str]] = ..., personal: _Optional[bool] = ..., mask: _Optional[_Union[MaskKind, str]] = ...) -> None: ...

class SharingListDepartment(_message.Message):
    __slots__ = ("code", "display_name", "kind")
    CODE_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    code: str
    display_name: str
    kind: _participants_pb2.DepartmentKind
    def __init__(self, code: _Optional[str] = ..., display_name: _Optional[str] = ..., kind: _Optional[_Union[_participants_pb2.DepartmentKind, str]] = ...) -> None: ...

class SharingListItem(_message.Message):
    __slots__ = ("code", "name", "category", "department", "sharing_method", "deadline", "openness", "extends_national", "publicity_months", "fields")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    SHARING_METHOD_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    OPENNESS_FIELD_NUMBER: _ClassVar[int]
    EXTENDS_NATIONAL_FIELD_NUMBER: _ClassVar[int]
    PUBLICITY_MONTHS_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    category: ItemCategory
    department: str
    sharing_method: SharingMethod
    deadline: Deadline
    openness: Openness
    extends_national: bool
    publicity_months: int
    fields: _containers.RepeatedCompositeFieldContainer[FieldSchema]
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ..., category: _Optional[_Union[ItemCategory, str]] = ..., department: _Optional[str] = ..., sharing_method: _Optional[_Union[SharingMethod, str]] = ..., deadline: _Optional[_Union[Deadline, _Mapping]] = ..., openness: _Optional[_Union[Openness, str]] = ..., extends_national: _Optional[bool] = ..., publicity_months: _Optional[int] = ..., fields: _Optional[_Iterable[_Union[FieldSchema, _Mapping]]] = ...) -> None: ...

class SharingList(_message.Message):
    __slots__ = ("version", "title", "extends", "effective_from", "departments", "items")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    EXTENDS_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    version: int
    title: str
    extends: str
    effective_from: CalendarDate
    departments: _containers.RepeatedCompositeFieldContainer[SharingListDepartment]
    items: _containers.RepeatedCompositeFieldContainer[SharingListItem]
    def __init__(self, version: _Optional[int] = ..., title: _Optional[str] = ..., extends: _Optional[str] = ..., effective_from: _Optional[_Union[CalendarDate, _Mapping]] = ..., departments: _Optional[_Iterable[_Union[SharingListDepartment, _Mapping]]] = ..., items: _Optional[_Iterable[_Union[SharingListItem, _Mapping]]] = ...) -> None: ...

class SharingListVersion(_message.Message):
    __slots__ = ("name", "version", "title", "effective_from", "item_count", "digest", "publish_time", "published_by", "note", "supersede_time", "accept_records_until")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    ITEM_COUNT_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_BY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    SUPERSEDE_TIME_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_RECORDS_UNTIL_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    title: str
    effective_from: CalendarDate
    item_count: int
    digest: str
    publish_time: _timestamp_pb2.Timestamp
    published_by: str
    note: str
    supersede_time: _timestamp_pb2.Timestamp
    accept_records_until: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ..., title: _Optional[str] = ..., effective_from: _Optional[_Union[CalendarDate, _Mapping]] = ..., item_count: _Optional[int] = ..., digest: _Optional[str] = ..., publish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., published_by: _Optional[str] = ..., note: _Optional[str] = ..., supersede_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., accept_records_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SharingListChange(_message.Message):
    __slots__ = ("path", "kind", "before", "after", "breaking")
    PATH_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    BREAKING_FIELD_NUMBER: _ClassVar[int]
    path: str
    kind: SharingListChangeKind
    before: str
    after: str
    breaking: bool
    def __init__(self, path: _Optional[str] = ..., kind: _Optional[_Union[SharingListChangeKind, str]] = ..., before: _Optional[str] = ..., after: _Optional[str] = ..., breaking: _Optional[bool] = ...) -> None: ...

class SharingListDiff(_message.Message):
    __slots__ = ("from_version", "to_version", "changes", "breaking")
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    TO_VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    BREAKING_FIELD_NUMBER: _ClassVar[int]
    from_version: int
    to_version: int
    changes: _containers.RepeatedCompositeFieldContainer[SharingListChange]
    breaking: bool
    def __init__(self, from_version: _Optional[int] = ..., to_version: _Optional[int] = ..., changes: _Optional[_Iterable[_Union[SharingListChange, _Mapping]]] = ..., breaking: _Optional[bool] = ...) -> None: ...

class GetSharingListRequest(_message.Message):
    __slots__ = ("version", "include_yaml")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_YAML_FIELD_NUMBER: _ClassVar[int]
    version: int
    include_yaml: bool
    def __init__(self, version: _Optional[int] = ..., include_yaml: _Optional[bool] = ...) -> None: ...

class GetSharingListResponse(_message.Message):
    __slots__ = ("version", "sharing_list", "yaml_text")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SHARING_LIST_FIELD_NUMBER: _ClassVar[int]
    YAML_TEXT_FIELD_NUMBER: _ClassVar[int]
    version: SharingListVersion
    sharing_list: SharingList
    yaml_text: str
    def __init__(self, version: _Optional[_Union[SharingListVersion, _Mapping]] = ..., sharing_list: _Optional[_Union[SharingList, _Mapping]] = ..., yaml_text: _Optional[str] = ...) -> None: ...

class ListSharingListVersionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSharingListVersionsResponse(_message.Message):
    __slots__ = ("versions", "next_page_token")
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[SharingListVersion]
    next_page_token: str
    def __init__(self, versions: _Optional[_Iterable[_Union[SharingListVersion, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PublishSharingListRequest(_message.Message):
    __slots__ = ("yaml_text", "content", "change", "validate_only")
    YAML_TEXT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    yaml_text: str
    content: SharingList
    change: _registry_admin_service_pb2.Change
    validate_only: bool
    def __init__(self, yaml_text: _Optional[str] = ..., content: _Optional[_Union[SharingList, _Mapping]] = ..., change: _Optional[_Union[_registry_admin_service_pb2.Change, _Mapping]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class PublishSharingListResponse(_message.Message):
    __slots__ = ("version", "diff")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DIFF_FIELD_NUMBER: _ClassVar[int]
    version: SharingListVersion
    diff: SharingListDiff
    def __init__(self, version: _Optional[_Union[SharingListVersion, _Mapping]] = ..., diff: _Optional[_Union[SharingListDiff, _Mapping]] = ...) -> None: ...

class DiffSharingListVersionsRequest(_message.Message):
    __slots__ = ("from_version", "to_version")
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    TO_VERSION_FIELD_NUMBER: _ClassVar[int]
    from_version: int
    to_version: int
    def __init__(self, from_version: _Optional[int] = ..., to_version: _Optional[int] = ...) -> None: ...

class DiffSharingListVersionsResponse(_message.Message):
    __slots__ = ("diff",)
    DIFF_FIELD_NUMBER: _ClassVar[int]
    diff: SharingListDiff
    def __init__(self, diff: _Optional[_Union[SharingListDiff, _Mapping]] = ...) -> None: ...
