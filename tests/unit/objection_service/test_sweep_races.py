"""The sweep when a request changes an objection at the same moment: the lost race is retried, the rest goes on."""

from __future__ import annotations

from typing import Any

from services.kit.errors import Aborted
from services.objection import usecases
from services.objection.domain import Objection
from services.objection.usecases import Idempotency
from tests.unit.objection.fakes import World, cst
from tests.unit.objection_service.fakes import FakeUow, Store, lookups


class _LosesRaceOn(FakeUow):
    """A unit of work whose save of ``objection_id`` fails as a concurrent change would (the optimistic lock)."""

    def __init__(self, store: Store, objection_id: str) -> None:
        super().__init__(store)
        self.objection_id = objection_id

    def __enter__(self) -> _LosesRaceOn:
        super().__enter__()
        save = self.objections.save

        def save_or_abort(objection: Objection) -> None:
            if objection.id == self.objection_id:
                raise Aborted("ERROR_REASON_CONCURRENT_MODIFICATION", "a concurrent change won; re-read and retry")
            save(objection)

        self.objections.save = save_or_abort  # type: ignore[method-assign]
        return self


def test_a_sweep_that_loses_a_race_on_one_objection_still_reaches_the_others_and_retries_it_next_time() -> None:
    store, world = Store(), World()

    def file(**overrides: Any) -> Objection:
        command = world.command(**overrides)
        return usecases.file(
            lambda: FakeUow(store), lambda: FakeUow(store), lookups(world), command, Idempotency(), command.forwarded_at
        )

    first = file()
    second = file(records=(world.market_record,))
    late = cst(2025, 6, 1)
    racing = usecases.sweep(
        lambda: _LosesRaceOn(store, first.id), lambda: FakeUow(store), lookups(world), world.calendar, late
    )
    assert racing.overdue_alerted == 1  # the second objection, past the one whose save lost
    assert store.objections[second.id].overdue_alerted_at is not None
    assert store.objections[first.id].overdue_alerted_at is None
    calm = usecases.sweep(lambda: FakeUow(store), lambda: FakeUow(store), lookups(world), world.calendar, late)
    assert calm.overdue_alerted == 1
    assert store.objections[first.id].overdue_alerted_at is not None
