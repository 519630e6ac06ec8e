"""The two clocks: forwarding within 2 working days (official calendar), handling within 20 calendar days."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from services.kit.errors import FailedPrecondition, InvalidArgument
from services.kit.workdays import WorkCalendar
from services.objection.domain import (
    ForwardingBreached,
    ForwardTimeliness,
    ForwardTimelinessUnknown,
    HandlingOverdue,
    ObjectionPolicy,
    Outcome,
    TimelineKind,
)
from tests.unit.objection.fakes import PLATFORM, SYNTHETIC_2027, TAX, World, calendar_with, cst


@pytest.fixture
def world() -> World:
    return World()


# --- clock 1 ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received_at", "forwarded_at", "timeliness", "last_day"),
    [
        # Spring Festival 2025 (28 Jan - 4 Feb): received the day before 除夕, due the second day after the holiday.
        (cst(2025, 1, 27, 18), cst(2025, 2, 6, 23, 59, 59), ForwardTimeliness.ON_TIME, date(2025, 2, 6)),
        (cst(2025, 1, 27, 18), cst(2025, 2, 7, 0, 0, 0), ForwardTimeliness.LATE, date(2025, 2, 6)),
        # Received on Friday 24 January 2025: the make-up Sunday 26 January counts, so forwarding on 28 January is late.
        (cst(2025, 1, 24, 16), cst(2025, 1, 27, 17), ForwardTimeliness.ON_TIME, date(2025, 1, 27)),
        (cst(2025, 1, 24, 16), cst(2025, 1, 28, 9), ForwardTimeliness.LATE, date(2025, 1, 27)),
        # Spring Festival 2026 (15-23 Feb) opened by the make-up Saturday 14 February.
        (cst(2026, 2, 13, 17), cst(2026, 2, 24, 18), ForwardTimeliness.ON_TIME, date(2026, 2, 24)),
        (cst(2026, 2, 13, 17), cst(2026, 2, 25, 9), ForwardTimeliness.LATE, date(2026, 2, 24)),
        (cst(2026, 2, 11, 9), cst(2026, 2, 14, 9), ForwardTimeliness.LATE, date(2026, 2, 13)),
        # National Day 2025 (1-8 Oct with Mid-Autumn); 11 October is a make-up Saturday, but already too late.
        (cst(2025, 9, 30, 11), cst(2025, 10, 10, 20), ForwardTimeliness.ON_TIME, date(2025, 10, 10)),
        (cst(2025, 9, 30, 11), cst(2025, 10, 11, 10), ForwardTimeliness.LATE, date(2025, 10, 10)),
        (cst(2025, 9, 26, 11), cst(2025, 9, 30, 10), ForwardTimeliness.LATE, date(2025, 9, 29)),
        # National Day 2026 (1-7 Oct).
        (cst(2026, 9, 30, 15), cst(2026, 10, 9, 15), ForwardTimeliness.ON_TIME, date(2026, 10, 9)),
        (cst(2026, 9, 30, 15), cst(2026, 10, 10, 9), ForwardTimeliness.LATE, date(2026, 10, 9)),
        # The Friday before a make-up Saturday: Saturday is day 1 and Monday day 2, so Tuesday is late.
        (cst(2025, 2, 7, 17), cst(2025, 2, 10, 23), ForwardTimeliness.ON_TIME, date(2025, 2, 10)),
        (cst(2025, 2, 7, 17), cst(2025, 2, 11, 9), ForwardTimeliness.LATE, date(2025, 2, 10)),
        (cst(2025, 10, 10, 17), cst(2025, 10, 13, 9), ForwardTimeliness.ON_TIME, date(2025, 10, 13)),
        (cst(2025, 10, 10, 17), cst(2025, 10, 14, 9), ForwardTimeliness.LATE, date(2025, 10, 13)),
    ],
)
def test_forwarding_clock(
    world: World, received_at: datetime, forwarded_at: datetime, timeliness: ForwardTimeliness, last_day: date
) -> None:
    objection = world.file(received_at=received_at, forwarded_at=forwarded_at)
    assert objection.forward_timeliness is timeliness
    assert objection.forward_deadline is not None
    assert objection.forward_deadline.last_day == last_day
    breaches = [e for e in objection.pull_events() if isinstance(e, ForwardingBreached)]
    kinds = [entry.kind for entry in objection.timeline]
    if timeliness is ForwardTimeliness.LATE:
        assert [(b.platform, b.deadline_last_day, b.received_at, b.forwarded_at) for b in breaches] == [
            (PLATFORM, last_day, received_at, forwarded_at)
        ]
        assert TimelineKind.FORWARDED_LATE in kinds
    else:
        assert breaches == []
        assert TimelineKind.FORWARDED_LATE not in kinds


def test_unknown_calendar_is_said_and_alerted_never_guessed(world: World) -> None:
    objection = world.file(received_at=cst(2026, 12, 30, 10), forwarded_at=cst(2027, 1, 5, 10))
    assert objection.forward_timeliness is ForwardTimeliness.UNKNOWN
    assert objection.forward_deadline is None
    events = objection.pull_events()
    alerts = [e for e in events if isinstance(e, ForwardTimelinessUnknown)]
    assert [(a.platform, a.missing_year) for a in alerts] == [(PLATFORM, 2027)]
    assert not any(isinstance(e, ForwardingBreached) for e in events)
    unknown = [entry for entry in objection.timeline if entry.kind is TimelineKind.FORWARD_TIMELINESS_UNKNOWN]
    assert [entry.detail for entry in unknown] == [{"missing_year": "2027"}]


def test_unknown_timeliness_is_decided_once_the_calendar_is_loaded(world: World) -> None:
    objection = world.file(received_at=cst(2026, 12, 30, 10), forwarded_at=cst(2027, 1, 5, 10))
    objection.pull_events()
    still_unknown = objection.reassess_forwarding(world.calendar, world.policy, cst(2027, 1, 6))
    assert still_unknown is ForwardTimeliness.UNKNOWN
    assert objection.pull_events() == []
    entries_before = objection.timeline

    loaded = calendar_with([SYNTHETIC_2027])
    # 31 Dec is day 1; 1 Jan (off) and the weekend do not count; Monday 4 January 2027 is day 2.
    assert objection.reassess_forwarding(loaded, world.policy, cst(2027, 1, 8)) is ForwardTimeliness.LATE
    assert objection.forward_deadline is not None
    assert objection.forward_deadline.last_day == date(2027, 1, 4)
    breaches = [e for e in objection.pull_events() if isinstance(e, ForwardingBreached)]
    assert [(b.deadline_last_day, b.at) for b in breaches] == [(date(2027, 1, 4), cst(2027, 1, 8))]
    assert objection.timeline[: len(entries_before)] == entries_before
    assert [e.kind for e in objection.timeline[len(entries_before) :]] == [
        TimelineKind.FORWARD_TIMELINESS_ASSESSED,
        TimelineKind.FORWARDED_LATE,
    ]
    # Deciding again changes nothing.
    assert objection.reassess_forwarding(loaded, world.policy, cst(2027, 1, 9)) is ForwardTimeliness.LATE
    assert objection.pull_events() == []


def test_a_forward_the_next_day_is_on_time_even_into_an_unknown_year(world: World) -> None:
    objection = world.file(received_at=cst(2026, 12, 31, 16), forwarded_at=cst(2027, 1, 1, 9))
    assert objection.forward_timeliness is ForwardTimeliness.ON_TIME
    assert objection.forward_deadline is None
    assert not any(isinstance(e, ForwardTimelinessUnknown) for e in objection.pull_events())
    # Once the year is loaded the deadline itself can be shown, without a new timeline step.
    steps = len(objection.timeline)
    loaded = calendar_with([SYNTHETIC_2027])
    assert objection.reassess_forwarding(loaded, world.policy, cst(2027, 1, 8)) is ForwardTimeliness.ON_TIME
    assert objection.forward_deadline is not None
    assert objection.forward_deadline.last_day == date(2027, 1, 5)
    assert len(objection.timeline) == steps


def test_a_calendar_without_any_year_still_decides_a_same_day_forward() -> None:
    world = World(calendar=WorkCalendar([]))
    objection = world.file(received_at=cst(2025, 3, 10, 9), forwarded_at=cst(2025, 3, 10, 17))
    assert objection.forward_timeliness is ForwardTimeliness.ON_TIME
    objection = world.file(
        received_at=cst(2025, 3, 3, 9), forwarded_at=cst(2025, 3, 10, 17), records=(world.market_record,)
    )
    assert objection.forward_timeliness is ForwardTimeliness.UNKNOWN


def test_forwarding_period_is_configurable() -> None:
    world = World(policy=ObjectionPolicy(forward_working_days=3))
    objection = world.file(received_at=cst(2025, 2, 7, 17), forwarded_at=cst(2025, 2, 11, 9))
    assert objection.forward_timeliness is ForwardTimeliness.ON_TIME


# --- clock 2 ---------------------------------------------------------------------------------------------------------


def test_handling_is_due_by_the_end_of_the_twentieth_calendar_day(world: World) -> None:
    objection = world.file()  # forwarded Tuesday 11 March 2025
    due = objection.handling_due
    assert due.last_day == date(2025, 3, 31)
    assert due.due_before == cst(2025, 4, 1, 0)
    assert not objection.is_overdue(cst(2025, 3, 31, 23, 59, 59))
    assert objection.is_overdue(cst(2025, 4, 1, 0))


def test_handling_period_counts_calendar_days_across_the_spring_festival(world: World) -> None:
    objection = world.file(received_at=cst(2026, 2, 12, 9), forwarded_at=cst(2026, 2, 13, 9))
    # Not moved by the holiday: 13 February + 20 days.
    assert objection.handling_due.last_day == date(2026, 3, 5)


def test_handling_period_is_configurable() -> None:
    world = World(policy=ObjectionPolicy(handling_days=15))
    objection = world.file()
    assert objection.handling_days == 15
    assert objection.handling_due.last_day == date(2025, 3, 26)


def test_resolved_on_the_last_day_is_on_time(world: World) -> None:
    objection = world.file()
    world.answer(objection, world.tax_record, Outcome.UPHELD, cst(2025, 3, 31, 23, 59, 59))
    assert objection.handled_on_time is True


def test_resolved_after_the_last_day_is_late(world: World) -> None:
    objection = world.file()
    assert objection.handled_on_time is None
    world.answer(objection, world.tax_record, Outcome.UPHELD, cst(2025, 4, 1, 0))
    assert objection.handled_on_time is False
    assert objection.timeline[-1].detail == {"handled_on_time": "false"}


def test_overdue_alert_is_raised_once(world: World) -> None:
    objection = world.file(records=(world.tax_record, world.market_record))
    world.answer(objection, world.market_record, Outcome.UPHELD, cst(2025, 3, 20))
    objection.pull_events()
    assert not objection.check_overdue(cst(2025, 3, 31, 23))
    assert objection.check_overdue(cst(2025, 4, 1, 0, 0, 1))
    assert objection.overdue_alerted_at == cst(2025, 4, 1, 0, 0, 1)
    alerts = [e for e in objection.pull_events() if isinstance(e, HandlingOverdue)]
    assert [(a.departments, a.due_before) for a in alerts] == [((TAX,), cst(2025, 4, 1, 0))]
    assert objection.timeline[-1].kind is TimelineKind.HANDLING_OVERDUE
    assert not objection.check_overdue(cst(2025, 4, 2))
    assert objection.pull_events() == []


def test_a_resolved_objection_is_never_overdue(world: World) -> None:
    objection = world.file()
    world.answer(objection, world.tax_record, Outcome.UPHELD, cst(2025, 3, 12))
    assert not objection.check_overdue(cst(2025, 6, 1))


def test_extension_with_a_recorded_reason_moves_the_due_date(world: World) -> None:
    objection = world.file()
    due = objection.extend(days=10, reason=" 需赴现场核实 ", by="operator-7", at=cst(2025, 3, 20), policy=world.policy)
    assert due.last_day == date(2025, 4, 10)
    assert objection.handling_due == due
    assert [(e.days, e.reason, e.by) for e in objection.extensions] == [(10, "需赴现场核实", "operator-7")]
    assert objection.timeline[-1].kind is TimelineKind.HANDLING_EXTENDED
    assert objection.timeline[-1].detail == {"days": "10", "reason": "需赴现场核实", "due_last_day": "2025-04-10"}
    assert not objection.check_overdue(cst(2025, 4, 5))
    world.answer(objection, world.tax_record, Outcome.UPHELD, cst(2025, 4, 10, 12))
    assert objection.handled_on_time is True


@pytest.mark.parametrize(
    ("days", "reason", "by", "field"),
    [(10, "   ", "operator-7", "reason"), (0, "check", "operator-7", "days"), (5, "check", " ", "by")],
)
def test_extension_needs_a_reason_days_and_who(world: World, days: int, reason: str, by: str, field: str) -> None:
    objection = world.file()
    with pytest.raises(InvalidArgument) as err:
        objection.extend(days=days, reason=reason, by=by, at=cst(2025, 3, 20), policy=world.policy)
    assert err.value.metadata["field"] == field
    assert objection.extensions == ()


def test_extension_reason_is_bounded(world: World) -> None:
    objection = world.file()
    with pytest.raises(InvalidArgument):
        objection.extend(days=1, reason="x" * 501, by="operator-7", at=cst(2025, 3, 20), policy=world.policy)


def test_extension_after_the_period_ran_out_is_refused(world: World) -> None:
    objection = world.file()
    with pytest.raises(FailedPrecondition) as err:
        objection.extend(days=5, reason="late check", by="operator-7", at=cst(2025, 4, 1), policy=world.policy)
    assert err.value.reason == "ERROR_REASON_OBJECTION_EXTENSION_REFUSED"
    assert err.value.metadata == {"problem": "overdue"}


def test_extensions_are_capped(world: World) -> None:
    objection = world.file()
    objection.extend(days=15, reason="on-site check", by="operator-7", at=cst(2025, 3, 20), policy=world.policy)
    with pytest.raises(FailedPrecondition) as err:
        objection.extend(days=6, reason="again", by="operator-7", at=cst(2025, 3, 21), policy=world.policy)
    assert err.value.metadata == {"problem": "cap", "remaining_days": "5"}
    objection.extend(days=5, reason="court ruling awaited", by="operator-7", at=cst(2025, 3, 21), policy=world.policy)
    assert objection.handling_due.last_day == date(2025, 4, 20)


def test_a_resolved_objection_cannot_be_extended(world: World) -> None:
    objection = world.file()
    world.answer(objection, world.tax_record, Outcome.UPHELD, cst(2025, 3, 12))
    with pytest.raises(FailedPrecondition) as err:
        objection.extend(days=5, reason="x", by="operator-7", at=cst(2025, 3, 13), policy=world.policy)
    assert err.value.reason == "ERROR_REASON_ILLEGAL_TRANSITION"
