"""Records past their publicity period (公示期) are not scored: not counted, not named as evidence, no alert."""

from __future__ import annotations

from datetime import date, timedelta

from services.scoring.domain.engine import assess
from services.scoring.domain.model import Model
from services.scoring.domain.records import by_item
from services.scoring.domain.risk import detect_risks, snapshot
from tests.unit.scoring.builders import AS_OF, Records

PENALTY = {"decision_number": "d", "penalty_type": "罚款", "amount_yuan": 5000, "authority": "a"}


def test_a_record_counts_until_the_first_instant_of_its_publicity_end(records: Records) -> None:
    running = records.add("AMR_PENALTY", date(2026, 1, 1), publicity_end=AS_OF + timedelta(microseconds=1))
    records.add("AMR_PENALTY", date(2026, 1, 1), publicity_end=AS_OF)
    no_period = records.add("AMR_PENALTY", date(2026, 1, 1))
    assert [r.record_id for r in by_item(records.items, AS_OF)["AMR_PENALTY"]] == [
        running.record_id,
        no_period.record_id,
    ]


def test_an_earlier_version_does_not_stand_in_for_a_current_one_past_its_publicity(records: Records) -> None:
    # A correction (version 2) under a list version with a shorter period: the record's publication is over, and
    # version 1, whose own end is still ahead, must not be scored in its place.
    first = records.add("AMR_PENALTY", date(2026, 1, 1), publicity_end=AS_OF + timedelta(days=30), **PENALTY)
    records.add("AMR_PENALTY", date(2026, 1, 1), record_id=first.record_id, version=2, publicity_end=AS_OF, **PENALTY)
    assert by_item(records.items, AS_OF) == {}
    assert [(r.record_id, r.version) for r in by_item(records.items, AS_OF - timedelta(days=1))["AMR_PENALTY"]] == [
        (first.record_id, 2)
    ]


def test_a_penalty_past_its_publicity_is_not_counted_nor_named(model: Model, records: Records) -> None:
    # Decided within the indicator's 24 months, but its (shortened) publicity period is over.
    expired = records.add(
        "AMR_PENALTY", date(2026, 2, 1), publicity_end=AS_OF - timedelta(days=1), decided_on=date(2026, 2, 1), **PENALTY
    )
    shown = records.add(
        "AMR_PENALTY", date(2026, 3, 1), publicity_end=AS_OF + timedelta(days=1), decided_on=date(2026, 3, 1), **PENALTY
    )
    penalties = next(
        c for c in assess(model, records.items, AS_OF).evaluation.contributions if c.indicator == "penalties_24m"
    )
    assert penalties.value == 1
    assert [r.record_id for r in penalties.evidence] == [shown.record_id]
    assert expired.record_id not in {r.record_id for r in penalties.evidence}


def test_a_listing_past_its_publicity_no_longer_counts_as_active(model: Model, records: Records) -> None:
    records.add(
        "AMR_SERIOUS_VIOLATION",
        date(2023, 6, 1),
        publicity_end=AS_OF - timedelta(hours=1),
        decision_number="d",
        listed_on=date(2023, 6, 1),
        reason="r",
    )
    active = next(
        c
        for c in assess(model, records.items, AS_OF).evaluation.contributions
        if c.indicator == "dishonesty_listings_active"
    )
    before = next(
        c
        for c in assess(model, records.items, AS_OF - timedelta(days=1)).evaluation.contributions
        if c.indicator == "dishonesty_listings_active"
    )
    assert (before.value, active.value) == (1, 0)


def test_a_penalty_arriving_after_its_publicity_ended_raises_no_alert(model: Model, records: Records) -> None:
    records.add("AMR_PENALTY", date(2026, 1, 1), publicity_end=AS_OF + timedelta(days=1), **PENALTY)
    previous = snapshot(model, records.items, AS_OF)
    # A department's late delivery of a penalty whose publicity is already over: nothing to tell a lender.
    records.add("AMR_PENALTY", date(2022, 1, 1), publicity_end=AS_OF - timedelta(days=1), **PENALTY)
    current = snapshot(model, records.items, AS_OF)
    assert detect_risks(model, previous, current) == []
    # One still within its period is told.
    records.add("AMR_PENALTY", date(2026, 6, 1), publicity_end=AS_OF + timedelta(days=1), **PENALTY)
    assert [e.risk for e in detect_risks(model, previous, snapshot(model, records.items, AS_OF))] == ["PENALTY"]
