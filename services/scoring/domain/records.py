"""Credit records as scoring sees them (item code, typed fields, event time, version, dispute flag) and time helpers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache


@dataclass(frozen=True)
class Record:
    """One version of one sharing-list record about one enterprise, as the registry publishes it.

    ``fields`` hold typed values: ``date`` for date fields, ``Decimal`` for decimals, ``int``, ``bool``, and ``str``
    for strings, enums and periods (``YYYY-MM``). ``event_time`` is the source event's time (registry ``event_time``).
    ``publicity_end`` is the first instant the record is no longer published (公示期满, the registry's
    ``publicity_end_time``); None when its item has no publicity period, or when it is not known:
    ``publicity_known`` is False for a record stored before scoring kept publicity ends (read again from the registry
    by the day's re-check).
    """

    record_id: str
    item_code: str
    fields: Mapping[str, object]
    event_time: datetime
    version: int = 1
    in_dispute: bool = False
    publicity_end: datetime | None = None
    publicity_known: bool = field(default=True, compare=False)


@dataclass(frozen=True, order=True)
class RecordRef:
    """Which record version a figure rests on: the evidence an explanation or an alert points to.

    ``event_time`` is that version's source event time, so the gateway can bound an explanation by an authorization's
    look-back; None on references stored before it was kept (the gateway then counts the record as too old)."""

    record_id: str
    version: int
    item_code: str = field(compare=False, default="")
    in_dispute: bool = field(compare=False, default=False)
    event_time: datetime | None = field(compare=False, default=None)


def ref(record: Record) -> RecordRef:
    return RecordRef(record.record_id, record.version, record.item_code, record.in_dispute, record.event_time)


def current(records: Iterable[Record]) -> list[Record]:
    """Keep the highest version of each record id (the registry may hand over superseded versions too)."""
    best: dict[str, Record] = {}
    for r in records:
        seen = best.get(r.record_id)
        if seen is None or r.version > seen.version:
            best[r.record_id] = r
    return list(best.values())


def published(record: Record, as_of: datetime) -> bool:
    """Whether the record is still within its publicity period at ``as_of``: one past it is kept, never scored."""
    return record.publicity_end is None or as_of < record.publicity_end


def by_item(records: Iterable[Record], as_of: datetime) -> dict[str, list[Record]]:
    """Current versions whose source event is no later than ``as_of`` and still published then, by item code.

    The newest version decides: a record's publicity ends for all its versions when its current one's does."""
    grouped: dict[str, list[Record]] = {}
    for r in current(x for x in records if x.event_time <= as_of):
        if not published(r, as_of):
            continue
        grouped.setdefault(r.item_code, []).append(r)
    return grouped


def month_index(year: int, month: int) -> int:
    """Months since year 0, so month arithmetic is integer arithmetic."""
    return year * 12 + month - 1


def period_index(value: object) -> int | None:
    """``"YYYY-MM"`` (the sharing list's period format) as a month index; None when malformed."""
    if not isinstance(value, str):
        return None
    return _period_index(value)


@lru_cache(maxsize=4096)  # few distinct periods recur across millions of monthly records
def _period_index(value: str) -> int | None:
    if len(value) != 7 or value[4] != "-":
        return None
    try:
        year, month = int(value[:4]), int(value[5:])
    except ValueError:
        return None
    return month_index(year, month) if 1 <= month <= 12 else None


def as_date(value: object) -> date | None:
    """A date field's value (``date`` or ISO text); None when absent or malformed."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def as_number(value: object) -> float | None:
    """A numeric field's value (int, Decimal, float or numeric text; bools count as 1/0)."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier, clamped to the month's end (2024-03-31 minus 1 month is 2024-02-29)."""
    index = month_index(day.year, day.month) - months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable: day 28 exists in every month")
