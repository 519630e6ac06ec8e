"""Evaluations do not outlive their day: the daily re-check re-evaluates from the stored records once the
Asia/Shanghai day has turned, appending only when something changed, raising time-driven alerts once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.scoring import usecases
from services.scoring.data import model_text
from services.scoring.domain.records import Record
from tests.unit.scoring_service.fakes import FakeConsent, FakeRecordSource, FakeUnitOfWork, Store
from tests.unit.scoring_service.test_usecases import USCC, loan, reg_basic

# 20:00 in Xi'an on 30 November 2026; a day later is 1 December there.
DAY_1 = datetime(2026, 11, 30, 12, tzinfo=UTC)
DAY_2 = DAY_1 + timedelta(days=1)
OTHER = "91610100MA6TEST002"


@dataclass
class Clock:
    now: datetime = DAY_1

    def __call__(self) -> datetime:
        return self.now


World = tuple[usecases.Scoring, Store, FakeRecordSource, FakeConsent, Clock]


@pytest.fixture
def world() -> World:
    store, records, consent, clock = Store(), FakeRecordSource(), FakeConsent(), Clock()
    sc = usecases.Scoring(
        writer=lambda: FakeUnitOfWork(store),
        reader=lambda: FakeUnitOfWork(store),
        records=records,
        consent=consent,
        clock=clock,
    )
    usecases.ensure_model(sc, model_text())
    return sc, store, records, consent, clock


def penalty(record_id: str, decided_on: date) -> Record:
    fields = {"decision_number": record_id, "decided_on": decided_on, "penalty_type": "罚款"}
    return Record(
        record_id, "AMR_PENALTY", fields, datetime(decided_on.year, decided_on.month, decided_on.day, tzinfo=UTC)
    )


def water(record_id: str, period: str, arrears_months: int) -> Record:
    fields = {
        "period": period,
        "amount_due_yuan": Decimal(5),
        "amount_paid_yuan": Decimal(0),
        "arrears_months": arrears_months,
    }
    return Record(record_id, "UTIL_WATER", fields, DAY_1 - timedelta(hours=1))


def value(sc: usecases.Scoring, uscc: str, indicator: str) -> float | None:
    got = usecases.get_evaluation(sc, uscc).evaluation
    return next(c.value for c in got.contributions if c.indicator == indicator)


def evaluated(sc: usecases.Scoring, store: Store, records: FakeRecordSource, uscc: str, *adds: Record) -> None:
    usecases.on_enterprise(sc, uscc, "xian", True)
    for record in adds:
        usecases.on_record_change(sc, uscc, records.add(uscc, record))


def test_a_penalty_leaving_its_window_changes_the_evaluation_the_next_day(world: World) -> None:
    sc, store, records, _, clock = world
    # Decided on 1 December 2024: inside the last 24 months on 30 November 2026, outside them from 1 December.
    evaluated(sc, store, records, USCC, reg_basic("r"), penalty("p1", date(2024, 12, 1)))
    before = usecases.get_evaluation(sc, USCC)
    assert value(sc, USCC, "penalties_24m") == 1
    assert before.as_of == date(2026, 11, 30)
    calls = records.calls

    clock.now = DAY_2
    usecases.sweep_stale(sc)

    after = usecases.get_evaluation(sc, USCC)
    assert value(sc, USCC, "penalties_24m") == 0
    assert after.evaluation_id != before.evaluation_id
    assert after.evaluation.score > before.evaluation.score
    assert after.as_of == date(2026, 12, 1)
    assert after.record_revision == before.record_revision  # no record changed: the day did
    assert records.calls == calls  # from the stored records: the record watch keeps them current


def test_an_evaluation_the_new_day_leaves_unchanged_adds_no_row_and_is_marked_current_for_it(world: World) -> None:
    sc, store, records, _, clock = world
    evaluated(sc, store, records, USCC, reg_basic("r"), penalty("p1", date(2026, 1, 1)))
    before = usecases.get_evaluation(sc, USCC)
    count = len(store.evaluations)

    clock.now = DAY_2
    assert usecases.sweep_stale(sc).examined == 1
    after = usecases.get_evaluation(sc, USCC)
    assert len(store.evaluations) == count
    assert after.evaluation_id == before.evaluation_id
    assert after.as_of == date(2026, 12, 1)
    assert after.evaluated_at == before.evaluated_at  # when it was made stays as it was
    # The years in business grew by a day; their bin did not: no new row for that alone.
    assert usecases.sweep_stale(sc).examined == 0  # done for the day


def test_the_recheck_works_in_bounded_rounds_and_resumes_after_a_restart(world: World) -> None:
    sc, store, records, _, clock = world
    evaluated(sc, store, records, USCC, reg_basic("r"), penalty("p1", date(2024, 12, 1)))
    evaluated(sc, store, records, OTHER, penalty("p2", date(2024, 12, 1)))
    count = len(store.evaluations)
    clock.now = DAY_2

    first = usecases.sweep_stale(sc, limit=1)
    assert (first.examined, first.added) == (1, 1)
    # A restarted replica keeps no cursor: what is left is found from the store, and the one done is not redone.
    again = usecases.sweep_stale(sc, limit=1)
    assert (again.examined, again.added) == (1, 1)
    assert usecases.sweep_stale(sc, limit=1).examined == 0
    assert len(store.evaluations) == count + 2
    assert value(sc, USCC, "penalties_24m") == 0
    assert value(sc, OTHER, "penalties_24m") == 0


def test_a_condition_the_new_day_brings_raises_its_alert_once(world: World) -> None:
    sc, store, records, consent, clock = world
    # November's water arrears count from December (monthly data for M arrives in M+1).
    evaluated(sc, store, records, USCC, reg_basic("r"), water("w1", "2026-11", 2))
    loan(sc)
    consent.allowed.add(("bank-a", USCC))
    assert value(sc, USCC, "utility_arrears_months") is None

    clock.now = DAY_2
    assert usecases.sweep_stale(sc).alerts >= 1
    assert usecases.sweep_stale(sc).examined == 0
    clock.now = DAY_2 + timedelta(days=1)
    usecases.sweep_stale(sc)
    # A record change later compares with the state the re-check alerted on, not the one of the first day.
    usecases.on_record_change(sc, USCC, records.add(USCC, reg_basic("r2")))
    alerts, _ = usecases.deliverable_alerts(sc, "bank-a", 0, 100)
    assert [a.risk for a in alerts].count("UTILITY_ARREARS") == 1
    assert value(sc, USCC, "utility_arrears_months") == 2


def test_two_replicas_rechecking_one_enterprise_at_once_append_once_and_alert_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    sc, store, records, consent, clock = world
    evaluated(sc, store, records, USCC, reg_basic("r"), water("w1", "2026-11", 2), penalty("p1", date(2024, 12, 1)))
    loan(sc)
    consent.allowed.add(("bank-a", USCC))
    count = len(store.evaluations)
    clock.now = DAY_2
    check = consent.check

    def check_while_the_other_replica_works(institution_id: str, uscc: str, items: object):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(consent, "check", check)
        usecases.sweep_stale(sc)  # the other replica, all the way to its commit
        return check(institution_id, uscc, items)  # type: ignore[arg-type]

    monkeypatch.setattr(consent, "check", check_while_the_other_replica_works)
    usecases.sweep_stale(sc)
    assert len(store.evaluations) == count + 1
    alerts, _ = usecases.deliverable_alerts(sc, "bank-a", 0, 100)
    assert [a.risk for a in alerts].count("UTILITY_ARREARS") == 1


def test_a_removed_enterprise_is_not_rechecked(world: World) -> None:
    sc, store, records, _, clock = world
    evaluated(sc, store, records, USCC, penalty("p1", date(2024, 12, 1)))
    usecases.on_enterprise(sc, USCC, "", False)
    count = len(store.evaluations)
    clock.now = DAY_2
    assert usecases.sweep_stale(sc).examined == 0
    assert len(store.evaluations) == count


def test_a_record_change_handled_during_the_recheck_stays_current(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The record watch handles a new record while the re-check asks consent: the re-check, working from the records
    # it read before, must not append an evaluation of them over the newer one.
    sc, store, records, consent, clock = world
    evaluated(sc, store, records, USCC, reg_basic("r"), water("w1", "2026-11", 2))
    loan(sc)
    consent.allowed.add(("bank-a", USCC))
    clock.now = DAY_2
    check = consent.check

    def check_while_a_record_changes(institution_id: str, uscc: str, items: object):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(consent, "check", check)
        usecases.on_record_change(sc, USCC, records.add(USCC, penalty("p9", date(2026, 11, 1))))
        return check(institution_id, uscc, items)  # type: ignore[arg-type]

    monkeypatch.setattr(consent, "check", check_while_a_record_changes)
    usecases.sweep_stale(sc)
    assert value(sc, USCC, "penalties_24m") == 1
    alerts, _ = usecases.deliverable_alerts(sc, "bank-a", 0, 100)
    assert [a.risk for a in alerts].count("UTILITY_ARREARS") == 1
