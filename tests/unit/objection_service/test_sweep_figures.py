"""The figures the objection alert rules watch are set by the periodic sweep, each whatever became of the others."""

from __future__ import annotations

from datetime import date
from typing import Any, Self

import pytest
from prometheus_client import REGISTRY

from services.kit.errors import Unavailable
from services.kit.metrics import CALENDAR_NEXT_YEAR, OBJECTION_EVENTS_REFUSED
from services.objection.main import NAME, _sweep_and_measure
from tests.unit.objection.fakes import World
from tests.unit.objection_service.fakes import FakeUow, Store, lookups


def _calendar_gauge() -> float | None:
    return REGISTRY.get_sample_value("creditnode_calendar_next_year_loaded", {"service": NAME})


def _refused_gauge() -> float | None:
    return REGISTRY.get_sample_value("creditnode_objection_events_refused", {"service": NAME})


def _database_down() -> Any:
    raise Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", "the database is unavailable", {})


class _RefusedCount:
    def __init__(self, refused: int) -> None:
        self.refused = refused

    def count(self, state: str) -> int:
        return self.refused if state == "REFUSED" else 0


class _Reader(FakeUow):
    """A reader whose outbox holds ``refused`` events a consumer refused for good."""

    def __init__(self, store: Store, refused: int) -> None:
        super().__init__(store)
        self.refused = refused

    def __enter__(self) -> Self:
        super().__enter__()
        self.outbox = _RefusedCount(self.refused)
        return self


def test_the_calendar_gauge_is_set_while_the_database_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    # Down from start-up, nothing read from it is ever measured: the calendar, which needs no database, must still be,
    # or the "holiday calendar missing" alerts would watch a gauge that says nothing of the calendar.
    world = World()
    monkeypatch.setattr(world.calendar, "alert_ready", lambda today: True)
    CALENDAR_NEXT_YEAR.labels(NAME).set(0)
    with pytest.raises(Unavailable):
        _sweep_and_measure(_database_down, _database_down, lookups(world), world.calendar)
    assert _calendar_gauge() == 1


def test_the_refused_events_gauge_is_set_when_the_calendar_check_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    world = World()
    store = Store()

    def broken(today: date) -> bool:
        raise RuntimeError("calendar bug")

    monkeypatch.setattr(world.calendar, "alert_ready", broken)
    OBJECTION_EVENTS_REFUSED.labels(NAME).set(0)
    with pytest.raises(RuntimeError, match="calendar bug"):  # still reported (the periodic job logs it)
        _sweep_and_measure(lambda: FakeUow(store), lambda: _Reader(store, 3), lookups(world), world.calendar)
    assert _refused_gauge() == 3
