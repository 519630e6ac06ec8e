"""The store's part of the day's re-check, on SQLite or PostgreSQL and on the fake: the day an evaluation is current
for, moved only forward; enterprises due (records last evaluated before an instant), in code order; and the
baseline moved alone."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.kit.workdays import start_of_day
from services.scoring.domain.ports import EnterpriseState
from services.scoring.domain.records import Record
from tests.integration.scoring_service.test_store_conformance import (  # noqa: F401
    NOW,
    UowFactory,
    evaluation,
    uow,
)

A, B, C = "91610100MA6TEST001", "91610100MA6TEST002", "91610100MA6TEST003"


def test_an_evaluation_is_current_for_its_day_and_a_confirmation_only_moves_it_on(uow: UowFactory) -> None:  # noqa: F811
    with uow() as u:
        made = u.evaluations.add(A, evaluation(600), NOW, 3)  # 20:00 in Xi'an on 30 November
        u.commit()
    assert made.as_of == date(2026, 11, 30)
    with uow() as u:
        u.evaluations.confirm(made.evaluation_id, date(2026, 12, 2))
        u.evaluations.confirm(made.evaluation_id, date(2026, 12, 1))
        u.commit()
    with uow() as u:
        current = u.evaluations.current(A)
        assert current is not None
        assert (current.as_of, current.evaluated_at, current.evaluation) == (date(2026, 12, 2), NOW, made.evaluation)


def test_enterprises_due_for_the_recheck_are_the_active_ones_evaluated_before_an_instant(uow: UowFactory) -> None:  # noqa: F811
    record = Record("r1", "REG_BASIC", {"established_on": date(2010, 1, 1)}, NOW, 1)
    earlier = datetime(2026, 11, 29, 12, tzinfo=UTC)
    # The re-check asks for those before 30 November began in Xi'an (16:00 UTC the day before): B, at 01:00 there,
    # is not due (an instant compared as an instant, whatever its zone).
    today = start_of_day(date(2026, 11, 30))
    with uow() as u:
        u.enterprises.put(EnterpriseState(A, "xian", True, (record,), earlier, 5))
        u.enterprises.put(EnterpriseState(B, "xian", True, (), datetime(2026, 11, 29, 17, tzinfo=UTC), 6))
        u.enterprises.put(EnterpriseState(C, "xian", True, (), None, 0))
        u.enterprises.put(EnterpriseState("91610100MA6TEST000", "xian", False, (), earlier, 0))
        u.commit()
    with uow() as u:
        assert [e.uscc for e in u.enterprises.stale(today, "", 10)] == [A, C]
        assert [e.uscc for e in u.enterprises.stale(today, "", 1)] == [A]
        assert [e.uscc for e in u.enterprises.stale(today, A, 10)] == [C]
        u.enterprises.checked(A, NOW)
        u.commit()
    with uow() as u:
        assert [e.uscc for e in u.enterprises.stale(today, "", 10)] == [C]
        got = u.enterprises.get(A)
        assert got is not None
        assert (got.records, got.records_as_of, got.record_revision) == ((record,), NOW, 5)
