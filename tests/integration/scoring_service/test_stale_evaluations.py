"""The scoring service in-process over SQLite or PostgreSQL (CREDITNODE_TEST_PG_URL): once its clock passes into a new
Asia/Shanghai day, the day's re-check changes the served evaluation of an enterprise whose penalty left the 24-month
window, with no record changing, and adds no row for an evaluation the new day leaves as it was."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from creditnode.scoring.v1 import scoring_service_pb2 as pb
from creditnode.scoring.v1 import scoring_service_pb2_grpc as pb_grpc
from services.scoring.main import build
from tests.conftest import fresh_database
from tests.integration.scoring_service.servers import Fakes, scoring_settings, start_fakes
from tests.integration.scoring_service.test_servicer import register, wait_evaluation

# 20:00 in Xi'an on 30 November 2026.
DAY_1 = datetime(2026, 11, 30, 12, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = DAY_1

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Scoring:
    stub: pb_grpc.ScoringServiceStub
    clock: Clock


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    f = start_fakes()
    yield f
    f.stop()


@pytest.fixture
def scoring(registry_server: str, fakes: Fakes, tmp_path: Path) -> Iterator[Scoring]:
    db = fresh_database(tmp_path, "scoring")
    url = next(db)
    clock = Clock()
    settings = scoring_settings(url, tmp_path, registry_server, fakes).model_copy(
        update={"recheck_interval_seconds": 0.05}
    )
    server = build(settings, configure_logs=False, clock=clock)
    channel = grpc.insecure_channel(server.address)
    try:
        yield Scoring(pb_grpc.ScoringServiceStub(channel), clock)
    finally:
        channel.close()
        server.stop(0)
        for _ in db:
            pass


def penalties(evaluation: pb.Evaluation) -> float:
    return next(c.value for c in evaluation.contributions if c.indicator == "penalties_24m")


def history(stub: pb_grpc.ScoringServiceStub, uscc: str) -> list[str]:
    got = stub.ListEvaluationHistory(pb.ListEvaluationHistoryRequest(enterprise=f"enterprises/{uscc}"))
    return [e.name for e in got.evaluations]


def wait(condition: object) -> None:
    """Poll until ``condition()`` holds (no timed assertion: the test timeout rules)."""
    while not condition():  # type: ignore[operator]
        threading.Event().wait(0.05)


def test_a_new_day_changes_the_served_evaluation_without_a_record_change_and_adds_nothing_when_unchanged(
    registry_server: str, fakes: Fakes, scoring: Scoring
) -> None:
    stub = scoring.stub
    uscc = register(registry_server)
    fakes.records.put(
        uscc,
        "r1",
        "REG_BASIC",
        datetime(2010, 1, 1, tzinfo=UTC),
        established_on=date(2010, 1, 1),
        registered_capital_yuan="20000000",
        status="ACTIVE",
    )
    # Decided on 1 December 2024: inside the last 24 months on 30 November 2026, outside them from 1 December.
    revision = fakes.records.put(
        uscc,
        "p1",
        "AMR_PENALTY",
        datetime(2024, 12, 1, tzinfo=UTC),
        decision_number="陕市监罚〔2024〕1号",
        decided_on=date(2024, 12, 1),
        penalty_type="罚款",
    )
    first = wait_evaluation(stub, uscc, revision)
    assert penalties(first) == 1
    assert first.as_of == "2026-11-30"
    before = history(stub, uscc)

    scoring.clock.now = DAY_1 + timedelta(days=1)

    def changed() -> bool:
        return penalties(wait_evaluation(stub, uscc, revision)) == 0

    wait(changed)
    second = wait_evaluation(stub, uscc, revision)
    assert second.name != first.name
    assert second.score > first.score
    assert second.record_revision == first.record_revision  # no record changed: the day did
    assert second.as_of == "2026-12-01"
    assert history(stub, uscc) == [second.name, *before]

    # Another day that changes nothing: the evaluation is shown current for it, and no row is added.
    scoring.clock.now = DAY_1 + timedelta(days=2)
    wait(lambda: wait_evaluation(stub, uscc, revision).as_of == "2026-12-02")
    third = wait_evaluation(stub, uscc, revision)
    assert third.name == second.name
    assert history(stub, uscc) == [second.name, *before]
