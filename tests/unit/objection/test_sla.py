"""Supervision figures over objections, and the listing filter."""

from __future__ import annotations

from datetime import datetime

import pytest

from services.objection.domain import (
    ForwardTimeliness,
    ObjectionFilter,
    ObjectionStatus,
    Outcome,
    Share,
    SlaFacts,
    sla_figures,
)
from tests.unit.objection.fakes import ACME, MARKET, PLATFORM, TAX, World, cst


def facts(
    timeliness: ForwardTimeliness,
    received_at: datetime,
    forwarded_at: datetime,
    resolved_at: datetime | None,
    due_before: datetime,
) -> SlaFacts:
    return SlaFacts(timeliness, received_at, forwarded_at, resolved_at, due_before)


def test_figures_over_a_mixed_set() -> None:
    due = cst(2025, 4, 1, 0)
    rows = [
        # forwarded on time after 1 day, handled in 4 days
        facts(ForwardTimeliness.ON_TIME, cst(2025, 3, 10), cst(2025, 3, 11), cst(2025, 3, 15), due),
        # forwarded late after 5 days, handled late in 22 days
        facts(ForwardTimeliness.LATE, cst(2025, 3, 6), cst(2025, 3, 11), cst(2025, 4, 2), due),
        # forwarded on time after half a day, still open and overdue
        facts(ForwardTimeliness.ON_TIME, cst(2025, 3, 10, 0), cst(2025, 3, 10, 12), None, due),
        # timeliness unknown (calendar missing), open and not yet due
        facts(ForwardTimeliness.UNKNOWN, cst(2025, 3, 10), cst(2025, 3, 12), None, cst(2025, 4, 9, 0)),
        # forwarded on time after 2 days, handled in 10 days
        facts(ForwardTimeliness.ON_TIME, cst(2025, 3, 9), cst(2025, 3, 11), cst(2025, 3, 21), due),
    ]
    figures = sla_figures(rows, now=cst(2025, 4, 3))
    assert figures.objections == 5
    assert figures.open == 2
    assert figures.overdue == 1
    assert figures.forwarded_on_time == Share(3, 4)
    assert figures.forwarded_on_time.ratio == 0.75
    assert figures.forwarding_unknown == 1
    # decided: 3 resolved (2 in time) + 1 open overdue
    assert figures.handled_on_time == Share(2, 4)
    assert figures.median_forwarding_days == 2.0  # of 1, 5, 0.5, 2, 2
    assert figures.median_handling_days == 10.0  # of 4, 22, 10


def test_figures_over_nothing_divide_by_nothing() -> None:
    figures = sla_figures([], now=cst(2025, 4, 3))
    assert figures.objections == 0
    assert figures.forwarded_on_time.ratio is None
    assert figures.handled_on_time.ratio is None
    assert figures.median_forwarding_days is None
    assert figures.median_handling_days is None


def test_figures_from_aggregates() -> None:
    world = World()
    on_time = world.file()
    late = world.file(records=(world.market_record,), received_at=cst(2025, 3, 3), forwarded_at=cst(2025, 3, 11, 9))
    world.answer(on_time, world.tax_record, Outcome.UPHELD, cst(2025, 3, 16, 9))
    figures = sla_figures((o.sla_facts() for o in world.objections), now=cst(2025, 3, 20))
    assert late.forward_timeliness is ForwardTimeliness.LATE
    assert figures.forwarded_on_time == Share(1, 2)
    assert figures.handled_on_time == Share(1, 1)
    assert figures.median_handling_days == 5.0
    assert figures.open == 1
    assert figures.overdue == 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (ObjectionFilter(), {"obj-1", "obj-2"}),
        (ObjectionFilter(status=ObjectionStatus.RESOLVED), {"obj-1"}),
        (ObjectionFilter(status=ObjectionStatus.ROUTED), {"obj-2"}),
        (ObjectionFilter(platform=PLATFORM), {"obj-1", "obj-2"}),
        (ObjectionFilter(platform="platforms/baoji"), set()),
        (ObjectionFilter(department=TAX), {"obj-1"}),
        (ObjectionFilter(department=MARKET, status=ObjectionStatus.ROUTED), {"obj-2"}),
        (ObjectionFilter(enterprise=ACME), {"obj-1", "obj-2"}),
    ],
)
def test_supervisors_list_by_status_platform_and_department(query: ObjectionFilter, expected: set[str]) -> None:
    world = World()
    first = world.file()
    world.file(records=(world.market_record,))
    world.answer(first, world.tax_record, Outcome.UPHELD, cst(2025, 3, 12))
    assert {o.id for o in world.objections if query.matches(o)} == expected
