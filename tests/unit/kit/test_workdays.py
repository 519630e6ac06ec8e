"""The working-day calendar against an independent table typed from the State Council notices for 2025 and 2026."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from services.kit.errors import FailedPrecondition
from services.kit.workdays import (
    DATA_DIR,
    SHANGHAI,
    CalendarDataError,
    CalendarUnknown,
    Deadline,
    WorkCalendar,
    YearCalendar,
    library_years,
    load_year_file,
)

TABLE = Path(__file__).resolve().parents[2] / "data" / "holidays" / "cn-holidays-2025-2026.txt"
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
CST = timezone(timedelta(hours=8))  # the test's own UTC+8, not the module's constant


# --- the independent oracle -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """Days off and make-up working days of 2025 and 2026, parsed from the hand-typed notice table."""

    off: frozenset[date]
    work: frozenset[date]
    years: frozenset[int]

    def is_working(self, day: date) -> bool:
        if day.year not in self.years:
            raise LookupError(day.year)
        if day in self.work:
            return True
        return day not in self.off and day.weekday() < 5

    def deadline_day(self, received_on: date, n: int) -> date:
        """Simplest possible counting: walk forward day by day from the day after receipt."""
        day, counted = received_on, 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_working(day):
                counted += 1
        return day


def _weekday_checked(text: str, weekday: str) -> date:
    day = date.fromisoformat(text)
    assert WEEKDAYS[day.weekday()] == weekday, f"{text} is not {weekday} (typing slip in the table)"
    return day


def load_table() -> Table:
    off: set[date] = set()
    work: set[date] = set()
    for raw in TABLE.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].split()
        if not line:
            continue
        if line[0] == "off":
            first = _weekday_checked(line[1], line[2])
            last = _weekday_checked(line[3], line[4])
            block = {first + timedelta(days=i) for i in range((last - first).days + 1)}
            assert len(block) == int(line[5]), f"{raw}: the notice says 共{line[5]}天"
            assert not block & off
            off |= block
        elif line[0] == "work":
            day = _weekday_checked(line[1], line[2])
            assert day.weekday() >= 5
            work.add(day)
        else:
            pytest.fail(f"unknown line in table: {raw}")
    return Table(off=frozenset(off), work=frozenset(work), years=frozenset({2025, 2026}))


@pytest.fixture(scope="module")
def table() -> Table:
    return load_table()


@pytest.fixture(scope="module")
def official() -> WorkCalendar:
    return WorkCalendar.load()


@pytest.fixture(scope="module")
def through_2026() -> WorkCalendar:
    """The library's years up to 2026 only, so "2027 is unknown" stays true after a library upgrade."""
    return WorkCalendar(y for y in library_years().values() if y.year <= 2026)


def every_day(year: int) -> Iterator[date]:
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)


def at(day: date, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=CST)


# --- the table itself ---------------------------------------------------------------------------------------------


def test_table_holds_what_the_notices_announce(table: Table) -> None:
    # 2025: 1 + 8 + 3 + 5 + 3 + 8 days off, 5 make-up days; 2026: 3 + 9 + 3 + 5 + 3 + 3 + 7, 6 make-up days.
    assert len([d for d in table.off if d.year == 2025]) == 28
    assert len([d for d in table.off if d.year == 2026]) == 33
    assert len([d for d in table.work if d.year == 2025]) == 5
    assert len([d for d in table.work if d.year == 2026]) == 6


# --- library-backed calendar against the table -------------------------------------------------------------------


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_day_matches_the_notices(official: WorkCalendar, table: Table, year: int) -> None:
    disagreements = [d for d in every_day(year) if official.is_working_day(d) != table.is_working(d)]
    assert disagreements == []


@pytest.mark.parametrize("year", [2025, 2026])
@pytest.mark.parametrize(("hour", "minute", "second"), [(0, 0, 0), (9, 30, 0), (23, 59, 59)])
def test_two_working_day_forward_deadline_for_every_receipt_date(
    official: WorkCalendar, through_2026: WorkCalendar, table: Table, year: int, hour: int, minute: int, second: int
) -> None:
    checked = unknown = 0
    for received_on in every_day(year):
        received_at = at(received_on, hour, minute, second)
        try:
            expected = table.deadline_day(received_on, 2)
        except LookupError:
            # The deadline runs into 2027, which neither the table nor the calendar knows: it must say so.
            with pytest.raises(CalendarUnknown):
                through_2026.forward_deadline(received_at)
            unknown += 1
            continue
        deadline = official.forward_deadline(received_at)
        assert deadline.last_day == expected, received_on
        assert deadline.due_before == datetime.combine(expected + timedelta(days=1), time(0), tzinfo=CST)
        checked += 1
    assert checked + unknown == len(list(every_day(year)))
    # Only 30 and 31 December 2026 need 2027 (1 January 2027 would be the second working day or later).
    assert unknown == (2 if year == 2026 else 0)


@pytest.mark.parametrize("year", [2025, 2026])
def test_in_time_check_agrees_with_the_deadline(official: WorkCalendar, table: Table, year: int) -> None:
    for received_on in every_day(year):
        received_at = at(received_on, 18)
        for offset in range(12):
            forwarded_on = received_on + timedelta(days=offset)
            if forwarded_on.year > 2026:
                continue
            try:
                last = table.deadline_day(received_on, 2)
            except LookupError:
                last = None
            in_time = official.within_working_days(received_at, at(forwarded_on, 23, 59, 59), 2)
            if last is not None:
                assert in_time == (forwarded_on <= last), (received_on, forwarded_on)
            else:
                assert in_time  # forwarded within 2026, before the unknown year could matter


def test_library_and_table_agree_on_the_exact_sets(table: Table) -> None:
    # Holidays falling on a weekend are listed by both; compare the raw sets, not just working/non-working.
    years = library_years()
    for year in (2025, 2026):
        assert years[year].holidays == {d for d in table.off if d.year == year}
        assert years[year].makeup_workdays == {d for d in table.work if d.year == year}


# --- the rule, on the cases the issue names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received_on", "last_day"),
    [
        # Friday before a make-up Saturday: the Saturday is the first working day, Monday the second.
        (date(2025, 2, 7), date(2025, 2, 10)),
        (date(2025, 10, 10), date(2025, 10, 13)),
        (date(2026, 5, 8), date(2026, 5, 11)),
        (date(2026, 10, 9), date(2026, 10, 12)),
        (date(2026, 2, 27), date(2026, 3, 2)),
        # Friday before the make-up Saturday that opens the 2026 Spring Festival: Saturday, then nine days off.
        (date(2026, 2, 13), date(2026, 2, 24)),
        # Spring Festival 2025: received the Monday before 除夕 → the two days after the holiday.
        (date(2025, 1, 27), date(2025, 2, 6)),
        # Received on a Saturday before the make-up Sunday 26 January 2025.
        (date(2025, 1, 25), date(2025, 1, 27)),
        # Received on the make-up Saturday itself: it is not counted, like any day of receipt.
        (date(2025, 2, 8), date(2025, 2, 11)),
        # National Day 2025 (eight days with Mid-Autumn).
        (date(2025, 9, 30), date(2025, 10, 10)),
        (date(2025, 9, 26), date(2025, 9, 29)),
        (date(2025, 10, 3), date(2025, 10, 10)),
        # National Day 2026: the make-up Saturday 10 October counts.
        (date(2026, 9, 30), date(2026, 10, 9)),
        (date(2026, 10, 8), date(2026, 10, 10)),
        # An ordinary Friday: Monday and Tuesday.
        (date(2025, 3, 14), date(2025, 3, 18)),
    ],
)
def test_forward_deadline_cases(official: WorkCalendar, received_on: date, last_day: date) -> None:
    assert official.forward_deadline(at(received_on, 20)).last_day == last_day


def test_receipt_date_is_taken_in_shanghai_time(official: WorkCalendar) -> None:
    # 23:59 on Friday 7 February 2025 in Shanghai is 15:59 UTC; 00:30 on the make-up Saturday is 16:30 UTC.
    friday_night = datetime(2025, 2, 7, 15, 59, tzinfo=UTC)
    saturday_early = datetime(2025, 2, 7, 16, 30, tzinfo=UTC)
    assert official.forward_deadline(friday_night).last_day == date(2025, 2, 10)
    assert official.forward_deadline(saturday_early).last_day == date(2025, 2, 11)


def test_deadline_ends_at_midnight_shanghai(official: WorkCalendar) -> None:
    deadline = official.forward_deadline(at(date(2025, 3, 14)))
    assert deadline == Deadline(last_day=date(2025, 3, 18), due_before=datetime(2025, 3, 19, tzinfo=SHANGHAI))
    assert deadline.is_met_by(datetime(2025, 3, 18, 15, 59, 59, 999999, tzinfo=UTC))
    assert not deadline.is_met_by(datetime(2025, 3, 18, 16, 0, tzinfo=UTC))


def test_add_working_days_counts_from_the_next_day(official: WorkCalendar) -> None:
    assert official.add_working_days(date(2025, 1, 27), 0) == date(2025, 1, 27)
    assert official.add_working_days(date(2025, 1, 27), 1) == date(2025, 2, 5)
    assert official.add_working_days(date(2026, 2, 13), 3) == date(2026, 2, 25)
    with pytest.raises(ValueError, match="negative"):
        official.add_working_days(date(2025, 1, 1), -1)


def test_naive_datetimes_are_refused(official: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        official.forward_deadline(datetime(2025, 3, 14, 10))


def test_a_period_has_at_least_one_working_day(official: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="at least one day"):
        official.forward_deadline(at(date(2025, 3, 14)), 0)
    with pytest.raises(ValueError, match="at least one day"):
        official.within_working_days(at(date(2025, 3, 14)), at(date(2025, 3, 14)), 0)


# --- unknown years: say so, never guess ---------------------------------------------------------------------------


def test_unknown_year_raises_a_failed_precondition_with_its_reason(through_2026: WorkCalendar) -> None:
    with pytest.raises(CalendarUnknown) as err:
        through_2026.is_working_day(date(2027, 3, 1))
    assert isinstance(err.value, FailedPrecondition)
    assert err.value.reason == "ERROR_REASON_CALENDAR_UNKNOWN"
    assert err.value.metadata == {"year": "2027"}
    assert err.value.year == 2027


def test_deadline_running_into_an_unknown_year_is_unknown(through_2026: WorkCalendar) -> None:
    with pytest.raises(CalendarUnknown):
        through_2026.forward_deadline(at(date(2026, 12, 30)))
    # ... but a forward on the next day is in time whatever 2027 brings, and a late one is late.
    assert through_2026.within_working_days(at(date(2026, 12, 30)), at(date(2026, 12, 31), 23), 2)
    assert through_2026.within_working_days(at(date(2026, 12, 31)), at(date(2027, 1, 1), 9), 2)
    assert not through_2026.within_working_days(at(date(2026, 12, 24)), at(date(2026, 12, 29)), 2)
    with pytest.raises(CalendarUnknown):
        through_2026.within_working_days(at(date(2026, 12, 30)), at(date(2027, 1, 4)), 2)


def test_an_empty_calendar_knows_nothing() -> None:
    empty = WorkCalendar([])
    assert empty.covered_years() == ()
    with pytest.raises(CalendarUnknown):
        empty.is_working_day(date(2025, 6, 3))


def test_covered_years_span_the_library(official: WorkCalendar) -> None:
    years = official.covered_years()
    assert years[0] == 2004
    assert set(range(2004, 2027)) <= set(years)
    assert official.covers(2026)


def test_next_years_calendar_check(through_2026: WorkCalendar) -> None:
    assert through_2026.missing_years(date(2026, 11, 29)) == (2027,)
    assert through_2026.missing_years(date(2026, 11, 16)) == ()
    assert through_2026.missing_years(date(2026, 10, 1), horizon_days=120) == (2027,)
    assert through_2026.missing_years(date(2027, 1, 5)) == (2027,)


def test_the_alerts_calendar_gauge_looks_at_next_year_from_november(through_2026: WorkCalendar) -> None:
    # The alert warns "from 1 November": the 45-day horizon alone reached 2027 only from 17 November.
    assert through_2026.alert_ready(date(2026, 10, 31))
    assert not through_2026.alert_ready(date(2026, 11, 1))
    assert not through_2026.alert_ready(date(2026, 11, 16))
    assert not through_2026.alert_ready(date(2026, 12, 31))
    # The year has begun without its calendar: still not ready, whatever the month.
    assert not through_2026.alert_ready(date(2027, 1, 5))
    assert through_2026.alert_ready(date(2026, 3, 1))


# --- data files for years the library does not cover -------------------------------------------------------------

# A synthetic year used only to exercise the loader; it is not an official arrangement.
SYNTHETIC_2031 = """\
year: 2031
source: "synthetic test data, not a State Council notice"
holidays:
  - {name: 元旦, from: 2031-01-01, to: 2031-01-01}
  - {name: 春节, from: 2031-01-22, to: 2031-01-28}
makeup_workdays:
  - {name: 春节, date: 2031-02-01}
"""


def write(directory: Path, year: int, text: str) -> Path:
    path = directory / f"cn-workdays-{year}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_data_file_extends_the_calendar(tmp_path: Path) -> None:
    write(tmp_path, 2031, SYNTHETIC_2031)
    calendar = WorkCalendar.load(tmp_path)
    assert calendar.covers(2031)
    assert not calendar.covers(2030)
    assert not calendar.is_working_day(date(2031, 1, 22))  # a Wednesday off
    assert calendar.is_working_day(date(2031, 2, 1))  # a make-up Saturday
    assert not calendar.is_working_day(date(2031, 2, 2))
    assert calendar.add_working_days(date(2031, 1, 21), 2) == date(2031, 1, 30)


def test_data_file_alone_without_the_library(tmp_path: Path) -> None:
    write(tmp_path, 2031, SYNTHETIC_2031)
    calendar = WorkCalendar.load(tmp_path, include_library=False)
    assert calendar.covered_years() == (2031,)


def test_shipped_data_files_are_valid() -> None:
    for path in sorted(DATA_DIR.glob("cn-workdays-*.yaml")):
        assert load_year_file(path).year == int(path.stem.rsplit("-", 1)[1])
    WorkCalendar.load()


def test_missing_data_directory_holds_nothing(tmp_path: Path) -> None:
    calendar = WorkCalendar.load(tmp_path / "absent")
    assert calendar.covered_years() == tuple(sorted(library_years()))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (SYNTHETIC_2031.replace("year: 2031", "year: 2032"), "year must be 2031"),
        (SYNTHETIC_2031.replace('source: "synthetic test data, not a State Council notice"', 'source: ""'), "source"),
        (SYNTHETIC_2031 + "extra: 1\n", "unknown keys"),
        (SYNTHETIC_2031.replace("date: 2031-02-01", "date: 2031-02-03"), "not a Saturday or Sunday"),
        (SYNTHETIC_2031.replace("date: 2031-02-01", "date: 2031-01-25"), "both a holiday and a make-up"),
        (
            SYNTHETIC_2031.replace(
                "to: 2031-01-28}", "to: 2031-01-28}\n  - {name: 重复, from: 2031-01-27, to: 2031-01-29}"
            ),
            "overlaps",
        ),
        (SYNTHETIC_2031.replace("to: 2031-01-28", "to: 2031-01-20"), "ends before it starts"),
        (SYNTHETIC_2031.replace("to: 2031-01-28", "to: 2031-02-28"), "longer than"),
        (SYNTHETIC_2031.replace("from: 2031-01-01", "from: 2030-12-31"), "not in 2031"),
        (SYNTHETIC_2031.replace("date: 2031-02-01", "date: 2031-02-01 08:00:00"), "YYYY-MM-DD"),
        (SYNTHETIC_2031.replace("date: 2031-02-01", "date: 1.2.2031"), "YYYY-MM-DD"),
        (SYNTHETIC_2031.replace("makeup_workdays:\n  - {name: 春节, date: 2031-02-01}\n", ""), "makeup_workdays"),
        (SYNTHETIC_2031.replace("{name: 春节, date: 2031-02-01}", "{date: 2031-02-01}"), "mapping with keys"),
        (SYNTHETIC_2031 + "overrides_library: yes please\n", "true or false"),
        ("- just a list\n", "mapping"),
        ("year: [unclosed\n", "not valid YAML"),
    ],
)
def test_loader_refuses_bad_files(tmp_path: Path, text: str, problem: str) -> None:
    write(tmp_path, 2031, text)
    with pytest.raises(CalendarDataError, match=problem) as err:
        WorkCalendar.load(tmp_path)
    assert "cn-workdays-2031.yaml" in str(err.value)


def test_loader_refuses_a_badly_named_file(tmp_path: Path) -> None:
    path = tmp_path / "cn-workdays-31.yaml"
    path.write_text(SYNTHETIC_2031, encoding="utf-8")
    with pytest.raises(CalendarDataError, match="file name"):
        load_year_file(path)


COPY_OF_2026 = """\
year: 2026
source: "国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）"
holidays:
  - {name: 元旦, from: 2026-01-01, to: 2026-01-03}
  - {name: 春节, from: 2026-02-15, to: 2026-02-23}
  - {name: 清明节, from: 2026-04-04, to: 2026-04-06}
  - {name: 劳动节, from: 2026-05-01, to: 2026-05-05}
  - {name: 端午节, from: 2026-06-19, to: 2026-06-21}
  - {name: 中秋节, from: 2026-09-25, to: 2026-09-27}
  - {name: 国庆节, from: 2026-10-01, to: 2026-10-07}
makeup_workdays:
  - {name: 元旦, date: 2026-01-04}
  - {name: 春节, date: 2026-02-14}
  - {name: 春节, date: 2026-02-28}
  - {name: 劳动节, date: 2026-05-09}
  - {name: 国庆节, date: 2026-09-20}
  - {name: 国庆节, date: 2026-10-10}
"""


def test_a_file_agreeing_with_the_library_is_accepted(tmp_path: Path) -> None:
    write(tmp_path, 2026, COPY_OF_2026)
    assert WorkCalendar.load(tmp_path).is_working_day(date(2026, 2, 28))


def test_a_file_contradicting_the_library_is_refused(tmp_path: Path) -> None:
    write(tmp_path, 2026, COPY_OF_2026.replace("  - {name: 春节, date: 2026-02-28}\n", ""))
    with pytest.raises(CalendarDataError, match="disagrees with chinese-calendar on 2026-02-28"):
        WorkCalendar.load(tmp_path)


def test_an_explicit_override_replaces_the_library(tmp_path: Path) -> None:
    text = COPY_OF_2026.replace("  - {name: 春节, date: 2026-02-28}\n", "") + "overrides_library: true\n"
    write(tmp_path, 2026, text)
    calendar = WorkCalendar.load(tmp_path)
    assert not calendar.is_working_day(date(2026, 2, 28))


def test_a_year_cannot_be_given_twice() -> None:
    year = YearCalendar(year=2031, holidays=frozenset(), makeup_workdays=frozenset(), source="synthetic")
    with pytest.raises(CalendarDataError, match="twice"):
        WorkCalendar([year, year])
