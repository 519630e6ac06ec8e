"""The credit information sharing list (信用信息共享清单): items, departments, field schemas, versions and diffs."""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml

from services.kit.errors import FailedPrecondition, InvalidArgument, NotFound
from services.kit.masking import MaskKind, mask
from services.kit.workdays import CalendarUnknown
from services.registry.domain.participants import DepartmentKind

# Deadlines are counted in Beijing time: "day D of the following month" is a local calendar day, moved off a rest day
# to the next working day on the official calendar. China keeps no DST.
CHINA_TZ = timezone(timedelta(hours=8), "CST")

DEFAULT_SHARING_LIST_PATH = Path(__file__).resolve().parent.parent / "data" / "sharing_list.yaml"

# Bounds applied when a field states none, so no value is unbounded (the store and the scoring maths rely on it).
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
DECIMAL_LIMIT = Decimal(10) ** 15
DEFAULT_DECIMAL_SCALE = 2
MAX_DECIMAL_SCALE = 8
MAX_STRING_LENGTH = 10_000
MAX_FIELDS_PER_ITEM = 64
MAX_TEXT_LENGTH = 200
MAX_DAY_OF_FOLLOWING_MONTH = 28  # every month has it, so the deadline never moves with month length
MAX_WITHIN_DAYS = 366
MAX_WITHIN_HOURS = 24 * 31

# The longest run of consecutive rest days in the official calendar's loaded years (Spring Festival 2020, extended to
# 2 February: 24 January to 2 February). A day deadline whose last day falls in a year the calendar does not know is
# given this much more: the latest any real arrangement of that year could move it (see _off_rest_days).
LONGEST_REST_RUN_DAYS = 10

# A version stays open for records this long after its successor is published, so departments can migrate.
DEFAULT_GRACE = timedelta(days=90)

_ITEM_CODE = re.compile(r"[A-Z][A-Z0-9_]{1,63}")
_DEPARTMENT_CODE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_ENUM_VALUE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")

_E = TypeVar("_E", bound=StrEnum)


class Category(StrEnum):
    """What an item is about; consents and scoring select items by category."""

    REGISTRATION = "REGISTRATION"
    TAX = "TAX"
    SOCIAL_INSURANCE = "SOCIAL_INSURANCE"
    HOUSING_FUND = "HOUSING_FUND"
    UTILITIES = "UTILITIES"
    JUDICIAL = "JUDICIAL"
    ADMINISTRATIVE_PENALTY = "ADMINISTRATIVE_PENALTY"
    SUPERVISION = "SUPERVISION"
    DISHONESTY_DISCIPLINE = "DISHONESTY_DISCIPLINE"
    CREDIT_COMMITMENT = "CREDIT_COMMITMENT"
    HONOURS = "HONOURS"
    INTELLECTUAL_PROPERTY = "INTELLECTUAL_PROPERTY"
    FINANCE = "FINANCE"
    CUSTOMS = "CUSTOMS"
    ENVIRONMENT = "ENVIRONMENT"


class SharingMethod(StrEnum):
    """How the department delivers the item."""

    REALTIME_PUSH = "REALTIME_PUSH"
    DAILY_BATCH = "DAILY_BATCH"
    MONTHLY_BATCH = "MONTHLY_BATCH"


class Openness(StrEnum):
    """The item's data class, which drives the gateway's egress policy."""

    PUBLIC = "PUBLIC"
    NON_PUBLIC = "NON_PUBLIC"
    OPERATING_OPT_IN = "OPERATING_OPT_IN"
    COMMERCIAL_SECRET = "COMMERCIAL_SECRET"  # noqa: S105 (a data class name, not a credential)


# Ordered from most to least open: a move to a higher rank restricts who may receive the item.
OPENNESS_RANK = {
    Openness.PUBLIC: 0,
    Openness.NON_PUBLIC: 1,
    Openness.OPERATING_OPT_IN: 2,
    Openness.COMMERCIAL_SECRET: 3,
}


class FieldType(StrEnum):
    """A field's value type; the YAML spells these in lower case."""

    STRING = "STRING"
    INT = "INT"
    DECIMAL = "DECIMAL"
    DATE = "DATE"
    BOOL = "BOOL"
    ENUM = "ENUM"


class DeadlineKind(StrEnum):
    """How the delivery deadline is counted from the source event."""

    WITHIN_HOURS = "WITHIN_HOURS"
    WITHIN_DAYS = "WITHIN_DAYS"
    DAY_OF_FOLLOWING_MONTH = "DAY_OF_FOLLOWING_MONTH"


_DEADLINE_KEYS = {
    "within_hours": (DeadlineKind.WITHIN_HOURS, MAX_WITHIN_HOURS),
    "within_days": (DeadlineKind.WITHIN_DAYS, MAX_WITHIN_DAYS),
    "day_of_following_month": (DeadlineKind.DAY_OF_FOLLOWING_MONTH, MAX_DAY_OF_FOLLOWING_MONTH),
}


class WorkingDays(Protocol):
    """The official working-day calendar (services.kit.workdays.WorkCalendar satisfies it)."""

    def is_working_day(self, day: date) -> bool:
        """Raises services.kit.workdays.CalendarUnknown when the day's year is not loaded."""


@dataclass(frozen=True)
class Deadline:
    """When a record must reach the node, counted from its source event."""

    kind: DeadlineKind
    amount: int

    def due_before(self, event_time: datetime, calendar: WorkingDays) -> datetime:
        """The first instant at which delivery is late (deadlines end at local midnight, except hourly ones).

        A day deadline whose last day is a rest day (weekend or public holiday; a 调休 make-up working day is not one)
        ends with the next working day instead (民法典 第二百零三条). An hourly one is an instant and never moves: the
        Code counts an hours period from the very hour (art. 201) and art. 203 moves a last *day*; and the items due
        within hours are pushed by the departments' systems around the clock, so a Friday-evening event is not due on
        Monday.
        """
        if event_time.tzinfo is None:
            raise ValueError("event_time must be timezone-aware")
        if self.kind is DeadlineKind.WITHIN_HOURS:
            return event_time + timedelta(hours=self.amount)
        local = event_time.astimezone(CHINA_TZ).date()
        if self.kind is DeadlineKind.WITHIN_DAYS:
            last_day = local + timedelta(days=self.amount)
        else:
            year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
            last_day = date(year, month, self.amount)
        return datetime.combine(_off_rest_days(last_day, calendar) + timedelta(days=1), time(), CHINA_TZ)

    def describe(self) -> str:
        """A short text for diffs and operators, e.g. 'within 7 days'."""
        if self.kind is DeadlineKind.WITHIN_HOURS:
            return f"within {self.amount} hours"
        if self.kind is DeadlineKind.WITHIN_DAYS:
            return f"within {self.amount} days"
        return f"by day {self.amount} of the following month"

    def to_mapping(self) -> dict[str, int]:
        """The YAML form, e.g. {'within_days': 7}."""
        key = next(k for k, (kind, _) in _DEADLINE_KEYS.items() if kind is self.kind)
        return {key: self.amount}


def _off_rest_days(last_day: date, calendar: WorkingDays) -> date:
    """``last_day``, or the first working day after it when it is a rest day (Civil Code art. 203).

    A year the calendar does not know is not guessed at (its holidays are set by the State Council each year): any of
    its days might be a rest day, and a department is not called late because the node lacks the calendar. So the
    last day moves as far as any real arrangement could move it, LONGEST_REST_RUN_DAYS, a Monday deadline as much as
    a Saturday one. Moving only off Saturdays and Sundays would be closer in an ordinary week, but would call a
    department late for a delivery made the first working day after a weekday holiday (New Year's Day, National Day).
    Loading the year's file (services/kit/data) ends this; the objection service alerts while it is missing.
    """
    day = last_day
    while True:
        try:
            if calendar.is_working_day(day):
                return day
        except CalendarUnknown:
            return max(day, last_day + timedelta(days=LONGEST_REST_RUN_DAYS))
        day += timedelta(days=1)


@dataclass(frozen=True)
class FieldSchema:
    """One typed field of an item's records."""

    name: str
    label: str
    type: FieldType
    required: bool
    max_length: int | None = None
    pattern: str | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    scale: int | None = None
    values: tuple[str, ...] = ()
    personal: bool = False
    mask: MaskKind | None = None

    @property
    def lower_bound(self) -> Decimal:
        """The least value allowed for an int or decimal field (the field's own min or the default bound)."""
        if self.minimum is not None:
            return self.minimum
        return Decimal(INT_MIN) if self.type is FieldType.INT else -DECIMAL_LIMIT

    @property
    def upper_bound(self) -> Decimal:
        """The greatest value allowed for an int or decimal field."""
        if self.maximum is not None:
            return self.maximum
        return Decimal(INT_MAX) if self.type is FieldType.INT else DECIMAL_LIMIT

    @property
    def effective_scale(self) -> int:
        """Most digits after the decimal point for a decimal field."""
        return DEFAULT_DECIMAL_SCALE if self.scale is None else self.scale

    def describe(self) -> str:
        """The type with its constraints, e.g. 'string(50)' or 'enum(A,B)'; used in diffs."""
        if self.type is FieldType.STRING:
            text = f"string({self.max_length})"
            return f"{text} /{self.pattern}/" if self.pattern else text
        if self.type is FieldType.ENUM:
            return f"enum({','.join(self.values)})"
        if self.type in (FieldType.INT, FieldType.DECIMAL):
            text = self.type.lower()
            if self.type is FieldType.DECIMAL:
                text += f"(scale {self.effective_scale})"
            if self.minimum is not None or self.maximum is not None:
                low = "" if self.minimum is None else _plain(self.minimum)
                high = "" if self.maximum is None else _plain(self.maximum)
                text += f" [{low}..{high}]"
            return text
        return self.type.lower()

    def to_mapping(self) -> dict[str, Any]:
        """The YAML form of the field."""
        out: dict[str, Any] = {"name": self.name, "label": self.label, "type": self.type.lower()}
        if self.max_length is not None:
            out["max_length"] = self.max_length
        if self.pattern is not None:
            out["pattern"] = self.pattern
        if self.values:
            out["values"] = list(self.values)
        if self.minimum is not None:
            out["min"] = _yaml_number(self.minimum)
        if self.maximum is not None:
            out["max"] = _yaml_number(self.maximum)
        if self.scale is not None:
            out["scale"] = self.scale
        out["required"] = self.required
        if self.personal:
            out["personal"] = True
            out["mask"] = str(self.mask)
        return out


def publicity_end(event_time: datetime, months: int) -> datetime:
    """The first instant a record is no longer published (公示期满), ``months`` calendar months after its event.

    Counted as the Civil Code counts periods (arts. 201-203): from the event's Beijing date, the period's last day is
    the corresponding day ``months`` later, or that month's last day when it has none (31 January + 1 month ends on
    28 or 29 February), and it runs to 24:00 of that day. So publication ends at the next 00:00 Beijing time, as the
    day's re-check in scoring begins a day."""
    if event_time.tzinfo is None:
        raise ValueError("event_time must be timezone-aware")
    local = event_time.astimezone(CHINA_TZ).date()
    year, month = divmod(local.year * 12 + local.month - 1 + months, 12)
    month += 1
    last_day = date(year, month, min(local.day, calendar.monthrange(year, month)[1]))
    return datetime.combine(last_day + timedelta(days=1), time(), CHINA_TZ)


@dataclass(frozen=True)
class ListedDepartment:
    """A department or utility as the list names it (the registry's participant of the same code sends its data)."""

    code: str
    name: str
    kind: DepartmentKind


@dataclass(frozen=True)
class Item:
    """One shared item: what it contains, who sends it, how, by when, and how open it is."""

    code: str
    name: str
    category: Category
    department: str
    sharing_method: SharingMethod
    deadline: Deadline
    openness: Openness
    extends_national: bool
    fields: tuple[FieldSchema, ...]
    publicity_months: int | None = None

    # Looked up once per field of every ingested record: a dict, not a scan of the schema.
    _by_name: dict[str, FieldSchema] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {f.name: f for f in self.fields})

    def field(self, name: str) -> FieldSchema | None:
        """The field of that name, or None."""
        return self._by_name.get(name)

    @property
    def personal_fields(self) -> tuple[FieldSchema, ...]:
        """The fields holding personal information (each has a mask)."""
        return tuple(f for f in self.fields if f.personal)

    def publicity_ends(self, event_time: datetime) -> datetime | None:
        """When a record of this item stops being published; None when the item has no publicity period."""
        return None if self.publicity_months is None else publicity_end(event_time, self.publicity_months)

    def mask_personal(self, values: Mapping[str, object]) -> dict[str, object]:
        """A copy of a record's values with every personal field masked (as text); other values unchanged."""
        out = dict(values)
        for schema in self.personal_fields:
            value = out.get(schema.name)
            if value is not None and schema.mask is not None:
                out[schema.name] = mask(schema.mask, str(value))
        return out

    def to_mapping(self) -> dict[str, Any]:
        """The YAML form of the item."""
        out: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "category": str(self.category),
            "department": self.department,
            "sharing_method": str(self.sharing_method),
            "deadline": self.deadline.to_mapping(),
            "openness": str(self.openness),
            "extends_national": self.extends_national,
        }
        if self.publicity_months is not None:
            out["publicity_months"] = self.publicity_months
        out["fields"] = [f.to_mapping() for f in self.fields]
        return out


@dataclass(frozen=True)
class SharingList:
    """One version of the list. Records keep the version they were validated under; a new one never rewrites them."""

    version: int
    title: str
    extends: str
    effective_from: date
    departments: tuple[ListedDepartment, ...]
    items: tuple[Item, ...]
    _by_code: dict[str, Item] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {item.code: item for item in self.items})

    def item(self, code: str) -> Item | None:
        """The item with that code, or None."""
        return self._by_code.get(code)

    def department(self, code: str) -> ListedDepartment | None:
        """The listed department with that code, or None."""
        return next((d for d in self.departments if d.code == code), None)

    def items_of(self, department: str) -> tuple[Item, ...]:
        """The items a department is responsible for."""
        return tuple(item for item in self.items if item.department == department)

    def to_mapping(self) -> dict[str, Any]:
        """The canonical YAML structure (no anchors, fixed key order)."""
        return {
            "version": self.version,
            "title": self.title,
            "extends": self.extends,
            "effective_from": self.effective_from,
            "departments": [{"code": d.code, "name": d.name, "kind": str(d.kind)} for d in self.departments],
            "items": [item.to_mapping() for item in self.items],
        }

    def to_yaml(self) -> str:
        """The canonical YAML text (what GetSharingList returns and what a publish stores)."""
        return yaml.safe_dump(self.to_mapping(), allow_unicode=True, sort_keys=False, width=200)

    @property
    def digest(self) -> str:
        """SHA-256 (hex) of the canonical content, so two copies of a version can be compared."""
        text = json.dumps(self.to_mapping(), ensure_ascii=False, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def is_item_code(text: str) -> bool:
    """Whether ``text`` is shaped like an item code (it need not be on any version of the list)."""
    return _ITEM_CODE.fullmatch(text) is not None


class SharingListInvalid(InvalidArgument):
    """A list failed validation; ``problems`` holds every (path, problem) found, not just the first."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        path, problem = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(
            "ERROR_REASON_SHARING_LIST_INVALID",
            f"sharing list is invalid: {path}: {problem}{more}",
            {"path": path, "problem": problem, "problems": str(len(problems))},
        )
        self.problems = tuple(problems)


# ---------------------------------------------------------------------------------------------------- loading


class _Collector:
    """Gathers problems so one load reports all of them."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def add(self, path: str, problem: str) -> None:
        self.problems.append((path, problem))

    def keys(self, path: str, data: Mapping[str, Any], allowed: Iterable[str], required: Iterable[str]) -> None:
        allowed_set = set(allowed)
        for key in data:
            if key not in allowed_set:
                self.add(f"{path}.{key}", "unknown attribute")
        for key in required:
            if key not in data:
                self.add(f"{path}.{key}", "is required")

    def text(self, path: str, value: object, limit: int = MAX_TEXT_LENGTH) -> str:
        if not isinstance(value, str) or not value.strip():
            self.add(path, "must be a non-empty string")
            return ""
        if len(value) > limit:
            self.add(path, f"must be at most {limit} characters")
        return value

    def boolean(self, path: str, value: object) -> bool:
        if not isinstance(value, bool):
            self.add(path, "must be true or false")
            return False
        return value

    def integer(self, path: str, value: object, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.add(path, f"must be an integer from {low} to {high}")
            return low
        return value

    def choice(self, path: str, value: object, enum: type[_E], *, lower: bool = False) -> _E | None:
        names = [m.value.lower() if lower else m.value for m in enum]
        if not isinstance(value, str) or value not in names:
            self.add(path, f"must be one of {', '.join(names)}")
            return None
        return enum(value.upper())

    def number(self, path: str, value: object) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.add(path, "must be a number")
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.add(path, "must be a number")
            return None
        if not number.is_finite():
            self.add(path, "must be finite")
            return None
        return number


_LIST_KEYS = ("version", "title", "extends", "effective_from", "departments", "items")
_DEPARTMENT_KEYS = ("code", "name", "kind")
_ITEM_KEYS = (
    "code", "name", "category", "department", "sharing_method", "deadline", "openness", "extends_national",
    "publicity_months", "fields",
)  # fmt: skip
_ITEM_REQUIRED = tuple(k for k in _ITEM_KEYS if k != "publicity_months")
_FIELD_KEYS = ("name", "label", "type", "required", "max_length", "pattern", "min", "max", "scale", "values",
               "personal", "mask")  # fmt: skip
_TYPE_KEYS = {
    FieldType.STRING: {"max_length", "pattern"},
    FieldType.INT: {"min", "max"},
    FieldType.DECIMAL: {"min", "max", "scale"},
    FieldType.DATE: set(),
    FieldType.BOOL: set(),
    FieldType.ENUM: {"values"},
}
_TYPED_KEYS = {"max_length", "pattern", "min", "max", "scale", "values"}


def parse_sharing_list(text: str) -> SharingList:
    """Parse and validate YAML text; raises SharingListInvalid naming every problem found."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "document"
        raise SharingListInvalid([(where, "is not valid YAML")]) from None
    return sharing_list_from_mapping(data)


def load_sharing_list(path: Path = DEFAULT_SHARING_LIST_PATH) -> SharingList:
    """Load a list from a YAML file (by default the node's own list, services/registry/data/sharing_list.yaml)."""
    return parse_sharing_list(path.read_text(encoding="utf-8"))


def sharing_list_from_mapping(data: object) -> SharingList:
    """Validate a parsed structure (YAML or structured items from PublishSharingList) into a SharingList."""
    c = _Collector()
    if not isinstance(data, Mapping):
        raise SharingListInvalid([("document", "must be a mapping with version, departments and items")])
    c.keys("list", data, _LIST_KEYS, ("version", "title", "effective_from", "departments", "items"))
    version = c.integer("version", data.get("version"), 1, 1_000_000)
    title = c.text("title", data.get("title"))
    extends = data.get("extends", "")
    if extends != "":
        extends = c.text("extends", extends)
    effective_from = data.get("effective_from")
    if isinstance(effective_from, str):
        try:
            effective_from = date.fromisoformat(effective_from)
        except ValueError:
            effective_from = None
    if not isinstance(effective_from, date) or isinstance(effective_from, datetime):
        c.add("effective_from", "must be a date (YYYY-MM-DD)")
        effective_from = date(1970, 1, 1)

    departments = _parse_departments(c, data.get("departments"))
    known_departments = {d.code for d in departments}
    items = _parse_items(c, data.get("items"), known_departments)
    if c.problems:
        raise SharingListInvalid(c.problems)
    return SharingList(version, title, extends, effective_from, tuple(departments), tuple(items))


def _parse_departments(c: _Collector, raw: object) -> list[ListedDepartment]:
    if not isinstance(raw, list) or not raw:
        c.add("departments", "must be a non-empty list")
        return []
    out: list[ListedDepartment] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        path = f"departments[{index}]"
        if not isinstance(entry, Mapping):
            c.add(path, "must be a mapping")
            continue
        c.keys(path, entry, _DEPARTMENT_KEYS, _DEPARTMENT_KEYS)
        code = entry.get("code")
        if not isinstance(code, str) or len(code) > 63 or not _DEPARTMENT_CODE.fullmatch(code):
            c.add(f"{path}.code", "must be lower-case letters, digits and single dashes, at most 63 characters")
            continue
        if code in seen:
            c.add(f"{path}.code", f"duplicates department {code}")
        seen.add(code)
        name = c.text(f"{path}.name", entry.get("name"))
        kind = c.choice(f"{path}.kind", entry.get("kind"), DepartmentKind)
        if kind is not None:
            out.append(ListedDepartment(code, name, kind))
    return out


def _parse_items(c: _Collector, raw: object, departments: set[str]) -> list[Item]:
    if not isinstance(raw, list) or not raw:
        c.add("items", "must be a non-empty list")
        return []
    out: list[Item] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        path = f"items[{index}]"
        if not isinstance(entry, Mapping):
            c.add(path, "must be a mapping")
            continue
        code = entry.get("code")
        if isinstance(code, str) and _ITEM_CODE.fullmatch(code):
            path = f"items[{code}]"
            if code in seen:
                c.add(f"{path}.code", "duplicates another item")
            seen.add(code)
        else:
            c.add(f"{path}.code", "must be upper-case letters, digits and underscores (2-64), starting with a letter")
        item = _parse_item(c, path, entry, departments)
        if item is not None:
            out.append(item)
    return out


def _parse_item(c: _Collector, path: str, entry: Mapping[str, Any], departments: set[str]) -> Item | None:
    before = len(c.problems)
    c.keys(path, entry, _ITEM_KEYS, _ITEM_REQUIRED)
    name = c.text(f"{path}.name", entry.get("name"))
    category = c.choice(f"{path}.category", entry.get("category"), Category)
    department = entry.get("department")
    if department not in departments:
        c.add(f"{path}.department", "must be the code of a listed department")
    method = c.choice(f"{path}.sharing_method", entry.get("sharing_method"), SharingMethod)
    deadline = _parse_deadline(c, f"{path}.deadline", entry.get("deadline"))
    if method is not None and deadline is not None:
        monthly_deadline = deadline.kind is DeadlineKind.DAY_OF_FOLLOWING_MONTH
        if (method is SharingMethod.MONTHLY_BATCH) != monthly_deadline:
            c.add(f"{path}.deadline", "MONTHLY_BATCH items, and only they, use day_of_following_month")
    openness = c.choice(f"{path}.openness", entry.get("openness"), Openness)
    extends_national = c.boolean(f"{path}.extends_national", entry.get("extends_national"))
    publicity = entry.get("publicity_months")
    if publicity is not None:
        publicity = c.integer(f"{path}.publicity_months", publicity, 1, 1200)
    fields = _parse_fields(c, f"{path}.fields", entry.get("fields"))
    if len(c.problems) > before or category is None or method is None or deadline is None or openness is None:
        return None
    return Item(
        code=str(entry["code"]),
        name=name,
        category=category,
        department=str(department),
        sharing_method=method,
        deadline=deadline,
        openness=openness,
        extends_national=extends_national,
        fields=tuple(fields),
        publicity_months=publicity,
    )


def _parse_deadline(c: _Collector, path: str, raw: object) -> Deadline | None:
    if not isinstance(raw, Mapping) or len(raw) != 1 or next(iter(raw)) not in _DEADLINE_KEYS:
        c.add(path, f"must be a mapping with exactly one of {', '.join(_DEADLINE_KEYS)}")
        return None
    key, amount = next(iter(raw.items()))
    kind, high = _DEADLINE_KEYS[key]
    before = len(c.problems)
    value = c.integer(f"{path}.{key}", amount, 1, high)
    return Deadline(kind, value) if len(c.problems) == before else None


def _parse_fields(c: _Collector, path: str, raw: object) -> list[FieldSchema]:
    if not isinstance(raw, list) or not raw:
        c.add(path, "must be a non-empty list")
        return []
    if len(raw) > MAX_FIELDS_PER_ITEM:
        c.add(path, f"must have at most {MAX_FIELDS_PER_ITEM} fields")
    out: list[FieldSchema] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        fpath = f"{path}[{index}]"
        if not isinstance(entry, Mapping):
            c.add(fpath, "must be a mapping")
            continue
        name = entry.get("name")
        if isinstance(name, str) and _FIELD_NAME.fullmatch(name):
            fpath = f"{path}.{name}"
            if name in seen:
                c.add(f"{fpath}.name", "duplicates another field of the item")
            seen.add(name)
        else:
            c.add(f"{fpath}.name", "must be lower_snake_case, at most 64 characters")
        schema = _parse_field(c, fpath, entry)
        if schema is not None:
            out.append(schema)
    return out


def _parse_field(c: _Collector, path: str, entry: Mapping[str, Any]) -> FieldSchema | None:  # noqa: PLR0912
    before = len(c.problems)
    c.keys(path, entry, _FIELD_KEYS, ("name", "label", "type", "required"))
    label = c.text(f"{path}.label", entry.get("label"))
    ftype = c.choice(f"{path}.type", entry.get("type"), FieldType, lower=True)
    required = c.boolean(f"{path}.required", entry.get("required"))
    if ftype is None:
        return None
    for key in sorted((_TYPED_KEYS - _TYPE_KEYS[ftype]) & set(entry)):
        c.add(f"{path}.{key}", f"does not apply to a {ftype.lower()} field")

    max_length = pattern = None
    minimum = maximum = None
    scale = None
    values: tuple[str, ...] = ()
    if ftype is FieldType.STRING:
        max_length = c.integer(f"{path}.max_length", entry.get("max_length"), 1, MAX_STRING_LENGTH)
        pattern = entry.get("pattern")
        if pattern is not None:
            pattern = _check_pattern(c, f"{path}.pattern", pattern)
    elif ftype in (FieldType.INT, FieldType.DECIMAL):
        minimum, maximum = _parse_bounds(c, path, entry, ftype)
        if ftype is FieldType.DECIMAL and "scale" in entry:
            scale = c.integer(f"{path}.scale", entry["scale"], 0, MAX_DECIMAL_SCALE)
    elif ftype is FieldType.ENUM:
        raw_values = entry.get("values")
        if (
            not isinstance(raw_values, list)
            or not raw_values
            or not all(isinstance(v, str) and _ENUM_VALUE.fullmatch(v) for v in raw_values)
        ):
            c.add(f"{path}.values", "must be a non-empty list of UPPER_SNAKE_CASE names")
        elif len(set(raw_values)) != len(raw_values):
            c.add(f"{path}.values", "must not repeat a value")
        else:
            values = tuple(raw_values)

    personal = entry.get("personal", False)
    if not isinstance(personal, bool):
        c.add(f"{path}.personal", "must be true or false")
        personal = False
    mask_kind = None
    if personal:
        mask_kind = c.choice(f"{path}.mask", entry.get("mask"), MaskKind)
    elif "mask" in entry:
        c.add(f"{path}.mask", "only a personal field has a mask")
    if len(c.problems) > before:
        return None
    return FieldSchema(
        name=str(entry["name"]),
        label=label,
        type=ftype,
        required=required,
        max_length=max_length,
        pattern=pattern,
        minimum=minimum,
        maximum=maximum,
        scale=scale,
        values=values,
        personal=personal,
        mask=mask_kind,
    )


def _check_pattern(c: _Collector, path: str, pattern: object) -> str | None:
    if not isinstance(pattern, str) or not pattern or len(pattern) > MAX_TEXT_LENGTH:
        c.add(path, f"must be a regular expression of at most {MAX_TEXT_LENGTH} characters")
        return None
    try:
        re.compile(pattern)
    except re.error:
        c.add(path, "is not a valid regular expression")
        return None
    return pattern


def _parse_bounds(
    c: _Collector, path: str, entry: Mapping[str, Any], ftype: FieldType
) -> tuple[Decimal | None, Decimal | None]:
    bounds: list[Decimal | None] = []
    for key in ("min", "max"):
        if key not in entry:
            bounds.append(None)
            continue
        number = c.number(f"{path}.{key}", entry[key])
        if number is not None and ftype is FieldType.INT and number != number.to_integral_value():
            c.add(f"{path}.{key}", "must be an integer for an int field")
        if number is not None:
            limit = Decimal(INT_MAX) if ftype is FieldType.INT else DECIMAL_LIMIT
            if abs(number) > limit:
                c.add(f"{path}.{key}", f"must be within ±{_plain(limit)}")
        bounds.append(number)
    low, high = bounds
    if low is not None and high is not None and low > high:
        c.add(f"{path}.min", "must not exceed max")
    return low, high


def _plain(number: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 1E+3 -> '1000', 1.50 -> '1.5'."""
    return format(number.normalize(), "f")


def _yaml_number(number: Decimal) -> int | str:
    return int(number) if number == number.to_integral_value() else _plain(number)


# ---------------------------------------------------------------------------------------------------- versions


@dataclass(frozen=True)
class ListVersion:
    """A published version with its history: who published it, when, why, and when a successor replaced it."""

    sharing_list: SharingList
    published_at: datetime
    published_by: str
    note: str
    superseded_at: datetime | None = None

    @property
    def version(self) -> int:
        """The list's version number."""
        return self.sharing_list.version

    def accepts_records_at(self, at: datetime, grace: timedelta = DEFAULT_GRACE) -> bool:
        """Whether records may still be validated under this version (current, or within grace of its successor)."""
        return self.superseded_at is None or at < self.superseded_at + grace

    def accept_records_until(self, grace: timedelta = DEFAULT_GRACE) -> datetime | None:
        """When this version stops accepting records; None while it is current."""
        return None if self.superseded_at is None else self.superseded_at + grace


def check_successor(current: SharingList | None, new: SharingList) -> None:
    """A publish must add exactly the next version, and may not take effect before the one it replaces."""
    expected = 1 if current is None else current.version + 1
    if new.version != expected:
        raise FailedPrecondition(
            "ERROR_REASON_SHARING_LIST_VERSION_CONFLICT",
            f"the next sharing list version must be {expected}, not {new.version}",
            {"expected_version": str(expected), "version": str(new.version)},
        )
    if current is not None and new.effective_from < current.effective_from:
        raise FailedPrecondition(
            "ERROR_REASON_SHARING_LIST_VERSION_CONFLICT",
            "a new sharing list version may not take effect before the current one",
            {"expected_version": str(expected), "version": str(new.version)},
        )


def check_in_force(new: SharingList, at: datetime) -> None:
    """A version is current from its publication (records are validated, masked and released under it at once), so
    it may not be published before its ``effective_from``, a day in Beijing time: it would apply early."""
    today = at.astimezone(CHINA_TZ).date()
    if new.effective_from > today:
        raise SharingListInvalid(
            [("effective_from", f"is after today ({today.isoformat()}, Beijing time): publish on or after that day")]
        )


@dataclass
class SharingListCatalogue:
    """Every published version, oldest first. Versions are never edited or deleted: records refer to them."""

    versions: list[ListVersion] = field(default_factory=list)
    grace: timedelta = DEFAULT_GRACE

    @property
    def current(self) -> ListVersion | None:
        """The newest version, or None before the first publish."""
        return self.versions[-1] if self.versions else None

    def get(self, version: int) -> ListVersion:
        """The version with that number (0 means current); NotFound otherwise."""
        if version == 0 and self.current is not None:
            return self.current
        for entry in self.versions:
            if entry.version == version:
                return entry
        raise NotFound(
            "ERROR_REASON_SHARING_LIST_VERSION_NOT_FOUND",
            "no sharing list version has that number",
            {"version": str(version)},
        )

    def publish(self, new: SharingList, *, at: datetime, by: str, note: str) -> ListVersion:
        """Append ``new`` as the next version; the one it replaces keeps accepting records for the grace period."""
        current = self.current
        check_successor(None if current is None else current.sharing_list, new)
        if at.tzinfo is None:
            raise ValueError("publish time must be timezone-aware")
        check_in_force(new, at)
        if current is not None:
            self.versions[-1] = ListVersion(
                current.sharing_list, current.published_at, current.published_by, current.note, superseded_at=at
            )
        entry = ListVersion(new, at, by, note)
        self.versions.append(entry)
        return entry

    def for_records(self, version: int, at: datetime) -> SharingList:
        """The list to validate a record under: the named version (0 = current) if it still accepts records."""
        entry = self.get(version)
        if not entry.accepts_records_at(at, self.grace):
            until = entry.accept_records_until(self.grace)
            raise FailedPrecondition(
                "ERROR_REASON_SHARING_LIST_VERSION_RETIRED",
                "that sharing list version no longer accepts records; send under the current version",
                {"version": str(entry.version), "accepted_until": until.astimezone(UTC).isoformat() if until else ""},
            )
        return entry.sharing_list


# ---------------------------------------------------------------------------------------------------- diff


class ChangeKind(StrEnum):
    """What happened to an element between two versions."""

    ADDED = "ADDED"
    REMOVED = "REMOVED"
    CHANGED = "CHANGED"


@dataclass(frozen=True)
class ListChange:
    """One difference. ``breaking`` means a record valid under the old version may be rejected under the new one."""

    path: str
    kind: ChangeKind
    before: str = ""
    after: str = ""
    breaking: bool = False


@dataclass(frozen=True)
class SharingListDiff:
    """The differences from one version to another, in list order (departments, then items, then fields)."""

    from_version: int
    to_version: int
    changes: tuple[ListChange, ...]

    @property
    def breaking(self) -> bool:
        """Whether any change can reject a record the old version accepted."""
        return any(change.breaking for change in self.changes)


def diff_sharing_lists(old: SharingList, new: SharingList) -> SharingListDiff:
    """Compare two versions item by item and field by field (for `creditctl sharing-list diff`)."""
    changes: list[ListChange] = []
    for attr in ("title", "extends", "effective_from"):
        before, after = str(getattr(old, attr)), str(getattr(new, attr))
        if before != after:
            changes.append(ListChange(attr, ChangeKind.CHANGED, before, after))
    changes += _diff_departments(old.departments, new.departments)
    old_items = {item.code: item for item in old.items}
    new_items = {item.code: item for item in new.items}
    for code, item in old_items.items():
        if code not in new_items:
            changes.append(ListChange(f"items.{code}", ChangeKind.REMOVED, before=item.name, breaking=True))
    for code, item in new_items.items():
        if code not in old_items:
            changes.append(ListChange(f"items.{code}", ChangeKind.ADDED, after=item.name))
        else:
            changes += _diff_item(old_items[code], item)
    return SharingListDiff(old.version, new.version, tuple(changes))


def _diff_departments(old: Sequence[ListedDepartment], new: Sequence[ListedDepartment]) -> list[ListChange]:
    changes: list[ListChange] = []
    old_by = {d.code: d for d in old}
    new_by = {d.code: d for d in new}
    for code, dept in old_by.items():
        if code not in new_by:
            changes.append(ListChange(f"departments.{code}", ChangeKind.REMOVED, before=dept.name))
    for code, dept in new_by.items():
        before = old_by.get(code)
        if before is None:
            changes.append(ListChange(f"departments.{code}", ChangeKind.ADDED, after=dept.name))
            continue
        for attr in ("name", "kind"):
            if getattr(before, attr) != getattr(dept, attr):
                changes.append(
                    ListChange(f"departments.{code}.{attr}", ChangeKind.CHANGED,
                               str(getattr(before, attr)), str(getattr(dept, attr)))
                )  # fmt: skip
    return changes


def _diff_item(old: Item, new: Item) -> list[ListChange]:
    base = f"items.{old.code}"
    changes: list[ListChange] = []

    def changed(attr: str, before: str, after: str, breaking: bool = False) -> None:
        if before != after:
            changes.append(ListChange(f"{base}.{attr}", ChangeKind.CHANGED, before, after, breaking))

    changed("name", old.name, new.name)
    changed("category", old.category, new.category)
    # Only the responsible department may send an item, so moving it refuses the old sender's records.
    changed("department", old.department, new.department, breaking=True)
    changed("sharing_method", old.sharing_method, new.sharing_method)
    changed("deadline", old.deadline.describe(), new.deadline.describe())
    changed("openness", old.openness, new.openness)
    changed("extends_national", str(old.extends_national).lower(), str(new.extends_national).lower())
    changed("publicity_months", str(old.publicity_months or ""), str(new.publicity_months or ""))

    old_fields = {f.name: f for f in old.fields}
    new_fields = {f.name: f for f in new.fields}
    for name, schema in old_fields.items():
        if name not in new_fields:
            # Senders still sending it would now hit "unknown field".
            changes.append(ListChange(f"{base}.fields.{name}", ChangeKind.REMOVED, before=schema.describe(),
                                      breaking=True))  # fmt: skip
    for name, schema in new_fields.items():
        before = old_fields.get(name)
        if before is None:
            changes.append(ListChange(f"{base}.fields.{name}", ChangeKind.ADDED, after=schema.describe(),
                                      breaking=schema.required))  # fmt: skip
        else:
            changes += _diff_field(f"{base}.fields.{name}", before, schema)
    return changes


def _diff_field(path: str, old: FieldSchema, new: FieldSchema) -> list[ListChange]:
    changes: list[ListChange] = []

    def changed(attr: str, before: str, after: str, breaking: bool) -> None:
        if before != after:
            changes.append(ListChange(f"{path}.{attr}", ChangeKind.CHANGED, before, after, breaking))

    changed("label", old.label, new.label, False)
    if old.type is not new.type:
        changed("type", old.describe(), new.describe(), True)
        return changes
    changed("required", str(old.required).lower(), str(new.required).lower(), new.required and not old.required)
    if old.type is FieldType.STRING:
        shorter = (new.max_length or 0) < (old.max_length or 0)
        changed("max_length", str(old.max_length), str(new.max_length), shorter)
        changed("pattern", old.pattern or "", new.pattern or "", new.pattern is not None)
    if old.type in (FieldType.INT, FieldType.DECIMAL):
        changed("min", _plain(old.lower_bound), _plain(new.lower_bound), new.lower_bound > old.lower_bound)
        changed("max", _plain(old.upper_bound), _plain(new.upper_bound), new.upper_bound < old.upper_bound)
        changed("scale", str(old.effective_scale), str(new.effective_scale), new.effective_scale < old.effective_scale)
    if old.type is FieldType.ENUM:
        removed = [v for v in old.values if v not in new.values]
        changed("values", ",".join(old.values), ",".join(new.values), bool(removed))
    changed("personal", str(old.personal).lower(), str(new.personal).lower(), False)
    changed("mask", str(old.mask or ""), str(new.mask or ""), False)
    return changes
