"""Post-loan monitoring: risk events between two states, with reasons, evidence and replay-safe keys."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from services.scoring.domain.model import Model
from services.scoring.domain.risk import detect_risks, snapshot
from tests.unit.scoring.builders import AS_OF, Records, months

LATER = AS_OF + timedelta(days=1)


def healthy(records: Records) -> None:
    records.add(
        "REG_BASIC", established_on=date(2010, 1, 1), status="ACTIVE", registered_capital_yuan=Decimal(10_000_000)
    )
    records.add("TAX_CREDIT_GRADE", year=2025, grade="A")
    records.monthly("TAX_PAYMENT", months("2024-11", 24), tax_paid_yuan=Decimal(5000))
    records.add(
        "UTIL_ELECTRICITY", period="2026-10", amount_due_yuan=Decimal(1), amount_paid_yuan=Decimal(1), arrears_months=0
    )


def test_nothing_new_raises_nothing(model: Model, records: Records) -> None:
    healthy(records)
    before = snapshot(model, records.items, AS_OF)
    assert detect_risks(model, before, snapshot(model, records.items, LATER)) == []


def test_a_new_enforcement_case_is_an_alert_with_its_evidence(model: Model, records: Records) -> None:
    healthy(records)
    before = snapshot(model, records.items, AS_OF)
    case = records.add("COURT_ENFORCEMENT", LATER, case_number="k", filed_on=date(2026, 11, 30), status="OPEN")
    events = detect_risks(model, before, snapshot(model, records.items, LATER))
    enforcement = [e for e in events if e.risk == "NEW_ENFORCEMENT"]
    assert len(enforcement) == 1
    assert enforcement[0].severity == "HIGH"
    assert [(r.record_id, r.version) for r in enforcement[0].evidence] == [(case.record_id, 1)]
    assert "COURT_ENFORCEMENT" in enforcement[0].reason
    assert enforcement[0].key == f"NEW_ENFORCEMENT:{case.record_id}@1"


def test_replaying_the_same_change_gives_the_same_keys(model: Model, records: Records) -> None:
    healthy(records)
    before = snapshot(model, records.items, AS_OF)
    records.add(
        "AMR_PENALTY",
        LATER,
        decision_number="p",
        decided_on=date(2026, 11, 30),
        penalty_type="罚款",
        amount_yuan=Decimal(1000),
        authority="a",
    )
    after = snapshot(model, records.items, LATER)
    first = detect_risks(model, before, after)
    assert [e.key for e in first] == [e.key for e in detect_risks(model, before, after)]
    assert "PENALTY" in {e.risk for e in first}


def test_a_cleared_arrears_record_raises_nothing_and_a_reopened_one_does(model: Model, records: Records) -> None:
    healthy(records)
    records.add(
        "TAX_ARREARS",
        record_id="t",
        tax_type="VAT",
        amount_yuan=Decimal(9),
        announced_on=date(2026, 1, 1),
        cleared=False,
    )
    before = snapshot(model, records.items, AS_OF)
    records.add(
        "TAX_ARREARS",
        LATER,
        record_id="t",
        version=2,
        tax_type="VAT",
        amount_yuan=Decimal(9),
        announced_on=date(2026, 1, 1),
        cleared=True,
    )
    cleared = snapshot(model, records.items, LATER)
    assert [e.risk for e in detect_risks(model, before, cleared)] == []
    records.add(
        "TAX_ARREARS",
        LATER + timedelta(days=1),
        record_id="t",
        version=3,
        tax_type="VAT",
        amount_yuan=Decimal(9),
        announced_on=date(2026, 1, 1),
        cleared=False,
    )
    reopened = snapshot(model, records.items, LATER + timedelta(days=2))
    events = [e for e in detect_risks(model, cleared, reopened) if e.risk == "TAX_ARREARS"]
    assert [[(r.record_id, r.version) for r in e.evidence] for e in events] == [[("t", 2), ("t", 3)]]


def test_a_dishonesty_listing_brings_the_flag_a_downgrade_and_a_score_drop(model: Model, records: Records) -> None:
    healthy(records)
    before = snapshot(model, records.items, AS_OF)
    listing = records.add("COURT_DISHONEST_DEBTOR", LATER, case_number="k", listed_on=date(2026, 11, 30))
    events = detect_risks(model, before, snapshot(model, records.items, LATER))
    risks = {e.risk: e for e in events}
    assert {"DISHONESTY_LISTING", "GRADE_DOWNGRADE", "SCORE_DROP"} <= set(risks)
    assert all(e.flags == ("DISHONEST_JUDGMENT_DEBTOR",) for e in events)
    assert [r.record_id for r in risks["SCORE_DROP"].evidence] == [listing.record_id]
    assert "to CCC" in risks["GRADE_DOWNGRADE"].reason


def test_utility_arrears_alert_when_they_reach_the_threshold(model: Model, records: Records) -> None:
    healthy(records)
    records.add(
        "UTIL_WATER", period="2026-10", amount_due_yuan=Decimal(5), amount_paid_yuan=Decimal(0), arrears_months=1
    )
    before = snapshot(model, records.items, AS_OF)
    records.add(
        "UTIL_WATER", LATER, period="2026-11", amount_due_yuan=Decimal(5), amount_paid_yuan=Decimal(0), arrears_months=2
    )
    after = snapshot(model, records.items, date_time := AS_OF + timedelta(days=32))
    assert date_time.month == 1  # the 2026-11 period counts from January (one month's lag)
    events = [e for e in detect_risks(model, before, after) if e.risk == "UTILITY_ARREARS"]
    assert len(events) == 1
    assert "now 2" in events[0].reason


def test_scores_under_different_model_versions_are_not_compared(model: Model, records: Records) -> None:
    healthy(records)
    before = snapshot(model, records.items, AS_OF)
    records.add("COURT_DISHONEST_DEBTOR", LATER, case_number="k", listed_on=date(2026, 11, 30))
    after = snapshot(model, records.items, LATER)
    relabelled = replace(
        before,
        assessment=replace(
            before.assessment, evaluation=replace(before.assessment.evaluation, model_version="basic-v0")
        ),
    )
    risks = {e.risk for e in detect_risks(model, relabelled, after)}
    assert "SCORE_DROP" not in risks
    assert "DISHONESTY_LISTING" in risks


def test_the_same_drop_again_on_another_day_with_no_record_changed_is_a_new_event(
    model: Model, records: Records
) -> None:
    # The day's re-check compares two states of the same records (the same revision): a listing active from 4 to
    # 6 December, another from 8 December. Both drops have the same scores and no changed record; the second is
    # still news to the lender.
    healthy(records)
    records.add(
        "COURT_DISHONEST_DEBTOR", AS_OF, case_number="k1", listed_on=date(2026, 12, 4), removed_on=date(2026, 12, 6)
    )
    records.add("COURT_DISHONEST_DEBTOR", AS_OF, case_number="k2", listed_on=date(2026, 12, 8))

    def drops(first_day: int) -> set[str]:
        before = snapshot(model, records.items, AS_OF + timedelta(days=first_day), revision=7)
        after = snapshot(model, records.items, AS_OF + timedelta(days=first_day + 2), revision=7)
        events = detect_risks(model, before, after)
        return {e.key for e in events if e.risk in ("SCORE_DROP", "GRADE_DOWNGRADE")}

    first, second = drops(3), drops(7)  # 3 -> 5 December, then 7 -> 9 December
    assert len(first) == len(second) == 2
    assert first.isdisjoint(second)
    assert drops(3) == first  # the same comparison again (a replay) keeps its keys
