"""Evaluation objections through the use cases and the outbox: the scoring team answers and sees its queue, events about
evaluations go to scoring's handlers and events about records to the registry's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from services.kit.errors import PermissionDenied
from services.objection import usecases
from services.objection.background import DONE, Dispatcher, by_target
from services.objection.domain import EVALUATION_HANDLER, EvaluationRef, ObjectionFilter, ObjectionStatus, Outcome
from services.objection.usecases import Idempotency
from tests.unit.objection.fakes import ACME, TAX, World, bank, cst
from tests.unit.objection_service.fakes import FakeUow, OutboxUow, Store, lookups

OWN = f"enterprises/{ACME}/evaluations/7"


@pytest.fixture
def world() -> World:
    w = World()
    w.evaluations.add(OWN, ACME)
    return w


@pytest.fixture
def store() -> Store:
    return Store()


def _file(world: World, store: Store) -> Any:
    command = world.command(records=(), evaluation=EvaluationRef(OWN))
    return usecases.file(
        lambda: FakeUow(store), lambda: FakeUow(store), lookups(world), command, Idempotency(), command.forwarded_at
    )


def _answer(world: World, store: Store, objection_id: str, department: str, outcome: Outcome) -> Any:
    return usecases.answer(
        lambda: FakeUow(store),
        lookups(world),
        objection_id,
        department=department,
        target=EvaluationRef(OWN),
        outcome=outcome,
        corrected_version=None,
        idem=Idempotency(),
        now=cst(2025, 3, 12),
    )


def test_the_scoring_team_answers_sees_and_lists_evaluation_objections(world: World, store: Store) -> None:
    world.disclosures.disclose(bank(), ACME, "evaluation", cst(2025, 3, 10, 12))
    objection = _file(world, store)
    reader = lambda: FakeUow(store)  # noqa: E731
    assert usecases.get(reader, objection.id, EVALUATION_HANDLER).id == objection.id
    with pytest.raises(PermissionDenied):
        usecases.get(reader, objection.id, TAX)
    queue = usecases.list_objections(reader, ObjectionFilter(department=EVALUATION_HANDLER), None, 10, cst(2025, 3, 11))
    assert [o.id for o in queue.objections] == [objection.id]
    with pytest.raises(PermissionDenied):
        _answer(world, store, objection.id, TAX, Outcome.CORRECTED)
    done = _answer(world, store, objection.id, EVALUATION_HANDLER, Outcome.CORRECTED)
    assert done.status is ObjectionStatus.RESOLVED
    types = store.event_types()
    assert {"DisputeFlagRaised", "DisputeFlagCleared", "ReevaluationRequested"} <= set(types)
    assert "RecordCorrected" not in types
    assert [n.recipient for n in store.notices] == [bank()]
    assert store.open_keys == {}


def test_the_dispatcher_sends_evaluation_events_to_scoring_and_record_events_to_the_registry(
    world: World, store: Store
) -> None:
    _file(world, store)  # an evaluation target
    command = world.command()
    usecases.file(
        lambda: FakeUow(store), lambda: FakeUow(store), lookups(world), command, Idempotency(), command.forwarded_at
    )
    seen: list[tuple[str, str]] = []

    def to(where: str) -> Any:
        def handle(payload: Mapping[str, Any]) -> str:
            seen.append((where, str(payload["target"])))
            return DONE

        return handle

    dispatcher = Dispatcher(
        lambda: OutboxUow(store),
        {"DisputeFlagRaised": by_target(to("registry"), to("scoring"))},
        lambda: cst(2025, 3, 11, 12),
    )
    dispatcher.run_once()
    assert sorted(where for where, _ in seen) == ["registry", "scoring"]
    assert [target for where, target in seen if where == "scoring"] == [str({"evaluation_id": OWN})]
