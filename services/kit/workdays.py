"""Official Chinese working-day calendar (weekends, public holidays, make-up working days 调休) and deadlines on it.

Sources, per year: the ``chinese-calendar`` library for the years it covers, plus one YAML file per year in
``services/kit/data/`` (``cn-workdays-<year>.yaml``) for years the library does not cover yet, each typed from the
State Council's notice (国务院办公厅关于<year>年部分节假日安排的通知). A day whose year is covered by neither raises
:class:`CalendarUnknown`: the calendar never guesses that an unknown year follows the plain Monday-Friday week.

Day counting follows the Civil Code (民法典 第二百零一条、第二百零三条): the day on which a period starts is not
counted, counting begins the next day, and a period ends at 24:00 of its last day. Days are dates in Asia/Shanghai.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml

from services.kit.errors import FailedPrecondition

# China has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact for every date we handle and
# spares slim container images a dependency on the system time-zone database.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

DATA_DIR = Path(__file__).parent / "data"
DATA_FILE_PATTERN = "cn-workdays-*.yaml"
_FILE_NAME = re.compile(r"^cn-workdays-(\d{4})\.yaml$")

# One holiday block in a notice never spans more than about ten days; a longer one in a data file is a typing error.
_MAX_BLOCK_DAYS = 15
_FILE_KEYS = frozenset({"year", "source", "overrides_library", "holidays", "makeup_workdays"})
_HOLIDAY_KEYS = frozenset({"name", "from", "to"})
_MAKEUP_KEYS = frozenset({"name", "date"})


class CalendarUnknown(FailedPrecondition):
    """The official calendar for a day's year is not loaded, so whether it is a working day is not known."""

    def __init__(self, day: date) -> None:
        super().__init__(
            "ERROR_REASON_CALENDAR_UNKNOWN",
            f"the official working-day calendar for {day.year} is not loaded",
            {"year": str(day.year)},
        )
        self.year = day.year


class CalendarDataError(ValueError):
    """A calendar data file is malformed or contradicts the library; raised when loading, so start-up fails."""


@dataclass(frozen=True)
class YearCalendar:
    """The official arrangement of one year: days off that are not plain weekends, and make-up working days."""

    year: int
    # holidays are the days of public holidays and their 调休 rest days (weekend days among them are harmless).
    holidays: frozenset[date]
    # makeup_workdays are weekend days declared working days (调休上班).
    makeup_workdays: frozenset[date]
    # source says where the arrangement comes from (the notice, or the library).
    source: str
    # overrides_library lets a data file replace the library's arrangement of the same year (a correction).
    overrides_library: bool = False

    def is_working_day(self, day: date) -> bool:
        if day in self.makeup_workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


@dataclass(frozen=True)
class Deadline:
    """The end of a period counted in working days.

    ``last_day`` is the last working day of the period (an Asia/Shanghai date). ``due_before`` is 00:00 Asia/Shanghai
    of the following calendar day: an act at any instant strictly before it is in time (the period ends at 24:00 of
    ``last_day``).
    """

    last_day: date
    due_before: datetime

    def is_met_by(self, at: datetime) -> bool:
        """True when an act at ``at`` (timezone-aware) is in time."""
        return _aware(at, "at") < self.due_before


def local_date(at: datetime) -> date:
    """The Asia/Shanghai calendar date of an aware instant."""
    return _aware(at, "at").astimezone(SHANGHAI).date()


def start_of_day(day: date) -> datetime:
    """00:00 Asia/Shanghai at the start of ``day``."""
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


class WorkCalendar:
    """Working days of the years it was built with; any other year raises :class:`CalendarUnknown`."""

    def __init__(self, years: Iterable[YearCalendar]) -> None:
        self._years: dict[int, YearCalendar] = {}
        for year in years:
            if year.year in self._years:
                raise CalendarDataError(f"year {year.year} is given twice")
            self._years[year.year] = year

    @classmethod
    def load(cls, data_dir: Path | None = DATA_DIR, *, include_library: bool = True) -> WorkCalendar:
        """The official calendar: the library's years plus every data file in ``data_dir`` (validated).

        A data file for a year the library also covers must agree with it day by day, unless it says
        ``overrides_library: true`` (for a correction the library has not released yet); then the file wins.
        """
        years = library_years() if include_library else {}
        if data_dir is not None:
            for from_file in load_data_dir(data_dir):
                in_library = years.get(from_file.year)
                if in_library is not None and not from_file.overrides_library:
                    differing = [
                        d
                        for d in _days_of(from_file.year)
                        if in_library.is_working_day(d) != from_file.is_working_day(d)
                    ]
                    if differing:
                        shown = ", ".join(d.isoformat() for d in differing[:5])
                        raise CalendarDataError(
                            f"data file for {from_file.year} disagrees with chinese-calendar on {shown}; "
                            "fix the file, or set overrides_library: true with the notice that justifies it"
                        )
                years[from_file.year] = from_file
        return cls(years.values())

    def covered_years(self) -> tuple[int, ...]:
        """The years whose official calendar is loaded, ascending."""
        return tuple(sorted(self._years))

    def covers(self, year: int) -> bool:
        return year in self._years

    def missing_years(self, today: date, horizon_days: int = 45) -> tuple[int, ...]:
        """Years touched by ``today`` .. ``today + horizon_days`` whose calendar is not loaded (empty: all is well).

        For an operator alert ("is next year's calendar loaded?"). A forwarding deadline reaches at most about two
        weeks ahead (two working days across a nine-day Spring Festival), and the State Council publishes the next
        year's notice in November, so the default 45 days starts alerting in mid-November, in time to add the file.
        """
        end = today + timedelta(days=horizon_days)
        return tuple(y for y in range(today.year, end.year + 1) if y not in self._years)

    def alert_ready(self, today: date) -> bool:
        """What ``creditnode_calendar_next_year_loaded`` reports: the coming 45 days' years are loaded and, from
        November, next year's too. The alert rules warn from 1 November and page from 15 December on it, and keep
        paging after New Year while the year that has begun is still missing."""
        # The 45-day horizon alone reaches next year only from mid-November: the warning's first two weeks were lost.
        horizon = 45 if today.month < 11 else max(45, (date(today.year + 1, 1, 1) - today).days)
        return not self.missing_years(today, horizon_days=horizon)

    def is_working_day(self, day: date) -> bool:
        """True on a working day; raises :class:`CalendarUnknown` when the day's year is not loaded."""
        if isinstance(day, datetime):
            # never equal to a date, so it would be found in no holiday set; and its date may not be Shanghai's
            raise TypeError("a day is a date: take local_date() of an instant")
        year = self._years.get(day.year)
        if year is None:
            raise CalendarUnknown(day)
        return year.is_working_day(day)

    def add_working_days(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``day`` itself is not counted; ``n == 0`` returns ``day``).

        Raises :class:`CalendarUnknown` as soon as the count reaches a day whose year is not loaded.
        """
        if n < 0:
            raise ValueError("n must not be negative")
        current = day
        remaining = n
        while remaining:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_deadline(self, start: datetime, n: int) -> Deadline:
        """The deadline "within ``n`` working days of ``start``".

        Rule: take the Asia/Shanghai date of ``start`` (whether or not it is a working day; the rest of that day is
        not counted), find the ``n``-th working day after it, and end the period at 24:00 of that day. So an
        objection received on Friday evening with n=2 is due by the end of Tuesday (Monday and Tuesday count), and
        one received on a Saturday make-up working day is due by the end of Tuesday too.
        """
        if n < 1:
            raise ValueError("a working-day period has at least one day")
        last = self.add_working_days(local_date(start), n)
        return Deadline(last_day=last, due_before=start_of_day(last + timedelta(days=1)))

    def forward_deadline(self, received_at: datetime, n: int = 2) -> Deadline:
        """When a platform must have forwarded an objection it received at ``received_at`` (R6: two working days)."""
        return self.working_deadline(received_at, n)

    def within_working_days(self, start: datetime, at: datetime, n: int) -> bool:
        """Whether ``at`` is in time for ``working_deadline(start, n)``, consulting only the days that decide it.

        Equivalent to ``working_deadline(start, n).is_met_by(at)``, but it looks only at the days strictly between
        the two dates, so an act on the same or the next day is known to be in time even when the deadline itself
        would fall in a year that is not loaded yet. Raises :class:`CalendarUnknown` only when an unknown day
        decides the answer.
        """
        if n < 1:
            raise ValueError("a working-day period has at least one day")
        first, last = local_date(start), local_date(at)
        counted = 0
        # The act's own day never decides it: if fewer than n working days lie strictly between, it is in time.
        for day in _dates(first + timedelta(days=1), last - timedelta(days=1)):
            if self.is_working_day(day):
                counted += 1
                if counted >= n:
                    return False
        return True


def library_years() -> dict[int, YearCalendar]:
    """The years chinese-calendar covers, each as a :class:`YearCalendar`."""
    known: Mapping[date, Any] = chinese_calendar.holidays
    first, last = min(known).year, max(known).year
    source = f"chinese-calendar {chinese_calendar.__version__}"
    years: dict[int, YearCalendar] = {}
    for year in range(first, last + 1):
        years[year] = YearCalendar(
            year=year,
            holidays=frozenset(d for d in chinese_calendar.holidays if d.year == year),
            makeup_workdays=frozenset(d for d in chinese_calendar.workdays if d.year == year),
            source=source,
        )
    return years


def load_data_dir(data_dir: Path) -> list[YearCalendar]:
    """Every ``cn-workdays-<year>.yaml`` in ``data_dir``, validated; a missing directory holds none."""
    if not data_dir.is_dir():
        return []
    return [load_year_file(path) for path in sorted(data_dir.glob(DATA_FILE_PATTERN))]


def load_year_file(path: Path) -> YearCalendar:
    """Read and validate one year file; raises :class:`CalendarDataError` naming the file and the problem."""
    match = _FILE_NAME.fullmatch(path.name)
    if match is None:
        raise CalendarDataError(f"{path.name}: file name must be cn-workdays-<year>.yaml")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CalendarDataError(f"{path.name}: not valid YAML ({exc.__class__.__name__})") from exc
    try:
        return _parse_year(raw, int(match.group(1)))
    except CalendarDataError as exc:
        raise CalendarDataError(f"{path.name}: {exc}") from exc


def _parse_year(raw: object, file_year: int) -> YearCalendar:
    if not isinstance(raw, dict):
        raise CalendarDataError("top level must be a mapping")
    unknown = set(raw) - _FILE_KEYS
    if unknown:
        raise CalendarDataError(f"unknown keys {sorted(unknown)}")
    year = raw.get("year")
    if not isinstance(year, int) or year != file_year:
        raise CalendarDataError(f"year must be {file_year}, as in the file name")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise CalendarDataError("source must cite the State Council notice")
    overrides = raw.get("overrides_library", False)
    if not isinstance(overrides, bool):
        raise CalendarDataError("overrides_library must be true or false")

    holidays = _parse_holidays(raw, year)
    makeup = _parse_makeup(raw, year, holidays)
    return YearCalendar(
        year=year,
        holidays=frozenset(holidays),
        makeup_workdays=frozenset(makeup),
        source=source,
        overrides_library=overrides,
    )


def _parse_holidays(raw: dict[str, Any], year: int) -> set[date]:
    holidays: set[date] = set()
    for entry in _entries(raw, "holidays", _HOLIDAY_KEYS):
        first = _date_in_year(entry.get("from"), year, "holidays.from")
        last = _date_in_year(entry.get("to"), year, "holidays.to")
        if last < first:
            raise CalendarDataError(f"holiday {first} .. {last} ends before it starts")
        block = set(_dates(first, last))
        if len(block) > _MAX_BLOCK_DAYS:
            raise CalendarDataError(f"holiday {first} .. {last} is longer than {_MAX_BLOCK_DAYS} days")
        if block & holidays:
            raise CalendarDataError(f"holiday {first} .. {last} overlaps another")
        holidays |= block
    return holidays


def _parse_makeup(raw: dict[str, Any], year: int, holidays: set[date]) -> set[date]:
    makeup: set[date] = set()
    for entry in _entries(raw, "makeup_workdays", _MAKEUP_KEYS):
        day = _date_in_year(entry.get("date"), year, "makeup_workdays.date")
        if day.weekday() < 5:
            raise CalendarDataError(f"make-up working day {day} is not a Saturday or Sunday")
        if day in holidays:
            raise CalendarDataError(f"{day} is both a holiday and a make-up working day")
        if day in makeup:
            raise CalendarDataError(f"make-up working day {day} is listed twice")
        makeup.add(day)
    return makeup


def _entries(raw: dict[str, Any], key: str, allowed: frozenset[str]) -> Iterator[dict[str, Any]]:
    entries = raw.get(key)
    if entries is None:
        raise CalendarDataError(f"{key} is missing (write [] when there are none)")
    if not isinstance(entries, list):
        raise CalendarDataError(f"{key} must be a list")
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) - allowed or not {"name"} <= set(entry):
            raise CalendarDataError(f"each of {key} must be a mapping with keys {sorted(allowed)}")
        if not isinstance(entry["name"], str) or not entry["name"].strip():
            raise CalendarDataError(f"each of {key} needs a name")
        yield entry


def _date_in_year(value: object, year: int, field: str) -> date:
    # YAML reads 2027-01-01 as a date and 2027-01-01 08:00 as a datetime (a date subclass): only the first is a day.
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise CalendarDataError(f"{field} {value!r} is not a YYYY-MM-DD date") from None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise CalendarDataError(f"{field} must be a YYYY-MM-DD date")
    if value.year != year:
        raise CalendarDataError(f"{field} {value} is not in {year}; it belongs in that year's file")
    return value


def _aware(at: datetime, name: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return at


def _dates(first: date, last: date) -> Iterator[date]:
    """Every date from ``first`` to ``last`` inclusive (none when ``last`` is before ``first``)."""
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _days_of(year: int) -> Iterator[date]:
    return _dates(date(year, 1, 1), date(year, 12, 31))
