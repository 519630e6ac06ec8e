"""Per-record ingestion rules: schema checks, idempotency, timeliness and the anti-reinsertion rule.

Every rejection carries an ``ERROR_REASON_*`` name and a message that names fields, never values: a record's
values may be personal data and the messages reach departments and logs.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Protocol

from services.kit.errors import DomainError
from services.registry.domain.sharing_list import (
    CHINA_TZ,
    FieldSchema,
    FieldType,
    Item,
    SharingList,
    SharingListCatalogue,
    WorkingDays,
)

# Clock skew allowed between a department's system and the node before an event counts as "in the future".
DEFAULT_FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_SOURCE_RECORD_ID_LENGTH = 128
MAX_SOURCE_VERSION = 2**31 - 1
# Sum of all text in one record; the largest schema (2 x 2000-character fields) stays well inside.
MAX_RECORD_TEXT = 32_768
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2199, 12, 31)
EARLIEST_EVENT = datetime(1900, 1, 1, tzinfo=UTC)

# The field that, when an item has it, names the month the record is about (its event falls in that month).
PERIOD_FIELD = "period"

_SOURCE_RECORD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]*")
_DECIMAL_TEXT = re.compile(r"-?[0-9]{1,40}(\.[0-9]{1,40})?")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")  # how the sharing list names fields


class Outcome(StrEnum):
    """What ingestion did with one record."""

    ACCEPTED = "ACCEPTED"
    DUPLICATE = "DUPLICATE"
    PARKED = "PARKED"  # valid, but the enterprise is not registered yet: kept and applied on registration
    REJECTED = "REJECTED"


# The gRPC code each per-record reason would carry if raised on its own (e.g. from a unary single-record call).
_REASON_KIND = {
    "ERROR_REASON_DEPARTMENT_NOT_RESPONSIBLE": "PERMISSION_DENIED",
    "ERROR_REASON_SHARING_LIST_VERSION_NOT_FOUND": "NOT_FOUND",
    "ERROR_REASON_SHARING_LIST_VERSION_RETIRED": "FAILED_PRECONDITION",
    "ERROR_REASON_IDEMPOTENCY_CONFLICT": "ALREADY_EXISTS",
    "ERROR_REASON_STALE_SOURCE_VERSION": "FAILED_PRECONDITION",
    "ERROR_REASON_RECORD_REINSERTED": "FAILED_PRECONDITION",
    "ERROR_REASON_RECORD_ENTERPRISE_CHANGED": "FAILED_PRECONDITION",
}


class RecordRejected(DomainError):
    """One record is refused; ingestion reports it in the record's result and goes on with the next one."""

    def __init__(self, reason: str, message: str, field: str = "") -> None:
        super().__init__(reason, message, {"field": field} if field else None)
        self.kind = _REASON_KIND.get(reason, "INVALID_ARGUMENT")
        self.field = field


class HasCode(Protocol):
    """What a USCC check returns: the normalized code."""

    @property
    def code(self) -> str: ...


# services.registry.domain.uscc.validate_uscc fits: it returns a UsccCheck or raises InvalidArgument.
UsccValidator = Callable[[str], HasCode]

FieldValue = str | int | Decimal | date | bool


@dataclass(frozen=True)
class IncomingRecord:
    """A record as a department sends it. ``department`` comes from the caller's authenticated identity."""

    department: str
    item_code: str
    source_record_id: str
    source_version: int
    uscc: str
    event_time: datetime
    fields: Mapping[str, object]
    list_version: int = 0  # 0 = the current version


# The stored ids and fingerprints are hashes of compact JSON text. These spell that text out with the json module's own
# string encoders, which is the same text json.dumps(..., separators=(",", ":")) gives, without its general machinery
# (which cost more than the rest of a record's checks); a test holds the two equal.
_ascii_json_string = json.encoder.encode_basestring_ascii
_json_string = json.encoder.encode_basestring


def ascii_json_list(parts: Sequence[str]) -> str:
    """``json.dumps(parts, separators=(",", ":"))`` for a list of strings."""
    return "[" + ",".join(map(_ascii_json_string, parts)) + "]"


@dataclass(frozen=True)
class IdempotencyKey:
    """(department, item, source record id, source version): a replay of the same key is a duplicate."""

    department: str
    item_code: str
    source_record_id: str
    source_version: int

    @property
    def digest(self) -> str:
        """SHA-256 hex of the key, unambiguous whatever characters the parts hold (for a unique index)."""
        parts = [self.department, self.item_code, self.source_record_id, str(self.source_version)]
        return hashlib.sha256(ascii_json_list(parts).encode()).hexdigest()

    @property
    def source_key(self) -> tuple[str, str, str]:
        """The key without the version: all versions of one source record share it."""
        return (self.department, self.item_code, self.source_record_id)


@dataclass(frozen=True)
class Timeliness:
    """Whether a record arrived within its item's deadline, counted from the source event."""

    due_before: datetime
    on_time: bool
    late_by: timedelta


@dataclass(frozen=True)
class ValidatedRecord:
    """A record that passed every per-record rule, with normalized values and what the store needs to keep."""

    department: str
    item_code: str
    list_version: int
    source_record_id: str
    source_version: int
    uscc: str
    event_time: datetime
    received_at: datetime
    fields: Mapping[str, FieldValue]
    key: IdempotencyKey
    fingerprint: str
    timeliness: Timeliness
    # The fingerprint of the text exactly as sent, when it is not in NFC: how versions stored before fingerprints
    # normalized it were fingerprinted, so their replays and superseded contents are still recognized.
    as_sent_fingerprint: str | None = None

    @property
    def fingerprints(self) -> tuple[str, ...]:
        """Every fingerprint this content may be stored under."""
        return (self.fingerprint,) if self.as_sent_fingerprint is None else (self.fingerprint, self.as_sent_fingerprint)

    @property
    def counts_for_timeliness(self) -> bool:
        """Only a first delivery is measured against the deadline; later versions are corrections."""
        return self.source_version == 1


def validate_record(
    record: IncomingRecord,
    lists: SharingListCatalogue,
    *,
    received_at: datetime,
    validate_uscc: UsccValidator,
    calendar: WorkingDays,
    future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE,
) -> ValidatedRecord:
    """Check one record against the list version it names; raises RecordRejected with the first problem found.

    Order: source reference, list version, item, responsibility (before any content is looked at), USCC, event time,
    then the fields in schema order followed by unknown ones, so the same bad record always gets the same reason.
    """
    if received_at.tzinfo is None or record.event_time.tzinfo is None:
        raise ValueError("received_at and event_time must be timezone-aware")
    _check_source_reference(record)
    try:
        sharing_list = lists.for_records(record.list_version, received_at)
    except DomainError as exc:
        raise RecordRejected(exc.reason, exc.message) from None
    item = _responsible_item(record, sharing_list)
    try:
        uscc = validate_uscc(record.uscc).code
    except DomainError as exc:
        raise RecordRejected(exc.reason, exc.message, "uscc") from None
    if record.event_time > received_at + future_tolerance:
        raise RecordRejected(
            "ERROR_REASON_EVENT_TIME_IN_FUTURE", "event_time is later than the time of receipt", "event_time"
        )
    if record.event_time < EARLIEST_EVENT:
        # No enterprise this node serves existed then: a mistyped year, not history (as MIN_DATE for date fields).
        raise RecordRejected("ERROR_REASON_FIELD_OUT_OF_RANGE", "event_time is before 1900-01-01 (UTC)", "event_time")
    values = validate_fields(item, record.fields)
    _check_period(item, values, record.event_time)
    key = IdempotencyKey(record.department, item.code, record.source_record_id, record.source_version)
    return ValidatedRecord(
        department=record.department,
        item_code=item.code,
        list_version=sharing_list.version,
        source_record_id=record.source_record_id,
        source_version=record.source_version,
        uscc=uscc,
        event_time=record.event_time,
        received_at=received_at,
        fields=values,
        key=key,
        fingerprint=content_fingerprint(record.department, item.code, uscc, values),
        timeliness=assess_timeliness(item, record.event_time, received_at, calendar),
        as_sent_fingerprint=_as_sent_fingerprint(record.department, item.code, uscc, values),
    )


def _check_source_reference(record: IncomingRecord) -> None:
    rid = record.source_record_id
    if not rid or len(rid) > MAX_SOURCE_RECORD_ID_LENGTH or not _SOURCE_RECORD_ID.fullmatch(rid):
        raise RecordRejected(
            "ERROR_REASON_SOURCE_REFERENCE_INVALID",
            f"source_record_id must be 1-{MAX_SOURCE_RECORD_ID_LENGTH} letters, digits or . _ : -",
            "source_record_id",
        )
    if isinstance(record.source_version, bool) or not 1 <= record.source_version <= MAX_SOURCE_VERSION:
        raise RecordRejected(
            "ERROR_REASON_SOURCE_REFERENCE_INVALID", "source_version must be a positive integer", "source_version"
        )


def _responsible_item(record: IncomingRecord, sharing_list: SharingList) -> Item:
    item = sharing_list.item(record.item_code)
    if item is None:
        raise RecordRejected(
            "ERROR_REASON_ITEM_NOT_IN_SHARING_LIST",
            f"sharing list version {sharing_list.version} has no such item",
            "item_code",
        )
    if item.department != record.department:
        raise RecordRejected(
            "ERROR_REASON_DEPARTMENT_NOT_RESPONSIBLE",
            f"the sending department is not responsible for item {item.code}",
            "item_code",
        )
    return item


def validate_fields(item: Item, raw: Mapping[str, object]) -> dict[str, FieldValue]:
    """Check values against the item's schema and normalize them (decimal and date text become Decimal and date).

    A value of None counts as absent. Raises RecordRejected naming the first offending field.
    """
    if len(raw) > 2 * len(item.fields) + 8 or _text_size(raw) > MAX_RECORD_TEXT:
        raise RecordRejected("ERROR_REASON_RECORD_TOO_LARGE", "the record has too many fields or too much text")
    out: dict[str, FieldValue] = {}
    for schema in item.fields:
        value = raw.get(schema.name)
        if value is None:
            if schema.required:
                raise RecordRejected(
                    "ERROR_REASON_FIELD_REQUIRED", f"field {schema.name} is required by item {item.code}", schema.name
                )
            continue
        out[schema.name] = _check_value(schema, value)
    unknown = sorted(name for name in raw if item.field(name) is None)
    if unknown:
        # A name shaped like the list's field names is echoed (a misspelt field); any other key may be a value sent
        # in the wrong place, personal data included, and is not.
        name = unknown[0] if _FIELD_NAME.fullmatch(unknown[0]) else ""
        raise RecordRejected(
            "ERROR_REASON_FIELD_UNKNOWN", f"item {item.code} has no field {name or 'of that name'}", name
        )
    return out


def _text_size(raw: Mapping[str, object]) -> int:
    return sum(len(k) + (len(v) if isinstance(v, str) else 0) for k, v in raw.items() if isinstance(k, str))


def _wrong_type(schema: FieldSchema) -> RecordRejected:
    return RecordRejected(
        "ERROR_REASON_FIELD_WRONG_TYPE", f"field {schema.name} must be a {schema.type.lower()}", schema.name
    )


def _check_value(schema: FieldSchema, value: object) -> FieldValue:
    if schema.type is FieldType.STRING:
        return _check_string(schema, value)
    if schema.type is FieldType.ENUM:
        if not isinstance(value, str):
            raise _wrong_type(schema)
        if value not in schema.values:
            raise RecordRejected(
                "ERROR_REASON_FIELD_NOT_IN_ENUM",
                f"field {schema.name} must be one of {', '.join(schema.values)}",
                schema.name,
            )
        return value
    if schema.type is FieldType.BOOL:
        if not isinstance(value, bool):
            raise _wrong_type(schema)
        return value
    if schema.type is FieldType.INT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong_type(schema)
        _check_bounds(schema, Decimal(value))
        return value
    if schema.type is FieldType.DECIMAL:
        return _check_decimal(schema, value)
    return _check_date(schema, value)


def _check_string(schema: FieldSchema, value: object) -> str:
    if not isinstance(value, str):
        raise _wrong_type(schema)
    if schema.max_length is not None and len(value) > schema.max_length:
        raise RecordRejected(
            "ERROR_REASON_FIELD_TOO_LONG",
            f"field {schema.name} is longer than {schema.max_length} characters",
            schema.name,
        )
    if _CONTROL.search(value):
        raise RecordRejected(
            "ERROR_REASON_FIELD_MALFORMED", f"field {schema.name} contains control characters", schema.name
        )
    if schema.pattern is not None and not re.fullmatch(schema.pattern, value):
        raise RecordRejected(
            "ERROR_REASON_FIELD_MALFORMED", f"field {schema.name} does not match its format", schema.name
        )
    return value


def _check_decimal(schema: FieldSchema, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        # Floats are refused on purpose: money must not pass through binary floating point.
        raise _wrong_type(schema)
    if isinstance(value, str):
        if not _DECIMAL_TEXT.fullmatch(value):
            raise RecordRejected(
                "ERROR_REASON_FIELD_MALFORMED", f"field {schema.name} is not a plain decimal number", schema.name
            )
        number = Decimal(value)
    else:
        number = Decimal(value)
    if not number.is_finite():
        raise RecordRejected("ERROR_REASON_FIELD_MALFORMED", f"field {schema.name} must be finite", schema.name)
    _check_bounds(schema, number)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > schema.effective_scale:
        try:
            exact = number == number.quantize(Decimal(1).scaleb(-schema.effective_scale))
        except InvalidOperation:
            exact = False
        if not exact:
            raise RecordRejected(
                "ERROR_REASON_FIELD_TOO_PRECISE",
                f"field {schema.name} allows at most {schema.effective_scale} digits after the point",
                schema.name,
            )
    return number


def _check_bounds(schema: FieldSchema, number: Decimal) -> None:
    if not schema.lower_bound <= number <= schema.upper_bound:
        raise RecordRejected(
            "ERROR_REASON_FIELD_OUT_OF_RANGE", f"field {schema.name} is outside its allowed range", schema.name
        )


def _check_date(schema: FieldSchema, value: object) -> date:
    if isinstance(value, datetime):
        raise _wrong_type(schema)
    if isinstance(value, str):
        if not _DATE_TEXT.fullmatch(value):
            raise RecordRejected(
                "ERROR_REASON_FIELD_MALFORMED", f"field {schema.name} must be written YYYY-MM-DD", schema.name
            )
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise RecordRejected(
                "ERROR_REASON_FIELD_MALFORMED", f"field {schema.name} is not a calendar date", schema.name
            ) from None
    if not isinstance(value, date):
        raise _wrong_type(schema)
    if not MIN_DATE <= value <= MAX_DATE:
        raise RecordRejected(
            "ERROR_REASON_FIELD_OUT_OF_RANGE", f"field {schema.name} is outside its allowed range", schema.name
        )
    return value


def _check_period(item: Item, values: Mapping[str, FieldValue], event_time: datetime) -> None:
    """A periodic record's event is the close of its period, so the event must fall inside that month.

    Without this a sender could date the event later than the period and make a late delivery look on time.
    """
    period = values.get(PERIOD_FIELD)
    if not isinstance(period, str) or item.field(PERIOD_FIELD) is None:
        return
    local = event_time.astimezone(CHINA_TZ)
    if f"{local.year:04d}-{local.month:02d}" != period:
        raise RecordRejected(
            "ERROR_REASON_EVENT_TIME_OUTSIDE_PERIOD",
            "event_time must fall within the record's period (Beijing time)",
            "event_time",
        )


def assess_timeliness(item: Item, event_time: datetime, received_at: datetime, calendar: WorkingDays) -> Timeliness:
    """On time when received before the item's deadline for that event (on the official calendar); otherwise late by
    how much."""
    due = item.deadline.due_before(event_time, calendar)
    late_by = max(received_at - due, timedelta(0))
    return Timeliness(due_before=due, on_time=received_at < due, late_by=late_by)


def canonical_text(value: FieldValue) -> str:
    """One text form per value, so equal values always fingerprint alike (1.50 and 1.5 are the same amount, and
    text in NFC: a composed or decomposed accent, a CJK compatibility ideograph or its unified one, is the same
    text, and a department re-encoding it must not get corrected content past the anti-reinsertion rule)."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in {"-0", "0"} else text
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def content_fingerprint(department: str, item_code: str, uscc: str, values: Mapping[str, FieldValue]) -> str:
    """SHA-256 hex of what a record says: sender, item, enterprise and values.

    Source ids, versions and event times are left out on purpose: a superseded record re-sent under a new id or at a
    new time is still the same content, and must still be caught by the anti-reinsertion rule.
    """
    q = _json_string
    pairs = ",".join(f"[{q(k)},{q(v)}]" for k, v in sorted((k, canonical_text(v)) for k, v in values.items()))
    text = f"[{q(department)},{q(item_code)},{q(uscc)},[{pairs}]]"
    return hashlib.sha256(text.encode()).hexdigest()


def _as_sent_fingerprint(department: str, item_code: str, uscc: str, values: Mapping[str, FieldValue]) -> str | None:
    """The fingerprint of text not in NFC as sent (as stored before fingerprints normalized it); None for NFC text."""
    if all(unicodedata.is_normalized("NFC", v) for v in values.values() if isinstance(v, str)):
        return None
    q = _json_string
    texts = sorted((k, v if isinstance(v, str) else canonical_text(v)) for k, v in values.items())
    pairs = ",".join(f"[{q(k)},{q(v)}]" for k, v in texts)
    return hashlib.sha256(f"[{q(department)},{q(item_code)},{q(uscc)},[{pairs}]]".encode()).hexdigest()


def check_not_reinserted(record: ValidatedRecord, superseded: Collection[str]) -> None:
    """A record corrected away (e.g. after an objection) must not come back from its department.

    ``superseded`` holds the fingerprints the store keeps for replaced record contents; the fingerprint includes the
    department, so the same set serves every sender.
    """
    if any(f in superseded for f in record.fingerprints):
        raise RecordRejected(
            "ERROR_REASON_RECORD_REINSERTED",
            f"this content of item {record.item_code} was corrected and may not be sent again",
        )


@dataclass(frozen=True)
class StoredSource:
    """What the store already holds for one source record (department, item, source id)."""

    latest_source_version: int
    fingerprints_by_version: Mapping[int, str]
    uscc: str  # the enterprise the record is about


def classify_replay(record: ValidatedRecord, stored: StoredSource | None) -> Outcome:
    """ACCEPTED for a new source record or a newer version; DUPLICATE for an identical replay.

    Raises RecordRejected for the same key with different content (IDEMPOTENCY_CONFLICT), for a version older
    than one already stored (STALE_SOURCE_VERSION: a late retry must not roll a correction back), or for a version
    about another enterprise (RECORD_ENTERPRISE_CHANGED: a record's versions are one enterprise's history, and the
    readers that hold an enterprise's records, such as the gateway's cache and scoring, follow changes by enterprise).
    """
    if stored is None:
        return Outcome.ACCEPTED
    known = stored.fingerprints_by_version.get(record.source_version)
    if known is not None:
        if known in record.fingerprints:
            return Outcome.DUPLICATE
        raise RecordRejected(
            "ERROR_REASON_IDEMPOTENCY_CONFLICT",
            "this source record version was already received with different content",
            "source_version",
        )
    if record.source_version < stored.latest_source_version:
        raise RecordRejected(
            "ERROR_REASON_STALE_SOURCE_VERSION",
            "a newer version of this source record was already received",
            "source_version",
        )
    if record.uscc != stored.uscc:
        raise RecordRejected(
            "ERROR_REASON_RECORD_ENTERPRISE_CHANGED",
            "a source record stays with its enterprise; withdraw it through an objection and send the record for "
            "the other enterprise under a new source_record_id",
            "uscc",
        )
    return Outcome.ACCEPTED
