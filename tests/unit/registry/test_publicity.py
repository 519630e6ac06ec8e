"""The publicity period (公示期): when a record's publication ends, by calendar months in Beijing time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.registry.domain.sharing_list import CHINA_TZ, DEFAULT_SHARING_LIST_PATH, load_sharing_list, publicity_end


def test_publication_ends_at_beijing_midnight_after_the_corresponding_day() -> None:
    # Decided 2023-03-15: the period's last day is 2026-03-15, shown until 24:00 that day.
    end = publicity_end(datetime(2023, 3, 15, 10, 0, tzinfo=CHINA_TZ), 36)
    assert end == datetime(2026, 3, 16, 0, 0, tzinfo=CHINA_TZ)


def test_the_boundary_instant_is_the_first_moment_no_longer_published() -> None:
    end = publicity_end(datetime(2023, 3, 15, 10, 0, tzinfo=CHINA_TZ), 36)
    last_moment = datetime(2026, 3, 15, 23, 59, 59, 999999, tzinfo=CHINA_TZ)
    assert last_moment < end
    assert datetime(2026, 3, 15, 16, 0, tzinfo=UTC) == end  # 00:00 Beijing is 16:00 UTC the day before


def test_the_event_day_is_the_beijing_calendar_day() -> None:
    # 2023-03-14 20:00 UTC is already 15 March in Beijing.
    assert publicity_end(datetime(2023, 3, 14, 20, 0, tzinfo=UTC), 1) == datetime(2023, 4, 16, tzinfo=CHINA_TZ)
    # 2023-03-14 15:59 UTC is still 14 March in Beijing.
    assert publicity_end(datetime(2023, 3, 14, 15, 59, tzinfo=UTC), 1) == datetime(2023, 4, 15, tzinfo=CHINA_TZ)


@pytest.mark.parametrize(
    ("event_day", "months", "first_day_unpublished"),
    [
        ((2023, 1, 31), 1, (2023, 3, 1)),  # no 31 February: the month's last day (28th) is the period's last
        ((2024, 1, 31), 1, (2024, 3, 1)),  # leap year: 29 February is the last day
        ((2024, 1, 30), 1, (2024, 3, 1)),
        ((2024, 1, 29), 1, (2024, 3, 1)),  # 29 February exists in 2024
        ((2023, 1, 29), 1, (2023, 3, 1)),  # but not in 2023
        ((2024, 2, 29), 12, (2025, 3, 1)),  # a leap day's anniversary in a common year: 28 February
        ((2024, 2, 29), 48, (2028, 3, 1)),  # and in the next leap year: 29 February
        ((2024, 2, 29), 36, (2027, 3, 1)),
        ((2023, 8, 31), 36, (2026, 9, 1)),  # 30 September has no 31st
        ((2023, 12, 31), 36, (2027, 1, 1)),  # across a year end
        ((2023, 11, 30), 3, (2024, 3, 1)),  # 30 February does not exist (leap year)
        ((2023, 5, 15), 12, (2024, 5, 16)),
    ],
)
def test_calendar_months_clamp_to_the_months_end(
    event_day: tuple[int, int, int], months: int, first_day_unpublished: tuple[int, int, int]
) -> None:
    event = datetime(*event_day, 9, 0, tzinfo=CHINA_TZ)
    assert publicity_end(event, months) == datetime(*first_day_unpublished, tzinfo=CHINA_TZ)


def test_a_naive_event_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        publicity_end(datetime(2023, 1, 1), 36)


def test_an_item_without_a_publicity_period_is_published_without_end() -> None:
    node_list = load_sharing_list(DEFAULT_SHARING_LIST_PATH)
    event = datetime(2023, 3, 15, 10, 0, tzinfo=CHINA_TZ)
    penalty, basic = node_list.item("AMR_PENALTY"), node_list.item("REG_BASIC")
    assert penalty is not None
    assert basic is not None
    assert penalty.publicity_ends(event) == datetime(2026, 3, 16, tzinfo=CHINA_TZ)
    assert basic.publicity_ends(event) is None
